"""What the mirror publishes about itself (layer 3, pure): manifest, key, sitemap, robots, feed.

- ``/pith-mirrors.json``: this mirror in the registry manifest's shape
  (``pith_mirror_manifest`` 1.0), so another mirror can ``pull`` from it.
- ``/pith-signing-key.json``: a copy of a trusted key object. With several trusted
  keys it holds the *current* one: the key with the latest ``not_before`` (a key
  without one counts as oldest), ties broken by the greater ``key_id``. Every trusted
  key is listed in the manifest's ``public_keys`` and under ``/keys/``.
- ``/robots.txt``, ``/sitemap.xml`` (a sitemap index of parts under ``/sitemaps/``, keyed so a new
  paper changes only its own parts; see ``_sitemaps``) and ``/feed.xml``, an Atom feed of the
  newest ``feed_entries`` verified papers, each entry carrying its canonical SHA-256.

Sitemaps and feeds need absolute URLs. When ``base_url`` is only a path, they are not
written, ``robots.txt`` names no sitemap, the manifest's URL patterns are paths (a
client resolves them against the manifest's own URL), and the build warns.

Nothing here reads the clock: ``updated`` and ``generated_at`` are the newest paper's
submission time, so the output depends only on the inputs.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol
from urllib.parse import quote

from sitegen.pith.keys import Keyring
from sitegen.pith.model import RegistryKey
from sitegen.pith.report import Verdict
from sitegen.render.search_index import Searchable
from sitegen.render.templates import json_bytes
from sitegen.render.xmlbytes import xml_bytes, xml_safe
from sitegen.site.config import SiteConfig
from sitegen.site.manifest_bins import prefix_length

__all__ = [
    "MANIFEST_FILE",
    "SIGNING_KEY_FILE",
    "FeedPaper",
    "MadeFile",
    "MirrorFile",
    "current_key",
    "mirror_files",
    "no_host_warning",
    "state_pattern",
]

MANIFEST_FILE = "pith-mirrors.json"
SIGNING_KEY_FILE = "pith-signing-key.json"
SITEMAP_DIR = "sitemaps"
_ATOM = "http://www.w3.org/2005/Atom"
_SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
_EPOCH = "1970-01-01T00:00:00Z"
_YEAR = re.compile(r"[0-9]{4}")


class FeedPaper(Searchable, Protocol):
    """What the feed and sitemap need of a paper: the search index's fields and two more."""

    @property
    def primary_cat(self) -> str: ...
    @property
    def canonical_sha256(self) -> str: ...


def current_key(keyring: Keyring) -> RegistryKey | None:
    """The key ``/pith-signing-key.json`` republishes (see the module docstring), or None."""
    if not keyring.keys:
        return None
    return max(keyring.keys, key=lambda k: (k.not_before is not None, k.not_before or 0, k.key_id))


def _base(config: SiteConfig) -> str:
    """The site's base without its final ``/``: absolute when it names a host, else a path."""
    return (config.absolute_base or config.base_path).rstrip("/")


def state_pattern(base: str) -> str:
    """The URL pattern of a paper's state file under ``base`` (the registry's layout)."""
    return f"{base}/pith/{{suffix}}/state.json"


def no_host_warning(config: SiteConfig) -> str | None:
    """The warning a build gives when ``base_url`` has no host, else None."""
    if config.absolute_base is not None:
        return None
    return (
        f"site.yaml: base_url: site.absolute_url: {config.base_url!r} names no host, so "
        "sitemap.xml and feed.xml are not written and pith-mirrors.json has path-only URLs; "
        "set base_url to https://your.host/path/"
    )


def _manifest(config: SiteConfig, keyring: Keyring, ordered: Sequence[FeedPaper]) -> bytes:
    base = _base(config)
    key = current_key(keyring)
    mirror: dict[str, object] = {
        "name": config.title,
        "mirror_type": "https" if base.startswith("https://") else "http" if "://" in base else "path",
        "base_url": base or "/",
        "state_pattern": state_pattern(base),
        "page_pattern": f"{base}/pith/{{suffix}}/",
        "verification_pattern": f"{base}/pith/{{suffix}}/verification.json",
        "public_key": dict(key.document) if key else None,
        "public_keys": [dict(k.document) for k in keyring.keys],
        "status": "mirror",
        "upstream": config.registry_url,
    }
    return json_bytes(
        {
            "manifest_type": "pith_mirror_manifest",
            "manifest_version": "1.0",
            "generated_at": ordered[0].submitted_at if ordered else None,
            "merge_version": "pith-open-graph-merge-v1",
            "mirrors": [mirror],
            "notes": (
                "A static mirror built by pith-sitegen. Every state file it serves was verified at build "
                "time against the keys listed here; re-verify with your own keys before trusting it."
            ),
        }
    )


@dataclass(frozen=True, slots=True)
class MadeFile:
    """A file made only when asked, whose bytes depend on nothing but ``inputs`` besides the build's
    key: a rebuild that finds it made of the same inputs keeps it (``StagedSite.write_made``)."""

    rel: PurePosixPath
    inputs: tuple[str, ...]
    make: Callable[[], bytes]


MirrorFile = tuple[PurePosixPath, bytes] | MadeFile
"""A file of ``mirror_files``: its path and bytes, or a ``MadeFile``."""


def _sitemaps(
    config: SiteConfig,
    verified_suffixes: Iterable[str],
    slugs: Sequence[str],
    listing_dirs: Sequence[str],
    verified_papers: int,
) -> Iterator[MirrorFile]:
    """``sitemap.xml``, an index of parts whose URLs stay put as the mirror grows: the site's own
    pages (``sitemaps/site.xml``), the listings of each year (``sitemaps/papers-<YYYY>.xml``) and
    the verified papers whose suffix starts with each prefix (``sitemaps/pith-<P>.xml``, the
    manifest bins' prefix). A new paper changes its own part and its year's. Pages of papers
    that are not verified are kept out of search engines' indexes. ``verified_suffixes`` (the
    verified papers' suffixes, sorted) is read once, and one part is in memory at a time."""
    base = _base(config)
    index = ET.Element("sitemapindex", xmlns=_SITEMAP)

    def listed(name: str) -> PurePosixPath:
        ET.SubElement(ET.SubElement(index, "sitemap"), "loc").text = f"{base}/{SITEMAP_DIR}/{name}.xml"
        return PurePosixPath(SITEMAP_DIR, f"{name}.xml")

    def part(name: str, paths: Iterable[str]) -> tuple[PurePosixPath, bytes]:
        return listed(name), _urlset(f"{base}/{path}" for path in paths)

    def papers_part(prefix: str, suffixes: tuple[str, ...]) -> MadeFile:
        return MadeFile(
            listed(f"pith-{prefix}"),
            suffixes,
            lambda: _urlset(f"{base}/pith/{suffix}/" for suffix in suffixes),
        )

    years: dict[str, list[str]] = {}
    own = ["", "verification/", *(f"{quote(slug)}/" for slug in slugs)]
    for path in listing_dirs:
        year = path.split("/")[1] if path.count("/") >= 2 else ""
        (years.setdefault(year, []) if _YEAR.fullmatch(year) else own).append(f"{path}/")
    yield part("site", own)
    for year in sorted(years):
        yield part(f"papers-{year}", years[year])
    length = prefix_length(verified_papers)
    for prefix, suffixes in itertools.groupby(verified_suffixes, key=lambda suffix: suffix[:length]):
        yield papers_part(prefix, tuple(suffixes))
    yield PurePosixPath("sitemap.xml"), xml_bytes(index)


def _urlset(urls: Iterable[str]) -> bytes:
    root = ET.Element("urlset", xmlns=_SITEMAP)
    for url in urls:
        ET.SubElement(ET.SubElement(root, "url"), "loc").text = url
    return xml_bytes(root)


def _feed(config: SiteConfig, ordered: Sequence[FeedPaper]) -> bytes:
    base = _base(config)
    feed = ET.Element("feed", xmlns=_ATOM)
    ET.SubElement(feed, "id").text = f"{base}/feed.xml"
    ET.SubElement(feed, "title").text = xml_safe(config.title)
    ET.SubElement(feed, "subtitle").text = xml_safe(config.description)
    ET.SubElement(feed, "updated").text = ordered[0].submitted_at if ordered else _EPOCH
    ET.SubElement(feed, "link", rel="self", href=f"{base}/feed.xml", type="application/atom+xml")
    ET.SubElement(feed, "link", rel="alternate", href=f"{base}/", type="text/html")
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = xml_safe(config.title)
    verified = (paper for paper in ordered if paper.verdict is Verdict.VERIFIED)
    for paper in itertools.islice(verified, config.feed_entries):
        url = f"{base}/pith/{paper.suffix}/"
        entry = ET.SubElement(feed, "entry")
        ET.SubElement(entry, "id").text = url
        ET.SubElement(entry, "title").text = xml_safe(paper.title)
        ET.SubElement(entry, "link", rel="alternate", href=url, type="text/html")
        ET.SubElement(entry, "updated").text = paper.submitted_at
        ET.SubElement(entry, "published").text = paper.submitted_at
        ET.SubElement(entry, "category", term=xml_safe(paper.primary_cat))
        authors = (
            f" Authors, stated by the registry (not signed): {', '.join(paper.authors)}."
            if paper.authors
            else ""
        )
        ET.SubElement(entry, "summary").text = xml_safe(
            f"{paper.pith_number}, verified by this mirror: the canonical record of {paper.source_id} "
            f"(SHA-256 {paper.canonical_sha256}) and the registry's signature over it were checked; "
            f"the title is bound up to case.{authors}"
        )
        ET.SubElement(
            entry,
            "link",
            rel="related",
            href=f"{url}record.json",
            type="application/json",
            title="canonical record",
        )
    return xml_bytes(feed)


def mirror_files(
    config: SiteConfig,
    keyring: Keyring,
    ordered: Sequence[FeedPaper],
    verified_suffixes: Iterable[str],
    page_slugs: Sequence[str],
    listing_dirs: Sequence[str],
    verified_papers: int,
) -> Iterator[MirrorFile]:
    """The files this module describes (a sitemap part of papers as a ``MadeFile``, made of their suffixes); ``ordered`` is newest first, as on the index, and
    ``verified_suffixes`` the suffixes of its verified papers, sorted, as the sitemap lists them. The
    sitemap and the feed hold verified papers only (``verified_papers`` of them); ``listing_dirs``
    are the listing pages' directories besides the root (``papers``, then each month's pages).

    Only ``ordered``'s first ``FEED_ENTRIES`` are read and ``verified_suffixes`` is read once, so
    ``ordered`` can be a view of papers kept on disk.
    """
    yield PurePosixPath(MANIFEST_FILE), _manifest(config, keyring, ordered)
    key = current_key(keyring)
    if key is not None:
        yield PurePosixPath(SIGNING_KEY_FILE), json_bytes(dict(key.document))
    robots = "User-agent: *\nAllow: /\n"
    if config.absolute_base is not None:
        base = _base(config)
        robots += f"Sitemap: {base}/sitemap.xml\n"
        yield from _sitemaps(config, verified_suffixes, page_slugs, listing_dirs, verified_papers)
        yield PurePosixPath("feed.xml"), _feed(config, ordered)
    yield PurePosixPath("robots.txt"), robots.encode("utf-8")

"""The site's manifest and alias map in hashed bins (layer 2, pure): which bin lists which file
and which alias.

A whole-site ``SHA256SUMS`` grows with the mirror (about 1.7 KB a paper), so one new paper
would change a file of hundreds of megabytes at registry scale. Like TUF's hashed-bin
delegation, the manifest is split:

``SHA256SUMS``
    one line per bin file, in ``sha256sum -c`` format (``<sha256>  sums/<bin>.sha256``),
    sorted by bin name;
``sums/pith-<P>.sha256``
    the files of every paper whose Pith suffix starts with ``P``, in ``sha256sum -c``
    format: its own directory, its alias redirect pages and its integrity endpoint;
``sums/site-<D>.sha256``
    the site-wide files under ``D``, a top directory whose files grow in number with the
    mirror (``GROWING_DIRS``; listings get one bin a year, ``site-papers-<YYYY>``), split as
    the papers' bins split (``site-<D>-<h>``, ``h`` hex digits of the path's SHA-256), and
    ``sums/site.sha256`` every other site-wide file.

Pith suffixes are base32 of a SHA-256, so papers spread evenly over the bins. The prefix
length grows with the corpus (``prefix_length``) so a bin holds about
``PAPERS_PER_BIN`` papers or fewer: one paper's change rewrites one bin of a few hundred
lines and ``SHA256SUMS``. When the length grows every bin is renamed, once per 32-fold
growth of the mirror.

Checking with standard tools, from the site's root::

    sha256sum -c --quiet SHA256SUMS
    cut -c67- SHA256SUMS | xargs cat | sha256sum -c --quiet

A bin's lines are in the order the build produced them (input order of papers, then
write order); the order depends only on the inputs, so a bin is the same bytes whenever
its papers are.
"""

from __future__ import annotations

import hashlib
import re

from sitegen.pith.numbers import is_suffix

__all__ = [
    "ALIAS_DIR",
    "ALIAS_LOOKUP",
    "BIN_DIR",
    "GROWING_DIRS",
    "OWNER_MARK",
    "PAPERS_PER_BIN",
    "alias_bin",
    "alias_bin_length",
    "alias_hash",
    "bin_of",
    "is_bin",
    "owner_line",
    "paper_bin",
    "prefix_length",
    "site_bin",
]

BIN_DIR = "sums"
PAPERS_PER_BIN = 256
"""The most papers a bin holds on average before the prefix grows by one character."""
_ALPHABET = 32
OWNER_MARK = "@"
"""Starts a line, inside the build, naming the paper the lines after it belong to (never published)."""
_YEAR = re.compile(r"[0-9]{4}")
GROWING_DIRS = ("aliases", "papers", "search", "sitemaps")
"""Top directories of site-wide files whose number grows with the mirror: each has a bin."""


def prefix_length(papers: int) -> int:
    """How many leading suffix characters name a paper's bin for a mirror of ``papers`` papers.

    >>> [prefix_length(n) for n in (0, 8_192, 8_193, 262_144, 262_145, 2_500_000)]
    [1, 1, 2, 2, 3, 3]
    """
    length = 1
    while papers > _ALPHABET**length * PAPERS_PER_BIN:
        length += 1
    return length


def paper_bin(suffix: str, length: int) -> str:
    """The bin of a paper's files.

    >>> paper_bin("3BA5MCT6BR2TB6RHXJ5AUL7VXE", 2)
    'sums/pith-3B.sha256'
    """
    return f"{BIN_DIR}/pith-{suffix[:length]}.sha256"


def is_paper_bin(name: str) -> bool:
    """Whether a bin is one of papers' files (``paper_bin``), not of site-wide ones.

    >>> is_paper_bin("sums/pith-3B.sha256"), is_paper_bin("sums/site-papers.sha256")
    (True, False)
    """
    return name.startswith(f"{BIN_DIR}/pith-")


def site_bin(path: str, length: int = 1) -> str:
    """The bin of a site-wide file: listings one per year, one for everything else (pages, keys,
    assets, the report), and for each directory that grows with the mirror one bin, split by the
    first ``length - 1`` hex digits of SHA-256 of the path (``length`` the papers' prefix length),
    so those bins grow no faster than a paper's.

    >>> [site_bin(p) for p in ("index.html", "search/meta.json", "papers/2026/07/index.html", "keys/index.html")]
    ['sums/site.sha256', 'sums/site-search.sha256', 'sums/site-papers-2026.sha256', 'sums/site.sha256']
    >>> site_bin("search/meta.json", 2), site_bin("aliases/8e/1f.json", 3)
    ('sums/site-search-b.sha256', 'sums/site-aliases-a2.sha256')
    """
    top, _, rest = path.partition("/")
    year = rest.partition("/")[0]
    if top == "papers" and _YEAR.fullmatch(year) and "/" in rest:
        return f"{BIN_DIR}/site-papers-{year}.sha256"
    if top in GROWING_DIRS and rest:
        split = hashlib.sha256(path.encode()).hexdigest()[: length - 1]
        return f"{BIN_DIR}/site-{top}{'-' if split else ''}{split}.sha256"
    return f"{BIN_DIR}/site.sha256"


def bin_of(path: str, owner: str | None, length: int) -> str:
    """The bin listing ``path``: its owner's (the paper that wrote it, when known), the bin of
    the paper whose directory holds it, else its site-wide bin (a collision page is nobody's).

    >>> bin_of("arxiv/2607.01083/index.html", "3BA5MCT6BR2TB6RHXJ5AUL7VXE", 1)
    'sums/pith-3.sha256'
    >>> bin_of("pith/3BA5MCT6BR2TB6RHXJ5AUL7VXE/index.html", None, 1)
    'sums/pith-3.sha256'
    >>> bin_of("arxiv/2607.01083/index.html", None, 1)
    'sums/site.sha256'
    """
    if owner is not None:
        return paper_bin(owner, length)
    top, _, rest = path.partition("/")
    if top == "pith" and is_suffix(directory := rest.partition("/")[0]):
        return paper_bin(directory, length)
    return site_bin(path, length)


ALIAS_DIR = "aliases"
ALIASES_PER_BIN = 256
"""The most aliases an alias bin holds on average before its name grows by one hex digit."""
ALIAS_LOOKUP = (
    "the aliases of alias_kind K and alias_value V are in aliases/<H>.json, where H is the first "
    "bin_length hex digits of SHA-256 of the UTF-8 bytes of 'K:V', split into pieces of two digits "
    "as directories (aliases/8e/a5.json for 8ea5); a bin that is not there holds no alias"
)
"""How a reader finds an alias's bin, stated in ``aliases.json`` itself."""


def alias_hash(kind: str, value: str) -> int:
    """The first 64 bits of SHA-256 of ``kind:value``: what places an alias in its bin."""
    return int.from_bytes(hashlib.sha256(f"{kind}:{value}".encode()).digest()[:8], "big")


def alias_bin_length(aliases: int) -> int:
    """Hex digits naming an alias bin for a mirror of ``aliases`` aliases.

    >>> [alias_bin_length(n) for n in (0, 4_096, 4_097, 15_000_000)]
    [1, 1, 2, 4]
    """
    length = 1
    while aliases > 16**length * ALIASES_PER_BIN:
        length += 1
    return length


def alias_bin(hashed: int, length: int) -> str:
    """The file of the alias bin holding an alias whose ``alias_hash`` is ``hashed``: its name's hex
    digits in pieces of two, the last piece the file's name, so no directory holds more than 256
    entries however far the bins split (hosts cap files per directory; Netlify at 54,000).

    >>> [alias_bin(alias_hash("arxiv", "2607.01083"), n) for n in (2, 3, 4)]
    ['aliases/8e.json', 'aliases/8e/1.json', 'aliases/8e/1f.json']
    """
    name = f"{hashed >> (64 - 4 * length):0{length}x}"
    return f"{ALIAS_DIR}/{'/'.join(name[i : i + 2] for i in range(0, length, 2))}.json"


def is_bin(path: str) -> bool:
    """Whether a path ``SHA256SUMS`` lists is a bin (whose lines list more files).

    >>> is_bin("sums/pith-3B.sha256"), is_bin("index.html")
    (True, False)
    """
    return path.startswith(f"{BIN_DIR}/") and path.endswith(".sha256") and path.count("/") == 1


def owner_line(suffix: str | None) -> str:
    """The line that makes the lines after it ``suffix``'s (or nobody's, for None)."""
    return f"{OWNER_MARK}{suffix or ''}\n"

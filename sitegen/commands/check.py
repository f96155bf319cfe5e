"""Auditing a built or deployed site against its own ``SHA256SUMS`` and our keyring (layer 6).

``check_site`` reads the site from a directory or over HTTP and reports, per file:

- ``manifest.sha256``: a file listed in ``SHA256SUMS`` is missing or has other bytes;
- ``manifest.extra``: a file that is not listed (directories only: HTTP cannot list);
- ``paper.reverify``: a paper's served ``state.json`` does not give, with the
  operator's keyring, the verdict its ``verification.json`` and page show;
- ``link.internal``: a link or asset reference in an HTML page names no file of the site.

A directory is read without following symlinks and without opening anything but
regular files (a FIFO listed in ``SHA256SUMS`` is reported, never waited on). Over
HTTP every request has one deadline, a byte cap and the redirect policy of
``sitegen.commands.http``; a bounded number of downloads run at once and each is
checked as soon as it finishes, so memory stays near workers x cap and one stalled
download does not hold the finished ones.

``SHA256SUMS`` itself is not listed in itself; its own SHA-256 is returned so a
scheduled job can compare it with the one the CI build printed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urljoin, urlsplit

from sitegen.commands.http import FetchError, FetchOptions, fetch_url
from sitegen.errors import BuildError, InputError
from sitegen.fs.sources import read_beneath
from sitegen.fs.staging import safe_join
from sitegen.pith.keys import Keyring
from sitegen.pith.parse import Limits
from sitegen.pith.verify import verify_state_bytes

__all__ = ["AuditResult", "Problem", "ReadOptions", "check_site"]

MANIFEST = "SHA256SUMS"
_STATE_PATH = re.compile(r"pith/([A-Z2-7]{26})/state\.json")
_BADGE = re.compile(rb'class="verdict verdict-([a-z_]+) verdict-big"')


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    path: str
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.check}: {self.detail}"


@dataclass(slots=True)
class AuditResult:
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    papers: int = 0
    links: int = 0
    manifest_sha256: str = ""
    notes: list[str] = field(default_factory=list)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.targets.append(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """How ``check`` reads a site: byte caps per file, and (over HTTP) deadline, redirects and concurrency."""

    timeout: float = 20.0
    """Seconds for one whole request (connect, headers, body and redirects together)."""
    max_state_bytes: int = Limits().max_bytes
    """Bytes of one ``state.json`` (the build's default limit)."""
    max_file_bytes: int = 256 * 1024 * 1024
    """Bytes of any other file (``SHA256SUMS`` and site-wide indexes grow with the site)."""
    allow_redirect_hosts: frozenset[str] = field(default_factory=frozenset)
    workers: int = 8
    """Downloads in flight at once over HTTP; memory held is at most about workers x cap."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Unread:
    """Why a listed file could not be checked; ``missing`` when nothing is there (no file, HTTP 404)."""

    missing: bool
    detail: str


_Read = Callable[[str], bytes]


def _cap(rel: str, options: ReadOptions) -> int:
    return options.max_state_bytes if rel.endswith("/state.json") else options.max_file_bytes


def _reader(location: str, options: ReadOptions) -> tuple[_Read, Path | None]:
    """A function reading one site file by relative path, and the directory when local."""
    if urlsplit(location).scheme in ("http", "https"):
        base = location if location.endswith("/") else location + "/"

        def fetch(rel: str) -> bytes:
            fetch_options = FetchOptions(
                timeout=options.timeout,
                max_bytes=_cap(rel, options),
                allow_redirect_hosts=options.allow_redirect_hosts,
            )
            return fetch_url(urljoin(base, quote(rel, safe="/")), fetch_options)

        return fetch, None
    root = Path(location)
    if not root.is_dir():
        raise InputError(location, "not a directory or an http(s) URL")

    def read(rel: str) -> bytes:
        data = read_beneath(root, PurePosixPath(rel), _cap(rel, options))
        if data is None:
            raise InputError(rel, f"too large: over the limit of {_cap(rel, options)} bytes")
        return data

    return read, root


def _read(read: _Read, rel: str) -> bytes | _Unread:
    """The bytes of a file, or why they could not be read."""
    try:
        return read(rel)
    except FetchError as exc:
        return _Unread(missing=exc.status in (404, 410), detail=exc.detail)
    except InputError as exc:
        return _Unread(missing=isinstance(exc.__cause__, FileNotFoundError), detail=exc.detail)


def _read_all(read: _Read, rels: Iterable[str], workers: int) -> Iterator[tuple[str, bytes | _Unread]]:
    """Every file of ``rels`` read by ``workers`` threads, yielded as each finishes (not in order).

    At most ``workers`` reads are in flight and a finished one is handed on at once, so a
    stalled download holds only its own worker, and the bytes held at any time are those
    of the reads in flight plus the one being checked.
    """
    pending = iter(rels)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = {pool.submit(_read, read, rel): rel for rel in itertools.islice(pending, workers)}
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                rel = running.pop(future)
                for following in itertools.islice(pending, 1):
                    running[pool.submit(_read, read, following)] = following
                yield rel, future.result()


def _is_safe(path: str) -> bool:
    """A plain relative path that cannot leave the site (the build's own output-path rule)."""
    try:
        safe_join(Path("/"), PurePosixPath(path))
    except BuildError:
        return False
    return not path.startswith("/") and "//" not in path


def _parse_manifest(text: str, result: AuditResult) -> dict[str, str]:
    """Path to digest of each line; a line naming a path that could leave the site is a problem."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        path = line[66:]
        if len(line) <= 66 or line[64:66] != "  " or not _is_safe(path):
            result.problems.append(
                Problem(
                    path=MANIFEST,
                    check="manifest.line",
                    detail=f"line {number} is not '<sha256>  <safe path>'",
                )
            )
            continue
        entries[path] = line[:64]
    return entries


def _base_path(files: dict[str, bytes]) -> str:
    """The site's path prefix, from its own ``pith-mirrors.json`` when it has one."""
    try:
        doc = json.loads(files["pith-mirrors.json"])
        base = str(doc["mirrors"][0]["base_url"])
    except (KeyError, ValueError, IndexError, TypeError):
        return "/"
    path = urlsplit(base).path if "://" in base else base
    return path.rstrip("/") + "/"


def _link_target(page: str, target: str, base_path: str) -> str | None:
    """The site path a link on ``page`` names, or None when it points elsewhere (scheme, host, fragment).

    A path that climbs above the site root or lies outside the base path is returned
    as it is (starting with ``..`` or ``//``), so it matches no file and is reported.
    """
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith(base_path):
            return "/" + path
        joined = path[len(base_path) :]
    else:
        joined = posixpath.join(posixpath.dirname(page), path)
    resolved = posixpath.normpath(joined) if joined else "."
    if path.endswith("/") or resolved == ".":
        resolved = "index.html" if resolved == "." else f"{resolved}/index.html"
    return resolved


def _links_of(data: bytes) -> list[str]:
    parser = _Links()
    parser.feed(data.decode("utf-8", errors="replace"))
    return parser.targets


def _check_links(result: AuditResult, links: dict[str, list[str]], listed: set[str], base_path: str) -> None:
    for page, targets in sorted(links.items()):
        for target in targets:
            resolved = _link_target(page, target, base_path)
            if resolved is None:
                continue
            result.links += 1
            if resolved not in listed:
                result.problems.append(
                    Problem(path=page, check="link.internal", detail=f"{target!r} names no file of the site")
                )


def _check_paper(result: AuditResult, suffix: str, files: dict[str, bytes], keyring: Keyring) -> None:
    base = f"pith/{suffix}"
    state = files.get(f"{base}/state.json")
    if state is None:
        return
    result.papers += 1
    report, _ = verify_state_bytes(state, f"{base}/state.json", keyring)
    ours = report.verdict.value
    try:
        shown = json.loads(files.get(f"{base}/verification.json", b"null"))["status"]
    except (ValueError, TypeError, KeyError):
        shown = None
    badges = {m.decode() for m in _BADGE.findall(files.get(f"{base}/badges", b""))}
    if shown != ours:
        result.problems.append(
            Problem(
                path=f"{base}/state.json",
                check="paper.reverify",
                detail=f"verification.json shows {shown}, your keyring gives {ours}",
            )
        )
    if badges and badges != {ours}:
        result.problems.append(
            Problem(
                path=f"{base}/index.html",
                check="paper.reverify",
                detail=f"the page shows {', '.join(sorted(badges))}, your keyring gives {ours}",
            )
        )


def _walk(root: Path) -> Iterator[str]:
    for directory, _, names in os.walk(root):
        for name in names:
            yield (Path(directory) / name).relative_to(root).as_posix()


def check_site(location: str, keyring: Keyring, options: ReadOptions | None = None) -> AuditResult:
    """Audit the site at a directory or http(s) URL.

    Raises:
        InputError: the location is neither, or its ``SHA256SUMS`` cannot be read.
    """
    options = options or ReadOptions()
    read, root = _reader(location, options)
    manifest = _read(read, MANIFEST)
    if isinstance(manifest, _Unread):
        raise InputError(f"{location.rstrip('/')}/{MANIFEST}", manifest.detail, check="manifest.read")
    result = AuditResult(manifest_sha256=hashlib.sha256(manifest).hexdigest())
    listed = _parse_manifest(manifest.decode("utf-8", errors="replace"), result)
    kept: dict[str, bytes] = {}  # only what the paper and link checks need, not every file
    links: dict[str, list[str]] = {}
    present = set(listed)
    digest_problems: dict[str, Problem] = {}  # files finish in any order; reported in path order
    for rel, data in _read_all(read, sorted(listed), 1 if root is not None else max(1, options.workers)):
        result.files += 1
        if isinstance(data, _Unread):
            prefix = "missing" if data.missing else "not checked"
            digest_problems[rel] = Problem(
                path=rel, check="manifest.sha256", detail=f"{prefix}: {data.detail}"
            )
            present.discard(rel)
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != listed[rel]:
            digest_problems[rel] = Problem(
                path=rel,
                check="manifest.sha256",
                detail=f"expected {listed[rel]} (SHA256SUMS), got {digest} (served)",
            )
        if rel.endswith(".html"):
            links[rel] = _links_of(data)
            if rel.startswith("pith/") and rel.endswith("/index.html"):
                kept[rel[: -len("index.html")] + "badges"] = b" ".join(
                    m.group(0) for m in _BADGE.finditer(data)
                )
        elif rel.endswith(("/state.json", "/verification.json")) or rel == "pith-mirrors.json":
            kept[rel] = data
    result.problems.extend(digest_problems[rel] for rel in sorted(digest_problems))
    if root is not None:
        for rel in sorted(set(_walk(root)) - set(listed) - {MANIFEST}):
            result.problems.append(
                Problem(path=rel, check="manifest.extra", detail="not listed in SHA256SUMS")
            )
    else:
        result.notes.append("extra files cannot be listed over HTTP; only listed files were checked")
    for rel in sorted(kept):
        if (match := _STATE_PATH.fullmatch(rel)) is not None:
            _check_paper(result, match[1], kept, keyring)
    _check_links(result, links, present, _base_path(kept))
    return result

"""Auditing a built or deployed site against its own ``SHA256SUMS`` and our keyring (layer 5).

``check_site`` reads the site from a directory or over HTTP and reports, per file:

- ``manifest.sha256``: a file listed in ``SHA256SUMS`` is missing or has other bytes;
- ``manifest.extra``: a file that is not listed (directories only: HTTP cannot list);
- ``paper.reverify``: a paper's served ``state.json`` does not give, with the
  operator's keyring, the verdict its ``verification.json`` and page show;
- ``link.internal``: a link or asset reference in an HTML page names no file of the site.

``SHA256SUMS`` itself is not listed in itself; its own SHA-256 is returned so a
scheduled job can compare it with the one the CI build printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote, urljoin, urlsplit

from sitegen.commands.pull import FetchError, PullOptions, fetch_url
from sitegen.errors import BuildError, InputError
from sitegen.fs.staging import safe_join
from sitegen.pith.keys import Keyring
from sitegen.pith.verify import verify_state_bytes

__all__ = ["AuditResult", "Problem", "check_site"]

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


def _reader(location: str, timeout: float) -> tuple[Callable[[str], bytes], Path | None]:
    """A function reading one site file by relative path, and the directory when local."""
    if urlsplit(location).scheme in ("http", "https"):
        base = location if location.endswith("/") else location + "/"
        options = PullOptions(timeout=timeout, max_bytes=1 << 30)
        return (lambda rel: fetch_url(urljoin(base, quote(rel, safe="/")), options)), None
    root = Path(location)
    if not root.is_dir():
        raise InputError(location, "not a directory or an http(s) URL")
    return (lambda rel: (root / rel).read_bytes()), root


def _read(read: Callable[[str], bytes], rel: str) -> bytes | str:
    """The bytes of a file, or why they could not be read."""
    try:
        return read(rel)
    except FetchError as exc:
        return exc.detail
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


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


def check_site(location: str, keyring: Keyring, *, timeout: float = 20.0, workers: int = 8) -> AuditResult:
    """Audit the site at a directory or http(s) URL.

    Raises:
        InputError: the location is neither, or its ``SHA256SUMS`` cannot be read.
    """
    read, root = _reader(location, timeout)
    manifest = _read(read, MANIFEST)
    if isinstance(manifest, str):
        raise InputError(f"{location.rstrip('/')}/{MANIFEST}", manifest, check="manifest.read")
    result = AuditResult(manifest_sha256=hashlib.sha256(manifest).hexdigest())
    listed = _parse_manifest(manifest.decode("utf-8", errors="replace"), result)
    kept: dict[str, bytes] = {}  # only what the paper and link checks need, not every file
    links: dict[str, list[str]] = {}
    present = set(listed)
    with ThreadPoolExecutor(max_workers=1 if root is not None else workers) as pool:
        for rel, data in zip(sorted(listed), pool.map(lambda r: _read(read, r), sorted(listed)), strict=True):
            result.files += 1
            if isinstance(data, str):
                result.problems.append(Problem(path=rel, check="manifest.sha256", detail=f"missing: {data}"))
                present.discard(rel)
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != listed[rel]:
                result.problems.append(
                    Problem(
                        path=rel,
                        check="manifest.sha256",
                        detail=f"expected {listed[rel]} (SHA256SUMS), got {digest} (served)",
                    )
                )
            if rel.endswith(".html"):
                links[rel] = _links_of(data)
                if rel.startswith("pith/") and rel.endswith("/index.html"):
                    kept[rel[: -len("index.html")] + "badges"] = b" ".join(
                        m.group(0) for m in _BADGE.finditer(data)
                    )
            elif rel.endswith(("/state.json", "/verification.json")) or rel == "pith-mirrors.json":
                kept[rel] = data
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

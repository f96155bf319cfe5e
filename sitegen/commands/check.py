"""Auditing a built or deployed site against its own ``SHA256SUMS`` and our keyring (layer 6).

``check_site`` reads the site from a directory or over HTTP and reports, per file:

- ``manifest.sha256``: a file listed in ``SHA256SUMS`` is missing or has other bytes;
- ``manifest.extra``: a file (or symlinked directory) that is not listed (directories
  only: HTTP cannot list);
- ``paper.reverify``: a paper's served ``state.json`` does not give, with the operator's
  keyring, the verdict its ``verification.json`` or its page's verdict badges show;
- ``paper.directory``: ``pith/<SUFFIX>/`` serves a state whose Pith suffix is another
  (derived from its signed record; for a failed state, the one it states);
- ``paper.title``: a paper page shows another title than its state's;
- ``index.entry`` / ``search.entry``: an index row or search record shows another title,
  Pith number or verdict than the state it names, or a served paper is in neither;
- ``link.internal``: a link or asset reference in an HTML page names no file of the site.

A directory is read without following symlinks and without opening anything but
regular files (a FIFO listed in ``SHA256SUMS`` is reported, never waited on). Over
HTTP every request has one deadline, a byte cap and the redirect policy of
``sitegen.commands.http``; a bounded number of downloads run at once and each is
checked as soon as it finishes, so memory stays near workers x cap and one stalled
download does not hold the finished ones.

What it proves: every listed file has the bytes ``SHA256SUMS`` names, and what the pages,
index and search say of each paper is what the served state gives with your keys. A site
whose ``SHA256SUMS`` was rewritten along with its files still fails wherever its pages
claim more than its states prove. ``SHA256SUMS`` itself is not listed in itself; its own
SHA-256 is returned so a scheduled job can compare it with the one the CI build printed.
"""

from __future__ import annotations

import hashlib
import html
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
from typing import ClassVar
from urllib.parse import quote, unquote, urljoin, urlsplit

from sitegen.build.paper_job import PaperSummary, paper_summary
from sitegen.commands.http import FetchError, fetch_url
from sitegen.commands.options import FetchOptions, ReadOptions
from sitegen.errors import BuildError, InputError, SignatureError
from sitegen.fs.sources import read_beneath
from sitegen.fs.staging import safe_join
from sitegen.pith.canonical import canonical_sha256_hex, sha256_hex
from sitegen.pith.keys import Keyring
from sitegen.pith.numbers import pith_suffix
from sitegen.pith.parse import ParsedState
from sitegen.pith.report import Verdict
from sitegen.pith.sshsig import SIGNATURE_SUFFIX, OperatorPublicKey
from sitegen.pith.sshsig import verify as verify_ssh_signature
from sitegen.pith.verify import verify_state_bytes
from sitegen.render.search_index import RECORD_FIELDS
from sitegen.render.templates import VERDICT_WORDS, html_text
from sitegen.site.manifest_bins import is_bin

__all__ = ["AuditResult", "Problem", "ReadOptions", "check_site"]

MANIFEST = "SHA256SUMS"
OPERATOR_SIGNATURE = MANIFEST + SIGNATURE_SUFFIX
_PAPER_PATH = re.compile(r"pith/([A-Z2-7]{26})/([^/]+)")
_INDEX_PAGE = re.compile(r"index\.html|papers/(?:[^/]+/)*index\.html")
"""The listing pages: ``/`` and every page under ``/papers/`` (the months, each month's pages)."""
_SEARCH_PAPERS = re.compile(r"search/papers/[A-Z2-7]+\.json")
_VERDICT_CLASS = re.compile(r"verdict-([a-z_]+)")
_BY_WORD = {words[0]: verdict for verdict, words in VERDICT_WORDS.items()}


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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Badge:
    """A verdict badge as a page shows it: the verdict its class names, and its visible words."""

    verdict_class: str
    text: str

    def verdicts(self) -> set[str]:
        """The verdicts a reader could take from it: its class's, and the one its last word names (or its words)."""
        words = self.text.split()
        return {self.verdict_class, _BY_WORD.get(words[-1] if words else "", repr(self.text))}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Row:
    """An index row that links to a paper page: the link, its text and the row's badges."""

    href: str
    title: str
    badges: tuple[_Badge, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Shown:
    """What one page shows about papers: its verdict badges and box, its titles, its index rows."""

    badges: tuple[_Badge, ...]
    box_verdicts: tuple[str, ...]
    """The verdict each ``verdict-box-<verdict>`` of the page names."""
    titles: tuple[tuple[str, str], ...]
    """(where, text) of each title shown: the heading, ``citation_title`` and ``og:title``."""
    rows: tuple[_Row, ...]


class _PageParser(HTMLParser):
    """One pass over a page: its link targets, and what it shows about papers (``_Shown``)."""

    _TITLE_META: ClassVar[dict[tuple[str, str], str]] = {
        ("name", "citation_title"): "citation_title",
        ("property", "og:title"): "og:title",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.targets: list[str] = []
        self.badges: list[_Badge] = []
        self.boxes: list[str] = []
        self.titles: list[tuple[str, str]] = []
        self.rows: list[_Row] = []
        self._stack: list[tuple[str, str]] = []
        """(tag, role) of each open element: role ``badge``, ``hidden``, ``title``, ``link`` or ''."""
        self._badge_text: list[str] | None = None
        self._badge_class = ""
        self._title_text: list[str] | None = None
        self._row: tuple[list[_Badge], list[tuple[str, str]]] | None = None
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.targets.extend(value for name, value in attrs if name in ("href", "src") and value is not None)
        classes = values.get("class", "").split()
        for name, value in values.items():
            if (name, value) in self._TITLE_META:
                self.titles.append((self._TITLE_META[(name, value)], values.get("content", "")))
        self.boxes.extend(c[len("verdict-box-") :] for c in classes if c.startswith("verdict-box-"))
        if tag in ("meta", "link", "img", "input", "br", "hr", "source"):
            return  # void elements: no end tag follows
        role = ""
        if tag == "tr":
            self._row = ([], [])
        elif "verdict" in classes and self._badge_text is None:
            role, self._badge_text = "badge", []
            self._badge_class = next(
                (m[1] for c in classes if (m := _VERDICT_CLASS.fullmatch(c)) is not None), ""
            )
        elif values.get("aria-hidden") == "true":
            role = "hidden"
        elif tag == "h1" and values.get("id") == "paper-title":
            role, self._title_text = "title", []
        elif tag == "a" and self._row is not None and self._link is None and "href" in values:
            role, self._link = "link", (values["href"], [])
        self._stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self._stack):
            return
        while self._stack:
            open_tag, role = self._stack.pop()
            self._close(role)
            if open_tag == tag:
                break
        if tag == "tr" and self._row is not None:
            badges, links = self._row
            self.rows.extend(_Row(href=href, title=text, badges=tuple(badges)) for href, text in links)
            self._row = None

    def _close(self, role: str) -> None:
        if role == "badge" and self._badge_text is not None:
            badge = _Badge(verdict_class=self._badge_class, text="".join(self._badge_text).strip())
            (self._row[0] if self._row is not None else self.badges).append(badge)
            self._badge_text = None
        elif role == "title" and self._title_text is not None:
            self.titles.append(("heading", "".join(self._title_text)))
            self._title_text = None
        elif role == "link" and self._link is not None and self._row is not None:
            self._row[1].append((self._link[0], "".join(self._link[1])))
            self._link = None

    def handle_data(self, data: str) -> None:
        if any(role == "hidden" for _, role in self._stack):
            return
        for text in (self._badge_text, self._title_text, self._link[1] if self._link else None):
            if text is not None:
                text.append(data)

    def shown(self) -> _Shown:
        return _Shown(
            badges=tuple(self.badges),
            box_verdicts=tuple(self.boxes),
            titles=tuple(self.titles),
            rows=tuple(self.rows),
        )


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


def _parse_manifest(text: str, result: AuditResult, name: str = MANIFEST) -> dict[str, str]:
    """Path to digest of each line of ``SHA256SUMS`` or one of its bins (``name``); a line naming
    a path that could leave the site is a problem."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        path = line[66:]
        if len(line) <= 66 or line[64:66] != "  " or not _is_safe(path):
            result.problems.append(
                Problem(
                    path=name,
                    check="manifest.line",
                    detail=f"line {number} is not '<sha256>  <safe path>'",
                )
            )
            continue
        entries[path] = line[:64]
    return entries


def _with_bins(read: _Read, top: dict[str, str], result: AuditResult, workers: int) -> dict[str, str]:
    """Every file ``SHA256SUMS`` lists, through its bins (``sitegen.site.manifest_bins``): a bin
    whose bytes are not the ones ``SHA256SUMS`` names is a problem, and its lines are not used."""
    listed = {rel: digest for rel, digest in top.items() if not is_bin(rel)}
    for rel, data in sorted(_read_all(read, sorted(filter(is_bin, top)), workers)):
        result.files += 1
        if isinstance(data, _Unread):
            prefix = "missing" if data.missing else "not checked"
            result.problems.append(
                Problem(path=rel, check="manifest.sha256", detail=f"{prefix}: {data.detail}")
            )
        elif (digest := hashlib.sha256(data).hexdigest()) != top[rel]:
            result.problems.append(
                Problem(
                    path=rel,
                    check="manifest.sha256",
                    detail=f"expected {top[rel]} (SHA256SUMS), got {digest} (served); its lines are not used",
                )
            )
        else:
            listed.update(_parse_manifest(data.decode("utf-8", errors="replace"), result, rel))
    return listed


def _check_operator_signature(
    read: _Read, manifest: bytes, key: OperatorPublicKey | None, result: AuditResult
) -> None:
    """``SHA256SUMS.sig`` must be the operator key's signature of the ``SHA256SUMS`` served."""
    signature = _read(read, OPERATOR_SIGNATURE)
    if key is None:
        if not isinstance(signature, _Unread):
            result.notes.append(f"{OPERATOR_SIGNATURE} is served but not checked: pass --operator-key")
        return
    if isinstance(signature, _Unread):
        result.problems.append(
            Problem(
                path=OPERATOR_SIGNATURE,
                check="operator.signature",
                detail=f"cannot be read: {signature.detail}",
            )
        )
        return
    try:
        verify_ssh_signature(key, signature, manifest)
    except SignatureError as exc:
        result.problems.append(
            Problem(path=OPERATOR_SIGNATURE, check="operator.signature", detail=exc.detail)
        )
    else:
        result.notes.append(f"{MANIFEST} is signed by the operator key given ({OPERATOR_SIGNATURE})")


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


def _parse_page(data: bytes) -> _PageParser:
    parser = _PageParser()
    parser.feed(data.decode("utf-8", errors="replace"))
    parser.close()
    return parser


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


@dataclass(frozen=True, slots=True, kw_only=True)
class _SiteView:
    """What the audit kept of the files it read: the papers' own files, and what the pages show."""

    files: dict[str, bytes]
    """``state.json`` and ``verification.json`` of each paper directory, and ``pith-mirrors.json``."""
    shown: dict[str, _Shown]
    """What each paper page and index page shows, by path."""
    search: list[dict[str, object]]
    """Every search result record, as named fields (``RECORD_FIELDS``)."""


def _problem(result: AuditResult, path: str, check: str, detail: str) -> None:
    result.problems.append(Problem(path=path, check=check, detail=detail))


def _shown_title(summary: PaperSummary) -> str:
    """The title as a paper page, index row or search record shows it: what the template prints, as read back."""
    return html.unescape(str(html_text(summary.title)))


def _check_paper(result: AuditResult, suffix: str, view: _SiteView, keyring: Keyring) -> PaperSummary | None:
    """Re-verify the state served at ``pith/<suffix>/`` and compare it with its directory, its
    ``verification.json`` and its page; return its summary for the index and search checks."""
    base = f"pith/{suffix}"
    state = view.files.get(f"{base}/state.json")
    if state is None:
        if f"{base}/index.html" in view.shown and view.shown[f"{base}/index.html"].box_verdicts:
            _problem(
                result, f"{base}/index.html", "paper.reverify", "a paper page with no state.json beside it"
            )
        return None
    result.papers += 1
    report, parsed = verify_state_bytes(state, f"{base}/state.json", keyring)
    ours = report.verdict.value
    try:
        stated = json.loads(view.files.get(f"{base}/verification.json", b"null"))["status"]
    except (ValueError, TypeError, KeyError):
        stated = None
    if stated != ours:
        _problem(
            result,
            f"{base}/state.json",
            "paper.reverify",
            f"verification.json shows {stated}, your keyring gives {ours}",
        )
    summary = paper_summary(parsed, report, b"", sha256_hex(state)) if parsed is not None else None
    if parsed is not None:
        _check_directory(result, suffix, parsed, report.verdict)
    page = view.shown.get(f"{base}/index.html")
    if page is None:
        _problem(result, f"{base}/index.html", "paper.reverify", f"no page for the state in {base}/")
        return summary
    shown = {v for badge in page.badges for v in badge.verdicts()} | set(page.box_verdicts)
    if shown != {ours}:
        _problem(
            result,
            f"{base}/index.html",
            "paper.reverify",
            f"the page shows {', '.join(sorted(shown)) or 'no verdict'}, your keyring gives {ours}",
        )
    if summary is not None:
        want = _shown_title(summary)
        for where, text in page.titles:
            if text != want:
                _problem(
                    result,
                    f"{base}/index.html",
                    "paper.title",
                    f"the page's {where} shows {text!r}, the state's title is {want!r}",
                )
    return summary


def _check_directory(result: AuditResult, suffix: str, parsed: ParsedState, verdict: Verdict) -> None:
    """``pith/<suffix>/`` must hold the state whose Pith suffix that is: the one derived from its
    signed record (for a failed state, whose number may not be derived, the one it states)."""
    raw = parsed.raw["current"]
    assert isinstance(raw, dict)
    created = raw["record_created"]
    assert isinstance(created, dict)
    payload = created["payload"]
    assert isinstance(payload, dict)
    derived = pith_suffix(bytes.fromhex(canonical_sha256_hex(payload["canonical_record"])))
    stated = parsed.state.pith_number.rsplit(":", 1)[-1]
    expected = stated if verdict is Verdict.FAILED else derived
    if suffix != expected:
        _problem(
            result,
            f"pith/{suffix}/state.json",
            "paper.directory",
            f"pith/{suffix}/ serves the state of {parsed.state.pith_number}, whose suffix is {expected} "
            f"(derived from its signed record: {derived})",
        )


def _check_listings(
    result: AuditResult, papers: dict[str, PaperSummary], view: _SiteView, base_path: str
) -> None:
    """Every index row and search record that names a served paper shows its title and verdict (and, in
    search, its Pith number); every served paper is in both. Entries naming a suffix with no served
    state (a collision page stands there) are not compared."""
    listed: set[str] = set()
    for page, shown in sorted(view.shown.items()):
        if _INDEX_PAGE.fullmatch(page) is None:
            continue
        for row in shown.rows:
            match = _PAPER_PATH.fullmatch(_link_target(page, row.href, base_path) or "")
            summary = papers.get(match[1]) if match is not None and match[2] == "index.html" else None
            if summary is None:
                continue
            listed.add(summary.suffix)
            verdicts = {v for badge in row.badges for v in badge.verdicts()}
            if verdicts != {summary.verdict.value} or row.title != _shown_title(summary):
                _problem(
                    result,
                    page,
                    "index.entry",
                    f"the row for {summary.pith_number} shows {row.title!r} as "
                    f"{', '.join(sorted(verdicts)) or 'no verdict'}; the state gives "
                    f"{_shown_title(summary)!r} as {summary.verdict.value}",
                )
    searched: set[str] = set()
    for record in sorted(view.search, key=lambda r: (str(r.get("suffix")), str(r.get("title")))):
        summary = papers.get(str(record.get("suffix")))
        if summary is None:
            continue
        searched.add(summary.suffix)
        stated = (record.get("pith_number"), record.get("title"), record.get("verdict"))
        if stated != (summary.pith_number, summary.title, summary.verdict.value):
            _problem(
                result,
                "search/papers/",
                "search.entry",
                f"the record for pith/{summary.suffix}/ shows {stated[0]}, {stated[1]!r} as {stated[2]}; "
                f"the state gives {summary.pith_number}, {summary.title!r} as {summary.verdict.value}",
            )
    for suffix, summary in sorted(papers.items()):
        for check, found, where in (
            ("index.entry", listed, "the index"),
            ("search.entry", searched, "the search"),
        ):
            if suffix not in found:
                _problem(
                    result, f"pith/{suffix}/index.html", check, f"{summary.pith_number} is not in {where}"
                )


def _search_records(data: bytes) -> list[dict[str, object]]:
    """The result records of one ``search/papers/<P>.json``, by field name; none when it is not that shape."""
    try:
        records = json.loads(data)
    except ValueError:
        return []
    if not isinstance(records, list):
        return []
    return [dict(zip(RECORD_FIELDS, r, strict=False)) for r in records if isinstance(r, list)]


def _walk(root: Path) -> Iterator[str]:
    """Every file under ``root``, and every symlinked directory (not followed: it is not the site's)."""
    for directory, dirs, names in os.walk(root):
        for name in names + [d for d in dirs if (Path(directory) / d).is_symlink()]:
            yield (Path(directory) / name).relative_to(root).as_posix()


def _keep(rel: str, data: bytes, view: _SiteView, links: dict[str, list[str]]) -> None:
    """Keep of one file what the paper, listing and link checks need, not the whole site."""
    if rel.endswith(".html"):
        page = _parse_page(data)
        links[rel] = page.targets
        paper = _PAPER_PATH.fullmatch(rel)
        if (paper is not None and paper[2] == "index.html") or _INDEX_PAGE.fullmatch(rel) is not None:
            view.shown[rel] = page.shown()
    elif (
        (paper := _PAPER_PATH.fullmatch(rel)) is not None
        and paper[2]
        in (
            "state.json",
            "verification.json",
        )
    ) or rel == "pith-mirrors.json":
        view.files[rel] = data
    elif _SEARCH_PAPERS.fullmatch(rel) is not None:
        view.search.extend(_search_records(data))


def check_site(
    location: str,
    keyring: Keyring,
    options: ReadOptions | None = None,
    *,
    operator_key: OperatorPublicKey | None = None,
) -> AuditResult:
    """Audit the site at a directory or http(s) URL; with ``operator_key``, its ``SHA256SUMS``
    must carry that key's signature (``SHA256SUMS.sig``).

    Raises:
        InputError: the location is neither, or its ``SHA256SUMS`` cannot be read.
    """
    options = options or ReadOptions()
    read, root = _reader(location, options)
    manifest = _read(read, MANIFEST)
    if isinstance(manifest, _Unread):
        raise InputError(f"{location.rstrip('/')}/{MANIFEST}", manifest.detail, check="manifest.read")
    result = AuditResult(manifest_sha256=hashlib.sha256(manifest).hexdigest())
    workers = 1 if root is not None else max(1, options.workers)
    _check_operator_signature(read, manifest, operator_key, result)
    top = _parse_manifest(manifest.decode("utf-8", errors="replace"), result)
    listed = _with_bins(read, top, result, workers)
    view = _SiteView(files={}, shown={}, search=[])
    links: dict[str, list[str]] = {}
    present = set(listed)
    digest_problems: dict[str, Problem] = {}  # files finish in any order; reported in path order
    for rel, data in _read_all(read, sorted(listed), workers):
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
        _keep(rel, data, view, links)
    result.problems.extend(digest_problems[rel] for rel in sorted(digest_problems))
    if root is not None:
        for rel in sorted(set(_walk(root)) - set(listed) - set(top) - {MANIFEST, OPERATOR_SIGNATURE}):
            result.problems.append(
                Problem(path=rel, check="manifest.extra", detail="not listed in SHA256SUMS")
            )
    else:
        result.notes.append("extra files cannot be listed over HTTP; only listed files were checked")
    base_path = _base_path(view.files)
    suffixes = {m[1] for rel in [*view.files, *view.shown] if (m := _PAPER_PATH.fullmatch(rel)) is not None}
    papers: dict[str, PaperSummary] = {}
    for suffix in sorted(suffixes):
        summary = _check_paper(result, suffix, view, keyring)
        if summary is not None:
            papers[suffix] = summary
    _check_listings(result, papers, view, base_path)
    _check_links(result, links, present, base_path)
    return result

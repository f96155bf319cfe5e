"""The incremental-build cache (layer 6, part of the build pipeline beside ``build.py``).

A paper's own files (its page, endpoints and alias redirects) are a pure function of
its state file's bytes and of the *build key*: a hash of the tool's version and code,
the templates and assets, ``site.yaml``, the keyring, the Markdown pages and the
integrity files. The cache remembers, per state file, the SHA-256 of its bytes and
what processing it produced (report, summary, warnings, ``SHA256SUMS`` lines).

On the next build with the same key, a state whose bytes are unchanged and whose
files are all still in the live site with the recorded digests is *reused*: its files
are hard-linked from the live site into the staging tree instead of being
re-rendered. Everything else (changed, added, or touched by a collision last time) is
rendered afresh, and the site-wide pages are always rewritten from all summaries, so
the result is the same tree a clean build makes. When the key, every input and the
live ``SHA256SUMS`` are all unchanged, the build is a no-op and touches nothing.

The cache is one JSON-lines file beside the output (``.<out>.cache.jsonl``), never
served: one line per state (metadata, a tab, the full report line) and a header line
last. A missing, unreadable or foreign cache only means a clean build.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sitegen import __version__
from sitegen.errors import InputError, ParseError
from sitegen.output import StagedSite
from sitegen.paper import PaperSummary, StateOutcome
from sitegen.parse import Limits
from sitegen.render import compact_json
from sitegen.report import Check, InputReport, Status, Verdict
from sitegen.sources import ContentFiles, read_input

__all__ = [
    "CACHE_SCHEMA",
    "BuildCache",
    "CachedBuild",
    "build_key",
    "cache_path",
    "report_from_json",
]

CACHE_SCHEMA = "pith-sitegen/build-cache/v2"
_CODE_DIR = Path(__file__).resolve().parent


def cache_path(out: Path) -> Path:
    """Where the cache of output directory ``out`` lives: beside it, never inside it."""
    target = out.absolute()
    return target.parent / f".{target.name}.cache.jsonl"


def _tree_files(root: Path, suffixes: tuple[str, ...] = ()) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        return
    for directory, dirnames, names in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(names):
            if not suffixes or name.endswith(suffixes):
                path = Path(directory) / name
                yield path.relative_to(root).as_posix(), path


def build_key(files: ContentFiles, templates_dir: Path) -> str:
    """A hash of everything besides the state files that decides what a paper's files contain.

    Raises:
        InputError: one of those files cannot be read (the build would fail on it anyway).
    """
    parts: list[tuple[str, Path]] = [(f"code/{n}", p) for n, p in _tree_files(_CODE_DIR, (".py",))]
    parts += [(f"templates/{n}", p) for n, p in _tree_files(templates_dir)]
    parts += [(f"content/keys/{n}", p) for n, p in _tree_files(files.root / "keys")]
    parts += [(f"content/{rel}", files.root / rel) for rel in (*files.pages, *files.integrity)]
    site_yaml = files.root / "site.yaml"
    if site_yaml.is_file():
        parts.append(("content/site.yaml", site_yaml))
    digest = hashlib.sha256(f"{CACHE_SCHEMA}\npith-sitegen {__version__}\n".encode())
    for refused in files.refused:  # their warnings are part of the output
        digest.update(f"refused\0{refused}\0".encode())
    for name, path in sorted(parts):
        try:
            # never open a FIFO or device: it could block; the build refuses such inputs itself
            data = path.read_bytes() if path.is_file() else b"\0not a regular file"
        except OSError as exc:
            raise InputError(name, f"cannot read: {exc.strerror}") from exc
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def report_from_json(doc: dict[str, Any]) -> InputReport:
    """Rebuild a report from its JSON form (``InputReport.to_json``)."""
    return InputReport(
        input=doc["input"],
        kind=doc["kind"],
        verdict=Verdict(doc["status"]),
        checks=tuple(
            Check(
                id=c["id"],
                status=Status(c["status"]),
                summary=c["summary"],
                json_path=c.get("json_path", ""),
                expected=c.get("expected"),
                observed=c.get("observed"),
            )
            for c in doc["checks"]
        ),
        errors=tuple(doc["errors"]),
        pith_number=doc.get("pith_number"),
        source_id=doc.get("source_id"),
    )


def _plain(value: object) -> object:
    if isinstance(value, Verdict):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _tuples(value: object) -> object:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _summary_to_json(summary: PaperSummary | None) -> object:
    if summary is None:
        return None
    return {f.name: _plain(getattr(summary, f.name)) for f in dataclasses.fields(summary)}


def _summary_from_json(doc: dict[str, Any] | None) -> PaperSummary | None:
    if doc is None:
        return None
    values: dict[str, Any] = {f.name: _tuples(doc[f.name]) for f in dataclasses.fields(PaperSummary)}
    values["verdict"] = Verdict(doc["verdict"])
    return PaperSummary(**values)


def _manifest_lines(manifest: str) -> Iterator[tuple[str, str]]:
    """(path, sha256 hex) of each ``SHA256SUMS`` line."""
    for line in manifest.splitlines():
        if len(line) > 66 and line[64:66] == "  ":
            yield line[66:], line[:64]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    outcome: StateOutcome
    """The outcome the state had, without its report line (read from the file when reused)."""
    line_offset: int
    line_length: int

    @property
    def sha256(self) -> str:
        return self.outcome.input_sha256


@dataclass(frozen=True, slots=True, kw_only=True)
class _Header:
    key: str
    files: dict[str, tuple[int, int]]
    """(size, mtime_ns) of every file of the live site the build left: a changed one is not trusted."""
    papers: int
    warnings: tuple[str, ...]
    extra_reports: tuple[InputReport, ...]
    """Reports of inputs the cache has no entry for (integrity files, refused inputs), for a no-op build."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedBuild:
    """What a no-op build returns: the previous build's reports and warnings, nothing written."""

    reports: tuple[InputReport, ...]
    warnings: tuple[str, ...]
    papers: int


class BuildCache:
    """The previous build's cache, the reuse plan for this build, and the next cache being written.

    Use as a context manager around the build; ``commit`` after the site is swapped in.
    """

    def __init__(self, out: Path, files: ContentFiles, limits: Limits, key: str, *, reuse: bool) -> None:
        self.path = cache_path(out)
        self.files = files
        self.key = key
        self.limits = limits
        self._handle: IO[bytes] | None = None
        self._header: _Header | None = None
        self._entries: dict[str, _Entry] = {}
        if reuse:
            self._read()
        self._digests: dict[PurePosixPath, str | None] = {}
        self._reusable: set[PurePosixPath] = set()
        self._stats: dict[str, tuple[int, int]] | None = None
        self._next: IO[bytes] | None = None
        self._next_path: Path | None = None
        self._recorded: set[str] = set()
        self.reused = 0
        self.rendered = 0

    # -- reading the previous cache ---------------------------------------------------

    def _read(self) -> None:
        try:
            handle = self.path.open("rb")
        except OSError:
            return
        try:
            header, entries = _parse(handle)
        except (ValueError, KeyError, TypeError, IndexError, OSError):
            handle.close()
            return
        if header.key != self.key:
            handle.close()
            return
        self._handle, self._header, self._entries = handle, header, entries

    def __enter__(self) -> BuildCache:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._next is not None:
            self._next.close()
            assert self._next_path is not None
            with contextlib.suppress(OSError):
                self._next_path.unlink()

    # -- planning ---------------------------------------------------------------------

    def _digest(self, rel: PurePosixPath) -> str | None:
        """SHA-256 of a state's bytes, or None when it cannot be read (never reused then)."""
        try:
            return hashlib.sha256(read_input(self.files.root, rel, self.limits)).hexdigest()
        except (InputError, ParseError):
            return None

    def unchanged(self, site: StagedSite) -> CachedBuild | None:
        """The previous result when nothing changed at all (same key, inputs and live site), else None."""
        header = self._header
        if header is None or len(self._entries) != len(self.files.states):
            return None
        live = self._live_stats(site)
        if live.keys() != header.files.keys() or not all(
            _same_stat(header.files[p], s) for p, s in live.items()
        ):
            return None
        for rel in self.files.states:
            entry = self._entries.get(str(rel))
            if entry is None or self._digest_of(rel) != entry.sha256:
                return None
        self.reused = len(self.files.states)
        reports = [
            *header.extra_reports,
            *(self._entries[str(rel)].outcome.report for rel in self.files.states),
        ]
        return CachedBuild(reports=tuple(reports), warnings=header.warnings, papers=header.papers)

    def _live_stats(self, site: StagedSite) -> dict[str, tuple[int, int]]:
        if self._stats is None:
            self._stats = _stat_tree(site.target)
        return self._stats

    def _digest_of(self, rel: PurePosixPath) -> str | None:
        if rel not in self._digests:
            self._digests[rel] = self._digest(rel)
        return self._digests[rel]

    def seed(self, site: StagedSite) -> None:
        """Hard-link the files of every reusable state from the live site into the staging tree.

        A state is reusable when its bytes are unchanged and every file it wrote is in
        the live ``SHA256SUMS`` with the same digest, and unchanged on disk since the
        last build (a file that a collision page replaced, or that was edited or
        deleted, makes it render afresh).
        """
        if self._header is None:
            return
        recorded = self._header.files
        stats = self._live_stats(site)
        if not _same_stat(recorded.get("SHA256SUMS"), stats.get("SHA256SUMS")):
            return
        try:
            live = dict(_manifest_lines((site.target / "SHA256SUMS").read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError):
            return
        for rel in self.files.states:
            entry = self._entries.get(str(rel))
            if entry is None or entry.sha256 != self._digest_of(rel):
                continue
            paths = list(_manifest_lines(entry.outcome.manifest))
            if not all(
                live.get(path) == digest and _same_stat(recorded.get(path), stats.get(path))
                for path, digest in paths
            ):
                continue
            if site.link_from_live([path for path, _ in paths]):
                self._reusable.add(rel)

    # -- the build's outcomes -----------------------------------------------------------

    def outcomes(
        self,
        rels: Sequence[PurePosixPath],
        render: Callable[[Sequence[PurePosixPath]], Iterator[StateOutcome]],
    ) -> Iterator[StateOutcome]:
        """Every state's outcome in input order: reused ones from the cache, the rest from ``render``."""
        fresh = render([rel for rel in rels if rel not in self._reusable])
        for rel in rels:
            if rel in self._reusable:
                self.reused += 1
                yield self._outcome(str(rel))
            else:
                self.rendered += 1
                yield next(fresh)

    def _outcome(self, name: str) -> StateOutcome:
        entry = self._entries[name]
        assert self._handle is not None
        self._handle.seek(entry.line_offset)
        return dataclasses.replace(entry.outcome, report_line=self._handle.read(entry.line_length), files=0)

    # -- writing the next cache ---------------------------------------------------------

    def record(self, outcome: StateOutcome) -> None:
        """Remember one state's outcome for the next build (unreadable inputs are not remembered)."""
        if not outcome.input_sha256:
            return
        self._recorded.add(outcome.report.input)
        if self._next is None:
            fd, name = tempfile.mkstemp(prefix=f"{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            self._next, self._next_path = os.fdopen(fd, "wb"), Path(name)
        meta = {
            "input": outcome.report.input,
            "sha256": outcome.input_sha256,
            "report": outcome.report.to_json(),
            "summary": _summary_to_json(outcome.summary),
            "warnings": list(outcome.warnings),
            "manifest": outcome.manifest,
        }
        self._next.write(compact_json(meta) + b"\t" + outcome.report_line + b"\n")

    def commit(
        self, live: Path, papers: int, warnings: Iterable[str], reports: Iterable[InputReport]
    ) -> None:
        """Put the next cache in place; call after the site was swapped in. Failure only costs speed."""
        header = {
            "schema": CACHE_SCHEMA,
            "key": self.key,
            "files": _stat_tree(live),
            "papers": papers,
            "warnings": sorted(warnings),
            "extra_reports": [r.to_json() for r in reports if r.input not in self._recorded],
        }
        if self._next is None:
            fd, name = tempfile.mkstemp(prefix=f"{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            self._next, self._next_path = os.fdopen(fd, "wb"), Path(name)
        assert self._next_path is not None
        self._next.write(compact_json(header) + b"\n")
        self._next.close()
        self._next = None
        os.replace(self._next_path, self.path)


def _parse(handle: IO[bytes]) -> tuple[_Header, dict[str, _Entry]]:
    entries: dict[str, _Entry] = {}
    header_doc: dict[str, Any] | None = None
    offset = 0
    while line := handle.readline():
        meta_text, tab, _ = line.partition(b"\t")
        if not tab:
            header_doc = json.loads(line)
            break
        meta = json.loads(meta_text)
        entries[meta["input"]] = _Entry(
            outcome=StateOutcome(
                report=report_from_json(meta["report"]),
                report_line=b"",
                summary=_summary_from_json(meta["summary"]),
                warnings=tuple(meta["warnings"]),
                manifest=meta["manifest"],
                files=0,
                input_sha256=meta["sha256"],
            ),
            line_offset=offset + len(meta_text) + 1,
            line_length=len(line) - len(meta_text) - 2,
        )
        offset += len(line)
    if header_doc is None or header_doc["schema"] != CACHE_SCHEMA:
        raise ValueError("no cache header")
    header = _Header(
        key=header_doc["key"],
        files={name: (size, mtime) for name, (size, mtime) in header_doc["files"].items()},
        papers=header_doc["papers"],
        warnings=tuple(header_doc["warnings"]),
        extra_reports=tuple(report_from_json(r) for r in header_doc["extra_reports"]),
    )
    return header, entries


def _same_stat(recorded: tuple[int, int] | None, live: tuple[int, int] | None) -> bool:
    """Whether a live file is as the last build left it: same size and modification time.

    A time with no fraction of a second that matches to the second also counts: that
    is a tree restored from an archive keeping whole seconds (tar, CI caches), while
    an edit made later has a later time.
    """
    if recorded is None or live is None or recorded[0] != live[0]:
        return False
    second = 1_000_000_000
    return recorded[1] == live[1] or (live[1] % second == 0 and live[1] // second == recorded[1] // second)


def _stat_tree(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under ``root``, by ``/``-separated relative path."""
    found: dict[str, tuple[int, int]] = {}
    prefix = len(str(root)) + 1
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            found[path[prefix:].replace(os.sep, "/")] = (st.st_size, st.st_mtime_ns)
    return found

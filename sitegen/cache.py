"""The incremental-build cache (layer 6, part of the build pipeline beside ``build.py``).

A paper's own files (its page, endpoints and alias redirects) are a pure function of
its state file's bytes and of the *build key*: a hash of the tool's version and code,
the templates and assets, ``site.yaml``, the keyring, the Markdown pages and the
integrity files. The cache remembers, per state file, the SHA-256 of its bytes, the
file's ``stat`` when it was read, and what processing it produced (report, summary,
warnings, ``SHA256SUMS`` lines).

A state is *unchanged* when its ``stat`` (size, modification and change times, inode)
is the one recorded, or else when its bytes hash to the recorded SHA-256; as in Git,
a state modified within two seconds of the build that recorded it is always hashed
again, so an edit in the same clock tick is never missed. With the same key and
every state unchanged, the build is a no-op and touches nothing. Otherwise the
unchanged states are *reused*: only the others are rendered (see ``build.py`` for how
the new tree is assembled and published).

The build owns its output directory: the cache trusts that the live site is the tree
its ``SHA256SUMS`` lists while that file is the one recorded (same ``stat``, or same
bytes after a restore from a CI cache; anything that rewrites the site rewrites it). ``python -m sitegen check DIR`` audits every file
against ``SHA256SUMS``; ``build --no-cache`` rebuilds from scratch.

The cache is one JSON-lines file beside the output (``.<out>.cache.jsonl``), never
served: one line per state (metadata, a tab, the full report line), then one index
line per state (its name, digest, stat, verdict and where its line is), then a header
line last (the key, the live ``SHA256SUMS``'s stat and digest, the warnings, and where
the index lines start). A build reads the header, streams the index lines into a
compact table (a few hundred bytes a state), and reads the lines of the states it
reuses. A missing, unreadable or foreign cache only means a clean build.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import orjson

from sitegen import __version__
from sitegen.errors import InputError, ParseError
from sitegen.output import StagedSite, file_sha256, manifest_paths
from sitegen.paper import StateOutcome
from sitegen.parse import Limits
from sitegen.render import compact_json
from sitegen.report import InputReport, Verdict, report_from_json
from sitegen.shardlog import summary_doc, summary_from_doc
from sitegen.sources import ContentFiles, read_input

__all__ = [
    "CACHE_SCHEMA",
    "BuildCache",
    "CachedBuild",
    "ManifestWitness",
    "ReusePlan",
    "build_key",
    "cache_path",
]

CACHE_SCHEMA = "pith-sitegen/build-cache/v6"
_CODE_DIR = Path(__file__).resolve().parent
_RACY_NS = 2_000_000_000
"""A state modified this close to the start of the build that read it is hashed again next time."""
_TAIL_BLOCK = 1 << 20

StatKey = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode) of a file: any write or ``touch`` changes one of them."""
_PACKED_STAT = struct.Struct("<4q")
"""A ``StatKey`` as the index table holds it: 32 bytes instead of a tuple of four integers."""


def cache_path(out: Path) -> Path:
    """Where the cache of output directory ``out`` lives: beside it, never inside it."""
    target = out.absolute()
    return target.parent / f".{target.name}.cache.jsonl"


def _stat_key(path: Path | str) -> StatKey | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _file_sha256(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


@dataclass(frozen=True, slots=True)
class ManifestWitness:
    """The live ``SHA256SUMS`` as a build left it: the cache's witness that the site is unchanged.

    Its ``stat`` is checked first; a tree restored from an archive (a CI cache) has new
    inodes and times, so then the bytes are hashed and compared instead.
    """

    stat: StatKey
    sha256: str

    @classmethod
    def of(cls, site: Path) -> ManifestWitness | None:
        path = site / "SHA256SUMS"
        stat, sha256 = _stat_key(path), _file_sha256(path)
        return None if stat is None or sha256 is None else cls(stat, sha256)

    def matches(self, site: Path) -> bool:
        path = site / "SHA256SUMS"
        return _stat_key(path) == self.stat or _file_sha256(path) == self.sha256


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


@dataclass(frozen=True, slots=True, kw_only=True)
class _Indexed:
    """One state as the previous build left it: enough to decide reuse without reading its line."""

    sha256: bytes
    stat: bytes | None
    """The packed ``StatKey``; None when the state was modified too close to that build to trust it."""
    offset: int
    length: int
    verdict: Verdict
    pith_number: str | None
    source_id: str | None
    displaced: bool
    """Another paper claimed one of its paths, so some of its files are not in the live site."""

    def slim_report(self, name: str, read_line: Callable[[_Indexed], dict[str, Any]]) -> InputReport:
        """The report kept in memory for this state: rebuilt from the index when it verified."""
        if self.verdict is Verdict.VERIFIED:
            return InputReport(
                input=name,
                kind="state",
                verdict=self.verdict,
                pith_number=self.pith_number,
                source_id=self.source_id,
            )
        return report_from_json(read_line(self)["report"])


@dataclass(frozen=True, slots=True, kw_only=True)
class _Header:
    """The cache's last line: everything but the per-state index lines, and where they start."""

    key: str
    manifest: ManifestWitness | None
    papers: int
    warnings: tuple[str, ...]
    site_files: tuple[str, ...]
    """The live site's files that no state's line lists (index pages, search, report...)."""
    extra_reports: tuple[InputReport, ...]
    """Reports of inputs the cache has no line for (integrity files, refused inputs), for a no-op build."""
    displaced: frozenset[str]
    entries_at: int
    entries: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Index:
    header: _Header
    states: dict[str, _Indexed]


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedBuild:
    """What a no-op build returns: the previous build's reports and warnings, nothing written."""

    reports: tuple[InputReport, ...]
    warnings: tuple[str, ...]
    papers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReusePlan:
    """Which states this build renders and which it takes from the previous build."""

    reusable: frozenset[str]
    """The names of the states taken from the previous build."""
    stale_files: frozenset[str]
    """Live files of the states rendered again or gone, and the previous site-wide files:
    what a patched site must delete unless this build writes them again."""


class BuildCache:
    """The previous build's cache, the reuse plan for this build, and the next cache being written.

    Use as a context manager around the build; ``commit`` after the site is published.
    """

    def __init__(self, out: Path, files: ContentFiles, limits: Limits, key: str, *, reuse: bool) -> None:
        self.path = cache_path(out)
        self.files = files
        self._root_text = os.fspath(files.root)
        self.key = key
        self.limits = limits
        self.started_ns = time.time_ns()
        self._handle: IO[bytes] | None = None
        self._index: _Index | None = None
        if reuse:
            self._read()
        self._stats: dict[PurePosixPath, StatKey | None] = {}
        """This build's ``stat`` of the states whose ``stat`` is not the one their index line has."""
        self._reusable: frozenset[str] = frozenset()
        """The names of the states taken from the previous build (a path's text is kept on the path)."""
        self._next: IO[bytes] | None = None
        self._next_path: Path | None = None
        self._next_offset = 0
        self._next_index: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        """The next index's per-state entries, spooled to disk as they come (memory stays flat)."""
        self._next_recorded: set[str] = set()
        self.reused = 0
        self.rendered = 0

    # -- reading the previous cache ---------------------------------------------------

    def _read(self) -> None:
        try:
            handle = self.path.open("rb")
        except OSError:
            return
        try:
            header = _parse_header(_last_line(handle))
            index = _read_index(handle, header) if header.key == self.key else None
        except (ValueError, KeyError, TypeError, IndexError, OSError, struct.error):
            index = None
        if index is None:
            handle.close()
            return
        self._handle, self._index = handle, index

    def __enter__(self) -> BuildCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self._next_index.close()
        if self._handle is not None:
            self._handle.close()
        if self._next is not None:
            self._next.close()
            assert self._next_path is not None
            with contextlib.suppress(OSError):
                self._next_path.unlink()

    def _line(self, entry: _Indexed) -> bytes:
        assert self._handle is not None
        self._handle.seek(entry.offset)
        return self._handle.read(entry.length)

    def _meta(self, entry: _Indexed) -> dict[str, Any]:
        meta_text, _, _ = self._line(entry).partition(b"\t")
        doc: dict[str, Any] = orjson.loads(meta_text)
        return doc

    # -- planning ---------------------------------------------------------------------

    def _unchanged(self, rel: PurePosixPath, entry: _Indexed | None) -> bool:
        """Whether a state's bytes are the ones the previous build processed (``stat``, else hash)."""
        stat = _stat_key(f"{self._root_text}/{rel}")
        if entry is not None and stat is not None and entry.stat == _PACKED_STAT.pack(*stat):
            return True
        self._stats[rel] = stat
        if entry is None or stat is None:
            return False
        try:
            data = read_input(self.files.root, rel, self.limits)
        except (InputError, ParseError):
            return False
        return hashlib.sha256(data).digest() == entry.sha256

    def plan(self, live: Path) -> CachedBuild | ReusePlan | None:
        """A ``CachedBuild`` when nothing changed at all, else what can be reused (None: nothing).

        Reuse needs the same key and the live site as the previous build left it.
        """
        index = self._index
        if index is None or index.header.manifest is None or not index.header.manifest.matches(live):
            return None
        unchanged = [rel for rel in self.files.states if self._unchanged(rel, index.states.get(str(rel)))]
        if len(unchanged) == len(self.files.states) == len(index.states):
            self.reused = len(unchanged)
            reports = [
                *index.header.extra_reports,
                *(index.states[str(rel)].slim_report(str(rel), self._meta) for rel in self.files.states),
            ]
            return CachedBuild(
                reports=tuple(reports), warnings=index.header.warnings, papers=index.header.papers
            )
        reusable = frozenset(name for name in map(str, unchanged) if not index.states[name].displaced)
        del unchanged
        stale = set(index.header.site_files)
        for name, entry in index.states.items():
            if name not in reusable:
                stale.update(manifest_paths(self._meta(entry)["manifest"].splitlines()))
        self._reusable = reusable
        return ReusePlan(reusable=reusable, stale_files=frozenset(stale))

    def seed(self, site: StagedSite) -> None:
        """Hard-link the reusable states' files from the live site into the staging tree.

        For a rebuild that stages the whole new tree; a state whose files cannot all be
        linked (one was deleted from the live site) is rendered afresh instead.
        """
        assert self._index is not None
        kept = set()
        for name in sorted(self._reusable):
            paths = list(manifest_paths(self._meta(self._index.states[name])["manifest"].splitlines()))
            if site.link_from_live(paths):
                kept.add(name)
        self._reusable = frozenset(kept)

    # -- the build's outcomes -----------------------------------------------------------

    def outcomes(
        self,
        rels: Sequence[PurePosixPath],
        render: Callable[[Sequence[PurePosixPath]], Iterator[StateOutcome]],
    ) -> Iterator[StateOutcome]:
        """Every state's outcome in input order: reused ones from the cache, the rest from ``render``.

        Each is remembered for the next build as it passes (once: a reused state's line is copied).
        """
        fresh = render([rel for rel in rels if str(rel) not in self._reusable])
        for rel in rels:
            if str(rel) in self._reusable:
                self.reused += 1
                yield self._reused_outcome(rel)
            else:
                self.rendered += 1
                outcome = next(fresh)
                self._record(outcome)
                yield outcome
        # the site-wide step comes next: its peak need not hold the old index and plan too
        self._index, self._reusable = None, frozenset()
        self._stats.clear()

    def _reused_outcome(self, rel: PurePosixPath) -> StateOutcome:
        assert self._index is not None
        entry = self._index.states[str(rel)]
        line = self._line(entry)
        meta_text, _, report_line = line.partition(b"\t")
        meta = orjson.loads(meta_text)
        sha256 = entry.sha256.hex()
        stat = self._stats[rel] if rel in self._stats else _unpack_stat(entry.stat)
        self._append(rel, sha256, stat, entry.verdict, entry.pith_number, entry.source_id, line)
        return StateOutcome(
            report=entry.slim_report(str(rel), lambda _: meta),  # shares the index's strings
            report_line=report_line,
            summary=None if meta["summary"] is None else summary_from_doc(meta["summary"]),
            warnings=tuple(meta["warnings"]),
            manifest=meta["manifest"],
            files=0,
            input_sha256=sha256,
        )

    # -- writing the next cache ---------------------------------------------------------

    def _record(self, outcome: StateOutcome) -> None:
        """Remember a freshly rendered state's outcome for the next build (unreadable inputs are not)."""
        if not outcome.input_sha256:
            return
        report = outcome.report
        meta = {
            "input": report.input,
            "report": None if report.verdict is Verdict.VERIFIED else report.to_json(),  # see slim_report
            "summary": None if outcome.summary is None else summary_doc(outcome.summary),
            "warnings": list(outcome.warnings),
            "manifest": outcome.manifest,
        }
        rel = PurePosixPath(report.input)
        line = orjson.dumps(meta) + b"\t" + outcome.report_line
        stat = self._stats[rel] if rel in self._stats else _stat_key(f"{self._root_text}/{rel}")
        self._append(
            rel, outcome.input_sha256, stat, report.verdict, report.pith_number, report.source_id, line
        )

    def _append(
        self,
        rel: PurePosixPath,
        sha256: str,
        stat: StatKey | None,
        verdict: Verdict,
        pith_number: str | None,
        source_id: str | None,
        line: bytes,
    ) -> None:
        if self._next is None:
            fd, name = tempfile.mkstemp(prefix=f"{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            self._next, self._next_path = os.fdopen(fd, "wb"), Path(name)
        trusted = stat is not None and stat[2] < self.started_ns - _RACY_NS
        entry = [
            str(rel),
            sha256,
            list(stat) if trusted and stat else None,
            self._next_offset,
            len(line),
            verdict.value,
            pith_number,
            source_id,
        ]
        # read only by this module: no canonical form needed
        self._next_index.write(orjson.dumps(entry) + b"\n")
        self._next_recorded.add(str(rel))
        self._next.write(line + b"\n")
        self._next_offset += len(line) + 1

    def commit(
        self,
        live: Path,
        papers: int,
        warnings: Iterable[str],
        reports: Iterable[InputReport],
        site_manifest: str,
        displaced: Iterable[str],
    ) -> None:
        """Put the next cache in place; call after the site was published. Failure only costs speed.

        ``reports``: every input's report (those of inputs with no line are kept); ``site_manifest``: the
        ``SHA256SUMS`` lines of the site-wide files; ``displaced``: the states a collision
        page displaced (rendered afresh next time).
        """
        witness = ManifestWitness.of(live)
        header = {
            "schema": CACHE_SCHEMA,
            "key": self.key,
            "manifest": None if witness is None else [list(witness.stat), witness.sha256],
            "papers": papers,
            "warnings": sorted(warnings),
            "site_files": list(manifest_paths(site_manifest.splitlines())),
            "extra_reports": [r.to_json() for r in reports if r.input not in self._next_recorded],
            "displaced": sorted(set(displaced) & self._next_recorded),
            "entries_at": self._next_offset,
            "entries": len(self._next_recorded),
        }
        if self._next is None:
            fd, name = tempfile.mkstemp(prefix=f"{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            self._next, self._next_path = os.fdopen(fd, "wb"), Path(name)
        assert self._next_path is not None
        self._next_index.seek(0)
        shutil.copyfileobj(self._next_index, self._next)
        self._next.write(compact_json(header) + b"\n")
        self._next.close()
        self._next = None
        os.replace(self._next_path, self.path)


def _last_line(handle: IO[bytes]) -> bytes:
    """The file's last line (the header), read backwards from its end a block at a time."""
    end = handle.seek(0, os.SEEK_END)
    blocks: list[bytes] = []
    position = end
    while position > 0:
        step = min(_TAIL_BLOCK, position)
        position -= step
        handle.seek(position)
        block = handle.read(step)
        cut = block.rfind(b"\n", 0, len(block) - 1 if not blocks else len(block))
        if cut >= 0:
            blocks.append(block[cut + 1 :])
            break
        blocks.append(block)
    return b"".join(reversed(blocks))


def _stat_tuple(values: list[int]) -> StatKey:
    size, mtime_ns, ctime_ns, inode = values
    return (size, mtime_ns, ctime_ns, inode)


def _unpack_stat(packed: bytes | None) -> StatKey | None:
    if packed is None:
        return None
    size, mtime_ns, ctime_ns, inode = _PACKED_STAT.unpack(packed)
    return (size, mtime_ns, ctime_ns, inode)


def _parse_header(line: bytes) -> _Header:
    doc = json.loads(line)
    if doc["schema"] != CACHE_SCHEMA:
        raise ValueError("not this version's cache")
    manifest = doc["manifest"]
    return _Header(
        key=doc["key"],
        manifest=None if manifest is None else ManifestWitness(_stat_tuple(manifest[0]), manifest[1]),
        papers=doc["papers"],
        warnings=tuple(doc["warnings"]),
        site_files=tuple(doc["site_files"]),
        extra_reports=tuple(report_from_json(r) for r in doc["extra_reports"]),
        displaced=frozenset(doc["displaced"]),
        entries_at=doc["entries_at"],
        entries=doc["entries"],
    )


def _read_index(handle: IO[bytes], header: _Header) -> _Index:
    """The per-state index lines, one at a time (a single JSON document would need its whole text and tree in memory)."""
    handle.seek(header.entries_at)
    states: dict[str, _Indexed] = {}
    for _ in range(header.entries):
        line = handle.readline()
        if not line.endswith(b"\n"):
            raise ValueError("the index ends early")
        name, sha256, stat, offset, length, verdict, pith_number, source_id = orjson.loads(line)
        states[name] = _Indexed(
            sha256=bytes.fromhex(sha256),
            stat=None if stat is None else _PACKED_STAT.pack(*stat),
            offset=offset,
            length=length,
            verdict=Verdict(verdict),
            pith_number=pith_number,
            source_id=source_id,
            displaced=name in header.displaced,
        )
    return _Index(header=header, states=states)

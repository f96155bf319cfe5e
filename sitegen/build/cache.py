"""The incremental-build cache (layer 5, part of the build pipeline beside ``pipeline.py``).

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
unchanged states are *reused*: only the others are rendered (see ``pipeline.py`` for how
the new tree is assembled and published).

The build owns its output directory: the cache trusts that the live site is the tree
its ``SHA256SUMS`` lists while that file is the one recorded (same ``stat``, or same
bytes after a restore from a CI cache; anything that rewrites the site rewrites it). ``python -m sitegen check DIR`` audits every file
against ``SHA256SUMS``; ``build --no-cache`` rebuilds from scratch.

The cache is a directory beside the output (``.<out>.cache/``), never served. A build
writes one *generation* of files there: the streams the site-wide step reads anyway
(``G.reports``: every input's full report line; ``G.manifest``: the ``SHA256SUMS``
lines; ``G.summaries``: the papers' summaries, see ``spill.py``), and ``G.index``: every
state in input order (its name, digest, stat, verdict, warnings and where its bytes are in the
three streams) as columns, one JSON line of the texts and then a fixed-size binary entry a
state, whose SHA-256 ``HEAD`` notes; and ``G.site``: the ``SHA256SUMS`` lines of the
site-wide step's files (a patched rebuild keeps an integrity endpoint that the live site
lists with the bytes it would link, without a look at it). ``HEAD`` says which generation
is current, with the key, the live ``SHA256SUMS``'s stat and digest and the warnings; it is replaced
last, atomically, and the older generation deleted after. The next build reads
``HEAD`` and the index as a table of those columns (``_IndexTable``: about 200 bytes a state). Its streams are
the last generation's, linked (``_linked_streams``): the states it reuses stay where they
are, the fresh ones are appended, and the index entries of a reused run are copied as they are,
so a small change writes the changed states' bytes and an index, not the streams again. The
bytes of replaced states stay behind until the streams are ``_DEAD_SHARE`` times the bytes the
index covers; the next rebuild then writes them afresh, copying the reused states' bytes a run
at a time (``copy_file_range``: they never pass through Python). The last generation's files
are only ever appended to past the size its ``HEAD`` says, so it stays whole until the new one
is committed; a build that fails leaves bytes past that size, which the next one cuts off.
A missing, unreadable or foreign cache only means a clean build.

``HEAD`` also notes what each site-wide file written by ``StagedSite.write_made`` was made
of (a digest of its inputs: month pages, manifest bins, alias bins) and its SHA-256; the
next build keeps such a file, unmade, while its inputs' digest is the same, so the
site-wide files a change does not reach cost a digest of their inputs, not their bytes.
It notes the search index's state and the states the listings left out too; the next build,
if it reuses most states, is given those and the summaries of the states it does not reuse
(``ListedBefore``), from which ``site_search`` patches the live index instead of making it whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import operator
import os
import re
import struct
import tempfile
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import orjson

from sitegen import __version__
from sitegen.build.orders import GONE, KeptOrders, kept_orders
from sitegen.build.paper_job import StateOutcome, slim_report
from sitegen.errors import InputError, ParseError
from sitegen.fs.sources import ContentFiles, read_input
from sitegen.fs.staging import Made, StagedSite, file_sha256, manifest_paths
from sitegen.pith.parse import Limits
from sitegen.pith.report import InputReport, InputReports, Verdict, VerifiedReports, report_from_json
from sitegen.render.templates import compact_json

__all__ = [
    "CACHE_SCHEMA",
    "BuildCache",
    "CachedBuild",
    "Listed",
    "ListedBefore",
    "ManifestWitness",
    "ReusePlan",
    "ReusedRun",
    "Streams",
    "build_key",
    "cache_path",
]

CACHE_SCHEMA = "pith-sitegen/build-cache/v16"
_CODE_DIR = Path(__file__).resolve().parents[1]
_RACY_NS = 2_000_000_000
"""A state modified this close to the start of the build that read it is hashed again next time."""
_HEAD = "HEAD"
_STREAMS = ("reports", "manifest", "summaries")
_SITE_SUMS = "site"
"""The generation file holding the ``SHA256SUMS`` lines of the site-wide step's files (``commit``)."""
_ORDERS = "orders"
"""The generation file holding the site orders the next build patches (``orders.orders_file``)."""
_COMPILED_TEMPLATES = "templates"
"""The directory of compiled templates every build of this output uses (``compiled_templates``)."""
_GENERATION = (*_STREAMS, "index", _SITE_SUMS, _ORDERS)
"""The files of one generation."""
_DAMAGED = (ValueError, KeyError, TypeError, IndexError, OSError)
"""What reading a damaged cache raises (orjson's errors are ``ValueError``s)."""
PATCHED_SHARE = 512
"""A build patches the search index when the states it renders and drops are at most one in this
many (and 32 more): each changed paper re-cuts the shards of its terms, so a share past that
costs more than a whole index, made beside the other site-wide files by a forked process
(measured at 100,000 papers: 1 % changed took 37 s patched, 29 s whole; docs/scale.md)."""
_RUN_STATES = 4096
"""States per reused run at most: runs are copied whole, and progress is reported after each."""
_DEAD_SHARE = 2
"""A rebuild appends to the last generation's streams while they are at most this many times the
bytes its index covers; past that it writes them afresh, copying only the bytes of the states it
reuses (a compaction)."""

StatKey = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode) of a file: any write or ``touch`` changes one of them."""
_PACKED_STAT = struct.Struct("<4q")
"""A ``StatKey`` as the index table holds it: 32 bytes instead of a tuple of four integers."""
Spans = tuple[int, int, int, int, int, int]
"""Where one state's bytes are in the three streams: offset and length in ``reports``,
``manifest`` and ``summaries``, in that order."""
_PACKED_SPANS = struct.Struct("<6Q")


def cache_path(out: Path) -> Path:
    """The cache directory of output directory ``out``: beside it, never inside it."""
    target = out.absolute()
    return target.parent / f".{target.name}.cache"


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


_ENTRY = struct.Struct("<32s32s48sBB")
"""One state's fixed-size entry in an index: the SHA-256 of its bytes, its packed ``StatKey`` (zeros
when untrusted), its packed ``Spans``, its verdict (an index in ``Verdict``) and flags (``_TRUSTED``,
``_HAS_RECORD``)."""
_VERDICT_AT, _FLAGS_AT = 112, 113
"""Where an entry's verdict and flags bytes are."""
_TRUSTED, _HAS_RECORD = 1, 2
"""Flags: the stat is one to trust (not modified too close to the build that read it); the state
has a summary record (``SummarySpill``)."""
_VERDICTS = tuple(Verdict)
_VERDICT_INDEX = {verdict: at for at, verdict in enumerate(_VERDICTS)}
_RECORD_BIT = bytes((flags & _HAS_RECORD) >> 1 for flags in range(256))
"""Per flags byte: 1 when ``_HAS_RECORD`` is set, else 0 (``bytes.translate`` maps a column of them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _IndexTable:
    """Every state as a generation's index left it, in input order: enough to decide reuse and
    copy its bytes, held as columns (a bytes entry each, lists of texts) rather than an object a
    state, so reading the index is a few whole-file operations."""

    names: list[str]
    position: dict[str, int]
    """Each name's place in ``names`` (the place every other column is read at)."""
    entries: bytes
    """``_ENTRY.size`` bytes a state."""
    pith_numbers: list[str | None]
    source_ids: list[str | None]
    warnings: dict[int, tuple[str, ...]]
    """The warnings of the states that have any, by place."""
    records: array[int]
    """Per state: how many states up to and including it have a summary record."""

    def __len__(self) -> int:
        return len(self.names)

    def sha256(self, at: int) -> bytes:
        start = at * _ENTRY.size
        return self.entries[start : start + 32]

    def stat(self, at: int) -> bytes | None:
        """The packed ``StatKey``; None when the state was modified too close to that build to trust it."""
        start = at * _ENTRY.size
        return self.entries[start + 32 : start + 64] if self.entries[start + _FLAGS_AT] & _TRUSTED else None

    def spans(self, at: int) -> Spans:
        start = at * _ENTRY.size + 64
        spans: Spans = _PACKED_SPANS.unpack(self.entries[start : start + 48])
        return spans

    def verdict(self, at: int) -> Verdict:
        return _VERDICTS[self.entries[at * _ENTRY.size + _VERDICT_AT]]

    def record(self, at: int) -> int:
        """Its summary's record number in that build (``SummarySpill``), or -1 when it had none."""
        return self.records[at] - 1 if self.entries[at * _ENTRY.size + _FLAGS_AT] & _HAS_RECORD else -1

    def verified_reports(self, places: Sequence[int]) -> VerifiedReports:
        """The reports of the states at ``places``, each a verified one (``plan`` reuses no other),
        as the index has them: three columns picked in C, each report made only when read."""
        if len(places) == 1:  # itemgetter of one item returns it, not a tuple of it
            at = places[0]
            return VerifiedReports((self.names[at],), (self.pith_numbers[at],), (self.source_ids[at],))
        pick = operator.itemgetter(*places)
        return VerifiedReports(pick(self.names), pick(self.pith_numbers), pick(self.source_ids))

    @classmethod
    def read(cls, data: bytes, count: int) -> _IndexTable:
        """The table ``_IndexWriter.write`` wrote, of ``count`` states.

        Raises:
            ValueError, TypeError: ``data`` is not such a table.
        """
        end = data.index(b"\n")
        names, pith_numbers, source_ids, warnings = orjson.loads(data[:end])
        entries = data[end + 1 :]
        if (
            not len(names) == len(pith_numbers) == len(source_ids) == count
            or len(entries) != count * _ENTRY.size
        ):
            raise ValueError("the index does not hold the states HEAD says")
        position = dict(zip(names, range(count), strict=True))
        if len(position) != count or max(entries[_VERDICT_AT :: _ENTRY.size], default=0) >= len(_VERDICTS):
            raise ValueError("not an index")
        flags = entries[_FLAGS_AT :: _ENTRY.size]
        return cls(
            names=names,
            position=position,
            entries=entries,
            pith_numbers=pith_numbers,
            source_ids=source_ids,
            warnings={at: tuple(texts) for at, texts in warnings},
            records=array("q", itertools.accumulate(flags.translate(_RECORD_BIT))),
        )


@dataclass(frozen=True, slots=True)
class _IndexedState:
    """What the next index notes of one state (``_IndexWriter.add``)."""

    name: str
    sha256: bytes
    stat: StatKey | None
    """None when it is not to be trusted (modified too close to the build that read it)."""
    verdict: Verdict
    pith_number: str | None
    source_id: str | None
    warnings: Sequence[str]
    spans: Spans


class _IndexWriter:
    """The next generation's index, gathered in memory (a state's entry, or a run of the last
    index's copied whole) and written by ``commit``."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._entries = bytearray()
        self._pith_numbers: list[str | None] = []
        self._source_ids: list[str | None] = []
        self._warnings: list[tuple[int, Sequence[str]]] = []

    def add(self, state: _IndexedState) -> None:
        """One state."""
        stat, spans = state.stat, state.spans
        if state.warnings:
            self._warnings.append((len(self.names), state.warnings))
        flags = (_TRUSTED if stat is not None else 0) | (_HAS_RECORD if spans[5] else 0)
        packed_stat = _NO_STAT if stat is None else _PACKED_STAT.pack(*stat)
        self._entries += _ENTRY.pack(
            state.sha256, packed_stat, _PACKED_SPANS.pack(*spans), _VERDICT_INDEX[state.verdict], flags
        )
        self.names.append(state.name)
        self._pith_numbers.append(state.pith_number)
        self._source_ids.append(state.source_id)

    def add_block(self, table: _IndexTable, first: int, count: int) -> None:
        """The states at ``first`` to ``first + count - 1`` of the last index, as it has them."""
        end = first + count
        for at in range(first, end):
            if at in table.warnings:
                self._warnings.append((len(self.names) + at - first, table.warnings[at]))
        self._entries += table.entries[first * _ENTRY.size : end * _ENTRY.size]
        self.names += table.names[first:end]
        self._pith_numbers += table.pith_numbers[first:end]
        self._source_ids += table.source_ids[first:end]

    def write(self, path: Path) -> str:
        """Write the index file (read only by this module: no canonical form needed) at ``path``;
        returns its SHA-256.

        Raises:
            OSError: it could not be written.
        """
        texts = orjson.dumps([self.names, self._pith_numbers, self._source_ids, self._warnings])
        digest = hashlib.sha256(texts)
        digest.update(b"\n")
        digest.update(self._entries)
        with path.open("wb") as handle:
            handle.writelines((texts, b"\n", self._entries))
        return digest.hexdigest()


_NO_STAT = bytes(_PACKED_STAT.size)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Header:
    """``HEAD``: everything but the per-state index lines, and which generation holds them."""

    key: str
    generation: str
    sizes: tuple[int, int, int]
    """The bytes of the generation's three streams: a shorter file means a damaged cache (a longer
    one, bytes a later build that did not commit appended to a stream it shares)."""
    live: tuple[int, int, int]
    """The bytes of each stream that the index's spans cover: the rest are the bytes of states
    replaced since the stream was last written afresh."""
    manifest: ManifestWitness | None
    papers: int
    warnings: tuple[str, ...]
    site_bytes: int
    """The size of the generation's ``site`` file: the ``SHA256SUMS`` lines of the live site's
    files that no state's line lists (index pages, search, report, integrity endpoints...)."""
    extra_reports: tuple[InputReport, ...]
    """Reports of inputs the cache has no line for (integrity files, refused inputs), for a no-op build."""
    displaced: frozenset[str]
    entries: int
    index_sha256: str
    """The SHA-256 of the generation's index file (``_IndexWriter.write``)."""
    orders_bytes: int
    """The size of the generation's ``orders`` file (``orders.orders_file``); 0: it has none."""
    made: dict[str, Made]
    """What the site-wide files written by ``StagedSite.write_made`` were made of."""
    search: Any
    """The search index's state (``IndexState.to_json``), or None."""
    unlisted: frozenset[str]
    """The states whose papers the listings (and the search index) left out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Index:
    header: _Header
    table: _IndexTable
    streams: tuple[int, int, int]
    """Open descriptors of the generation's ``reports``, ``manifest`` and ``summaries``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedBuild:
    """What a no-op build returns: the previous build's reports and warnings, nothing written."""

    reports: InputReports
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
    made: dict[str, Made]
    """What the live site-wide files were made of (``StagedSite.remember``)."""
    site_sums: dict[str, str]
    """The SHA-256 the live ``SHA256SUMS`` lists for each previous site-wide file (``StagedSite.remember``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedBefore:
    """What the live site's search index was made of, for patching it (``sitegen.render.search_update``)."""

    search: Any
    """Its state, as the last build noted it (``IndexState.to_json``)."""
    replaced: tuple[bytes, ...]
    """The summary records (``SummarySpill.record``) the last build had of the states this build
    does not reuse (changed, gone, or rendered every build), that its index listed."""
    relisted: bool
    """Whether a state this build reuses was left out of the last build's listings."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Listed:
    """What a build's search index was made of, noted for the next build (``ListedBefore``)."""

    search: Any
    """The index's state (``IndexState.to_json``)."""
    unlisted: frozenset[str]
    """The states whose papers the listings left out."""


@dataclass(frozen=True, slots=True)
class Streams:
    """The files a build streams its reports, ``SHA256SUMS`` lines and summaries into.

    ``held``: the bytes each file holds already, which appends follow: those of the last
    generation, whose files these are (linked) when the build reuses its states where they lie.
    """

    reports: IO[bytes]
    manifest: IO[bytes]
    summaries: IO[bytes]
    held: tuple[int, int, int] = (0, 0, 0)

    @classmethod
    def temporary(cls) -> Streams:
        """Anonymous files, for builds that keep no cache (a shard, a merge)."""
        return cls(tempfile.TemporaryFile(), tempfile.TemporaryFile(), tempfile.TemporaryFile())

    def close(self) -> None:
        for stream in (self.reports, self.manifest, self.summaries):
            stream.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReusedRun:
    """States reused from the previous build, consecutive in input order and in its streams.

    Their bytes are ``lengths[i]`` bytes from ``starts[i]`` in ``sources[i]`` for each stream;
    ``summary_lengths`` splits the summaries' bytes into records.
    """

    origin: Path
    """The cache directory the run is copied from (for messages)."""
    rels: list[str]
    places: list[int]
    """Each state's place in the last build's index."""
    spans: list[Spans]
    reports: VerifiedReports
    warnings: list[str]
    sources: tuple[int, int, int]
    starts: tuple[int, int, int]
    lengths: tuple[int, int, int]
    summary_lengths: list[int]
    in_place: bool
    """The bytes are in this build's streams already, at ``starts`` (``Streams.held``): nothing to copy."""

    def __len__(self) -> int:
        return len(self.rels)


class BuildCache:
    """The previous build's cache, the reuse plan for this build, and the next cache being written.

    Use as a context manager around the build; ``streams`` gives the files the build's
    streams go to, ``record`` and ``record_run`` index what went there, and ``commit``
    makes it the current generation after the site is published.
    """

    def __init__(self, out: Path, files: ContentFiles, limits: Limits, key: str, *, reuse: bool) -> None:
        self.path = cache_path(out)
        self.files = files
        self._root_text = os.fspath(files.root)
        self.key = key
        self.limits = limits
        self.started_ns = time.time_ns()
        self._index: _Index | None = None
        if reuse:
            self._read()
        self._stats: dict[str, StatKey | None] = {}
        """This build's ``stat`` of the states whose ``stat`` is not the one their index line has."""
        self._reusable: frozenset[str] = frozenset()
        """The names of the states taken from the previous build (a path's text is kept on the path)."""
        self._generation = f"{time.time_ns():x}-{os.getpid()}"
        self._next: Streams | None = None
        self._next_index: _IndexWriter | None = None
        self._next_error: OSError | None = None
        self._next_recorded: set[str] = set()
        self.reused = 0
        self.rendered = 0
        self.listed_before: ListedBefore | None = None
        """Set by ``outcomes`` when this build reuses enough of the last one to patch its search index."""
        self.kept_orders: KeptOrders | None = None
        """Set by ``outcomes``: the last build's site orders, when it kept them."""
        self._renumber = array("I")
        """Per record of the last build: its record number in this one, or ``GONE`` (``record_run``)."""
        self._next_live = [0, 0, 0]
        """The bytes of the next cache's streams that its index covers."""
        self._append_to: _Header | None = None
        """Set by ``plan``: the last generation, whose streams this build appends to."""

    # -- reading the previous cache ---------------------------------------------------

    def _read(self) -> None:
        try:
            header = _parse_header((self.path / _HEAD).read_bytes())
            if header.key != self.key:
                return
            self._index = _read_index(self.path, header)
        except (*_DAMAGED, struct.error):
            self._index = None

    def __enter__(self) -> BuildCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_previous()
        if self._next is not None:  # not committed: this generation is not the cache
            self._next.close()
            self._remove_generation_files()

    def _close_previous(self) -> None:
        if self._index is not None:
            for fd in self._index.streams:
                os.close(fd)
            self._index = None

    @property
    def compiled_templates(self) -> Path:
        """Where the builds of this output keep their compiled templates (``Renderer``'s ``compiled``):
        in the cache directory, which ``commit`` never clears of it."""
        return self.path / _COMPILED_TEMPLATES

    def _generation_files(self, names: tuple[str, ...] = _GENERATION) -> list[str]:
        """This build's generation files ``names`` (by default all of them)."""
        return [f"{self._generation}.{name}" for name in names]

    def _remove_generation_files(self, names: tuple[str, ...] = _GENERATION) -> None:
        """Delete this build's generation files ``names`` that exist (by default all of them)."""
        for name in self._generation_files(names):
            with contextlib.suppress(OSError):
                (self.path / name).unlink()

    def _report_line(self, at: int) -> bytes:
        """The full report line of the state at ``at`` in the last index as that build wrote it
        (without the separator)."""
        assert self._index is not None
        offset, length = self._index.table.spans(at)[0:2]
        return os.pread(self._index.streams[0], length, offset)[:-2]

    def _manifest_paths(self, at: int) -> Iterator[str]:
        assert self._index is not None
        offset, length = self._index.table.spans(at)[2:4]
        return manifest_paths(os.pread(self._index.streams[1], length, offset).decode("utf-8").splitlines())

    def _kept_reports(self, extra: Iterable[InputReport], table: _IndexTable) -> InputReports:
        """The reports of a no-op build: ``extra`` (the inputs that are not states), then every state's
        as the last index has it, in input order: the verified ones as runs made when read, the
        others from their report lines.

        Raises:
            ValueError, KeyError, TypeError, OSError: a report line is not one.
        """
        reports = InputReports(extra)
        verified, run = Verdict.VERIFIED, []
        for rel in self.files.states:
            at = table.position[rel]
            if table.verdict(at) is verified:
                run.append(at)
                continue
            if run:
                reports.add_verified(table.verified_reports(run))
                run = []
            reports.append(slim_report(report_from_json(orjson.loads(self._report_line(at)))))
        if run:
            reports.add_verified(table.verified_reports(run))
        return reports

    # -- planning ---------------------------------------------------------------------

    def _unchanged(self, rel: str, table: _IndexTable) -> bool:
        """Whether a state's bytes are the ones the previous build processed (``stat``, else hash)."""
        stat = _stat_key(f"{self._root_text}/{rel}")
        at = table.position.get(rel)
        if at is not None and stat is not None and table.stat(at) == _PACKED_STAT.pack(*stat):
            return True
        self._stats[rel] = stat
        if at is None or stat is None:
            return False
        try:
            data = read_input(self.files.root, rel, self.limits)
        except (InputError, ParseError):
            return False
        return hashlib.sha256(data).digest() == table.sha256(at)

    def plan(self, live: Path, *, whole_noop: bool = True) -> CachedBuild | ReusePlan | None:
        """A ``CachedBuild`` when nothing changed at all (and ``whole_noop``), else what can be
        reused (None: nothing).

        Reuse needs the same key and the live site as the previous build left it.
        """
        index = self._index
        if index is None or index.header.manifest is None or not index.header.manifest.matches(live):
            return None
        table = index.table
        unchanged = [rel for rel in self.files.states if self._unchanged(rel, table)]
        if whole_noop and len(unchanged) == len(self.files.states) == len(table):
            try:
                reports = self._kept_reports(index.header.extra_reports, table)
            except _DAMAGED:
                return None  # a report line that is not one: build afresh
            self.reused = len(unchanged)
            return CachedBuild(reports=reports, warnings=index.header.warnings, papers=index.header.papers)
        # a state that did not verify is rendered afresh every build: its files wait under the
        # staging tree's held directory until its claims are settled, so none is in the live site
        # under its own name to reuse
        displaced = index.header.displaced
        reusable = frozenset(
            name
            for name in unchanged
            if name not in displaced and table.verdict(table.position[name]) is Verdict.VERIFIED
        )
        del unchanged
        if not whole_noop:  # the full report copies each reused line: check that each is one
            try:
                for name in reusable:
                    report_from_json(orjson.loads(self._report_line(table.position[name])))
            except _DAMAGED:
                return None
        try:
            stale, site_sums = _site_sums(self._read_site_sums(index.header))
        except _DAMAGED:
            return None
        for name in table.position.keys() - reusable:
            stale.update(self._manifest_paths(table.position[name]))
        self._reusable = reusable
        header = index.header
        if reusable and all(
            size <= _DEAD_SHARE * live for size, live in zip(header.sizes, header.live, strict=True)
        ):
            self._append_to = header
        return ReusePlan(
            reusable=reusable,
            stale_files=frozenset(stale),
            made=index.header.made,
            site_sums=site_sums,
        )

    def _read_site_sums(self, header: _Header) -> str:
        """The previous build's ``site`` file (see ``commit``).

        Raises:
            OSError, ValueError: it is missing, not the size ``HEAD`` says, or not UTF-8.
        """
        data = (self.path / f"{header.generation}.{_SITE_SUMS}").read_bytes()
        if len(data) != header.site_bytes:
            raise ValueError("the site file is not the size HEAD says")
        return data.decode("utf-8")

    def seed(self, site: StagedSite) -> None:
        """Reuse the reusable states' files from the live site in the staging tree (hard links, or copies).

        For a rebuild that stages the whole new tree; a state whose files cannot all be
        placed (one was deleted from the live site) is rendered afresh instead.
        """
        assert self._index is not None
        kept = set()
        for name in sorted(self._reusable):
            if site.link_from_live(list(self._manifest_paths(self._index.table.position[name]))):
                kept.add(name)
        self._reusable = frozenset(kept)

    # -- the build's outcomes -----------------------------------------------------------

    def outcomes(
        self,
        rels: Sequence[str],
        render: Callable[[Sequence[str]], Iterator[StateOutcome]],
    ) -> Iterator[StateOutcome | ReusedRun]:
        """Every state in input order: a fresh outcome from ``render``, or runs of reused states.

        Index each with ``record`` or ``record_run`` once its bytes are in the streams.
        """
        fresh = render([name for name in rels if name not in self._reusable])
        run: list[tuple[str, int, Spans]] = []
        """The run of reused states so far: each one's name, place in the last index and spans."""
        table = self._index.table if self._index is not None else None
        records = table.records[-1] if table else 0
        self._renumber = array("I", [GONE]) * records
        for name in rels:
            if name in self._reusable:
                assert table is not None
                at = table.position[name]
                spans = table.spans(at)
                if run and (len(run) >= _RUN_STATES or not _follows(run[-1][2], spans)):
                    yield self._run(run)
                    run = []
                run.append((name, at, spans))
                continue
            if run:
                yield self._run(run)
                run = []
            self.rendered += 1
            yield next(fresh)
        if run:
            yield self._run(run)
        self.listed_before = self._listed_before()
        self.kept_orders = self._kept_orders()
        # the site-wide step comes next: its peak need not hold the old index and plan too
        self._close_previous()
        self._reusable = frozenset()
        self._stats.clear()

    def _kept_orders(self) -> KeptOrders | None:
        """The last build's site orders, renumbered for this build's records (None: it kept none)."""
        index = self._index
        if index is None or not index.header.orders_bytes:
            return None
        try:
            data = (self.path / f"{index.header.generation}.{_ORDERS}").read_bytes()
        except OSError:
            return None
        if len(data) != index.header.orders_bytes:
            return None
        return kept_orders(data, self._renumber)

    def _listed_before(self) -> ListedBefore | None:
        """What patching the last build's search index needs, when this build changes few enough
        states (``PATCHED_SHARE``)."""
        index = self._index
        if index is None or index.header.search is None:
            return None
        table = index.table
        replaced = [name for name in table.names if name not in self._reusable]
        if len(replaced) + self.rendered > len(table) // PATCHED_SHARE + 32:
            return None
        records = []
        for name in replaced:
            offset, length = table.spans(table.position[name])[4:6]
            if length and name not in index.header.unlisted:
                records.append(os.pread(index.streams[2], length, offset))
        return ListedBefore(
            search=index.header.search,
            replaced=tuple(records),
            relisted=not index.header.unlisted.isdisjoint(self._reusable),
        )

    def _run(self, run: list[tuple[str, int, Spans]]) -> ReusedRun:
        assert self._index is not None
        rels, places, spans = (list(column) for column in zip(*run, strict=True))
        first, last = spans[0], spans[-1]
        starts = (first[0], first[2], first[4])
        warnings = self._index.table.warnings
        reports = self._index.table.verified_reports(places)
        self.reused += len(run)
        return ReusedRun(
            origin=self.path,
            rels=rels,
            places=places,
            spans=spans,
            reports=reports,
            warnings=[warning for at in places if at in warnings for warning in warnings[at]],
            sources=self._index.streams,
            starts=starts,
            lengths=(
                last[0] + last[1] - starts[0],
                last[2] + last[3] - starts[1],
                last[4] + last[5] - starts[2],
            ),
            summary_lengths=[at[5] for at in spans],
            in_place=self._next is not None and self._append_to is not None,
        )

    # -- writing the next cache ---------------------------------------------------------

    def streams(self) -> Streams:
        """The files of this build's generation, for the build's streams (anonymous ones if the
        cache directory cannot be written: the build goes on, and ``commit`` says why it failed)."""
        if self._next is None:
            if self._append_to is not None:
                try:
                    self._next = self._linked_streams(self._append_to)
                except OSError:
                    self._append_to = None  # the links could not be made: write the streams afresh
                    self._remove_generation_files(_STREAMS)
            try:
                self.path.mkdir(exist_ok=True)
                if self._next is None:
                    fresh = [(self.path / name).open("w+b") for name in self._generation_files(_STREAMS)]
                    self._next = Streams(fresh[0], fresh[1], fresh[2])
                self._next_index = _IndexWriter()
            except OSError as exc:
                if self._next is not None:
                    self._next.close()
                self._next, self._next_error, self._append_to = None, exc, None
                return Streams.temporary()
        return self._next

    def _linked_streams(self, last: _Header) -> Streams:
        """This generation's streams as links of the last one's, cut to the bytes its ``HEAD``
        says they hold (a build that did not commit may have appended to them).

        Raises:
            OSError: a link could not be made or opened.
        """
        opened: list[IO[bytes]] = []
        try:
            for name, size in zip(_STREAMS, last.sizes, strict=True):
                target = self.path / f"{self._generation}.{name}"
                os.link(self.path / f"{last.generation}.{name}", target)
                handle: IO[bytes] = target.open("r+b")
                opened.append(handle)
                handle.truncate(size)
                handle.seek(size)
        except OSError:
            for handle in opened:
                handle.close()
            raise
        return Streams(opened[0], opened[1], opened[2], held=last.sizes)

    def record(self, outcome: StateOutcome, spans: Spans) -> None:
        """Index a freshly rendered state whose bytes are at ``spans`` (unreadable inputs are not)."""
        if not outcome.input_sha256:
            return
        report = outcome.report
        rel = report.input
        stat = self._stats[rel] if rel in self._stats else _stat_key(f"{self._root_text}/{rel}")
        self._append(
            _IndexedState(
                report.input,
                bytes.fromhex(outcome.input_sha256),
                stat,
                report.verdict,
                report.pith_number,
                report.source_id,
                outcome.warnings,
                spans,
            )
        )

    def record_run(self, run: ReusedRun, starts: tuple[int, int, int], first_record: int) -> None:
        """Index a reused run whose bytes are at ``starts`` in this build's streams (copied there, or
        where they were when the run is reused in place), its summaries from record ``first_record`` on."""
        if run.in_place and self._copy_entries(run, first_record):
            return
        assert self._index is not None
        table = self._index.table
        shift = [starts[i] - run.starts[i] for i in range(3)]
        renumber = self._renumber
        for number, at in enumerate(run.places, start=first_record):
            renumber[table.record(at)] = number
        for rel, at, spans in zip(run.rels, run.places, run.spans, strict=True):
            stat = self._stats[rel] if rel in self._stats else _unpack_stat(table.stat(at))
            self._append(
                _IndexedState(
                    rel,
                    table.sha256(at),
                    stat,
                    table.verdict(at),
                    table.pith_numbers[at],
                    table.source_ids[at],
                    table.warnings.get(at, ()),
                    (
                        spans[0] + shift[0],
                        spans[1],
                        spans[2] + shift[1],
                        spans[3],
                        spans[4] + shift[2],
                        spans[5],
                    ),
                )
            )

    def _copy_entries(self, run: ReusedRun, first_record: int) -> bool:
        """Index a run reused in place by copying its entries from the last index, when they are
        back to back there, each with a record, and say what this build would (no state of it had
        its ``stat`` change); returns whether it did."""
        first, count = run.places[0], len(run)
        if self._index is None or self._next_index is None or run.places[-1] != first + count - 1:
            return False
        table = self._index.table
        first_old = table.record(first)
        if first_old < 0 or table.record(first + count - 1) != first_old + count - 1:
            return False
        if not self._stats.keys().isdisjoint(run.rels):
            return False
        self._next_index.add_block(table, first, count)
        self._renumber[first_old : first_old + count] = array("I", range(first_record, first_record + count))
        self._next_recorded.update(run.rels)
        for stream, length in enumerate(run.lengths):
            self._next_live[stream] += length
        return True

    def _append(self, state: _IndexedState) -> None:
        if self._next_index is None:
            return  # the streams are anonymous files: there is no next cache to index
        stat = state.stat
        trusted = stat is not None and stat[2] < self.started_ns - _RACY_NS
        self._next_index.add(state if trusted else replace(state, stat=None))
        self._next_recorded.add(state.name)
        live, spans = self._next_live, state.spans
        live[0] += spans[1]
        live[1] += spans[3]
        live[2] += spans[5]

    def commit(
        self,
        live: Path,
        papers: int,
        warnings: Iterable[str],
        reports: Iterable[InputReport],
        site_manifest: str,
        displaced: Iterable[str],
        made: Mapping[str, Made],
        listed: Listed | None = None,
        orders: Sequence[bytes] = (),
    ) -> None:
        """Make this build's generation the cache; call after the site was published. Failure only costs speed.

        ``reports``: every input's report (those of inputs with no line are kept); ``site_manifest``: the
        ``SHA256SUMS`` lines of the site-wide files; ``displaced``: the states a collision
        page displaced (rendered afresh next time); ``made``: what site-wide files were made of;
        ``listed``: what the search index was made of (None: no index to patch next time);
        ``orders``: the site orders of this build's records (``orders.orders_file``, in parts; none: none).

        Raises:
            OSError: the cache could not be written (the previous one is left as it was).
        """
        next_streams = self.streams()
        if self._next_error is not None:
            raise self._next_error
        index = self._next_index
        assert index is not None
        sizes = []
        for stream in (next_streams.reports, next_streams.manifest, next_streams.summaries):
            stream.flush()
            sizes.append(os.fstat(stream.fileno()).st_size)
        index_sha256 = index.write(self.path / f"{self._generation}.index")
        site_sums = site_manifest.encode("utf-8")
        (self.path / f"{self._generation}.{_SITE_SUMS}").write_bytes(site_sums)
        orders_size = sum(map(len, orders))
        if orders_size:
            with (self.path / f"{self._generation}.{_ORDERS}").open("wb") as handle:
                handle.writelines(orders)
        witness = ManifestWitness.of(live)
        header = {
            "schema": CACHE_SCHEMA,
            "key": self.key,
            "generation": self._generation,
            "sizes": sizes,
            "live": self._next_live,
            "manifest": None if witness is None else [list(witness.stat), witness.sha256],
            "papers": papers,
            "warnings": sorted(warnings),
            "site": len(site_sums),
            "extra_reports": [r.to_json() for r in reports if r.input not in self._next_recorded],
            "displaced": sorted(set(displaced) & self._next_recorded),
            "entries": len(index.names),
            "index": index_sha256,
            "orders": orders_size,
            "made": {rel: [m.inputs, m.sha256] for rel, m in sorted(made.items())},
            "search": None if listed is None else listed.search,
            "unlisted": [] if listed is None else sorted(listed.unlisted),
        }
        fd, name = tempfile.mkstemp(prefix=f"{_HEAD}.", suffix=".tmp", dir=self.path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(compact_json(header) + b"\n")
        os.replace(name, self.path / _HEAD)
        next_streams.close()
        self._next, self._next_index = None, None
        current = {_HEAD, _COMPILED_TEMPLATES, *self._generation_files()}
        for old in os.listdir(self.path):
            if old not in current:
                with contextlib.suppress(OSError):
                    (self.path / old).unlink()
        with contextlib.suppress(OSError):  # the single-file cache of versions before v7
            self.path.with_name(f"{self.path.name}.jsonl").unlink()


_SUMS_LINE = re.compile(r"^([^\n]{64})  ([^\n]+)$", re.MULTILINE)
"""A ``SHA256SUMS`` line, as ``manifest_entries`` takes one (owner lines are shorter)."""


def _site_sums(text: str) -> tuple[set[str], dict[str, str]]:
    """The paths the ``site`` file lists, and the SHA-256 of each (``_unambiguous_sums``), read by
    one pattern over the whole text: it lists every site-wide file, a few a paper."""
    pairs = _SUMS_LINE.findall(text)
    paths = list(map(_SECOND, pairs))
    sums = dict(zip(paths, map(_FIRST, pairs), strict=True))
    if len(sums) != len(pairs):  # a path listed twice
        sums = _unambiguous_sums([(path, sha256) for sha256, path in pairs])
    return set(paths), sums


_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


def _unambiguous_sums(entries: list[tuple[str, str]]) -> dict[str, str]:
    """The SHA-256 of each path of these ``SHA256SUMS`` entries (``manifest_entries``), leaving out
    any path two entries list differently."""
    sums: dict[str, str] = {}
    ambiguous: set[str] = set()
    for path, sha256 in entries:
        if sums.setdefault(path, sha256) != sha256:
            ambiguous.add(path)
    for path in ambiguous:
        del sums[path]
    return sums


def _follows(before: Spans, spans: Spans) -> bool:
    """Whether a state's bytes (at ``spans``) come right after another's (at ``before``) in each stream."""
    return (
        before[0] + before[1] == spans[0]
        and before[2] + before[3] == spans[2]
        and before[4] + before[5] == spans[4]
    )


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
    reports, manifest_size, summaries = doc["sizes"]
    live_reports, live_manifest, live_summaries = doc["live"]
    return _Header(
        key=doc["key"],
        generation=doc["generation"],
        sizes=(reports, manifest_size, summaries),
        live=(live_reports, live_manifest, live_summaries),
        manifest=None if manifest is None else ManifestWitness(_stat_tuple(manifest[0]), manifest[1]),
        papers=doc["papers"],
        warnings=tuple(doc["warnings"]),
        site_bytes=doc["site"],
        extra_reports=tuple(report_from_json(r) for r in doc["extra_reports"]),
        displaced=frozenset(doc["displaced"]),
        entries=doc["entries"],
        index_sha256=doc["index"],
        orders_bytes=doc["orders"],
        made={rel: Made(inputs, sha256) for rel, (inputs, sha256) in doc["made"].items()},
        search=doc["search"],
        unlisted=frozenset(doc["unlisted"]),
    )


def _read_index(directory: Path, header: _Header) -> _Index:
    """Open the generation's streams and read its index.

    Raises:
        OSError, ValueError, TypeError: a file is missing, shorter than ``HEAD`` says, or not an index.
    """
    if "/" in header.generation or header.generation.startswith("."):
        raise ValueError("not a generation name")
    data = (directory / f"{header.generation}.index").read_bytes()
    if hashlib.sha256(data).hexdigest() != header.index_sha256:
        raise ValueError("the index is not the one HEAD names")
    table = _IndexTable.read(data, header.entries)
    streams: list[int] = []
    try:
        for name, size in zip(_STREAMS, header.sizes, strict=True):
            fd = os.open(directory / f"{header.generation}.{name}", os.O_RDONLY | os.O_CLOEXEC)
            streams.append(fd)
            if os.fstat(fd).st_size < size:
                raise ValueError(f"the {name} stream is shorter than HEAD says")
    except BaseException:
        for fd in streams:
            os.close(fd)
        raise
    return _Index(header=header, table=table, streams=(streams[0], streams[1], streams[2]))

"""The build pipeline: content directory in, verified static site out (layer 5).

One way through: read → parse → verify → summarize (per paper) → settle the plan → render
the site-wide files → write the manifest → publish. Each state file is parsed, verified and
rendered on its own (``paper_job.process_state``) in a process pool when there is more than
one core; results come back in input order, so the output is byte-identical to a
single-process build. A verified paper's files go into the staging directory, those of a
paper that is not verified are held apart (``staging.HELD_DIR``) until the claim policy
(``site.claims``, ``_settle_claims``) has settled every contested path: nothing a paper
wrote is published before the plan gives it that path. Only a small ``PaperSummary`` per
paper stays in memory; full reports and manifest lines are streamed to temporary files.
The staged site replaces the live one by an atomic swap, or an explicit in-place patch
(``fs/staging.py``).
"""

from __future__ import annotations

import bisect
import errno
import functools
import hashlib
import multiprocessing
import operator
import os
import tempfile
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.pool import AsyncResult
from pathlib import Path, PurePosixPath
from typing import IO

from sitegen.build.alias_map import write_alias_map
from sitegen.build.cache import (
    BuildCache,
    CachedBuild,
    Listed,
    ListedBefore,
    ReusedRun,
    ReusePlan,
    Spans,
    Streams,
    build_key,
)
from sitegen.build.collector import spaced_collections
from sitegen.build.orders import (
    ServedEndpoints,
    SiteOrders,
    claims_of,
    orders_file,
    patched_orders,
    site_orders,
    without,
)
from sitegen.build.paper_job import (
    STAGES,
    IntegrityRef,
    PaperContext,
    PaperSummary,
    StateOutcome,
    process_state,
    slim_report,
    unreadable_report,
)
from sitegen.build.shardlog import SHARD_LOG, ShardLog, content_fingerprint
from sitegen.build.site_search import write_search
from sitegen.build.spill import (
    SummarySpill,
    copy_range,
    made_of,
    order_key,
    order_texts,
    record_numbers,
)
from sitegen.errors import InputError, OutputError, ParseError, SignatureError, SitegenError
from sitegen.fs.compiled import compiled_templates
from sitegen.fs.sources import ContentFiles, discover, load_keyring, prefetch, read_input, read_site_yaml
from sitegen.fs.staging import (
    HELD_DIR,
    ForkedStep,
    StagedSite,
    held_root,
    place_held_file,
    refuse_unsafe_target,
    remove_tree,
)
from sitegen.pith.keys import Keyring
from sitegen.pith.model import RegistryKey
from sitegen.pith.numbers import SUFFIX_LENGTH
from sitegen.pith.report import REPORT_SCHEMA, SITE_REPORT_SCHEMA, InputReport, InputReports, Verdict
from sitegen.pith.sshsig import SIGNATURE_SUFFIX, OperatorKey
from sitegen.pith.sshsig import sign as sign_manifest
from sitegen.pith.sshsig import verify as verify_manifest_signature
from sitegen.pith.verify import public_key_pem, verify_integrity_bytes
from sitegen.render import paper_rows
from sitegen.render.mirror_files import MadeFile, mirror_files, no_host_warning
from sitegen.render.templates import TEMPLATES_DIR, Renderer, compact_json, json_bytes
from sitegen.site.claims import Claimant, PathClaims, fold, path_order, settle
from sitegen.site.config import PageMeta, Publish, SiteConfig, load_site_config, split_front_matter
from sitegen.site.listings import UNDATED, ListingPage, ListingPlan
from sitegen.site.manifest_bins import (
    OWNER_MARK,
    bin_of,
    is_paper_bin,
    owner_line,
    paper_bin,
    prefix_length,
)
from sitegen.site.shard import Shard
from sitegen.site.urls import (
    LISTINGS_DIR,
    integrity_endpoint_path,
    paper_dir,
    paper_dir_text,
    root_prefix,
    safe_relpath,
)

__all__ = [
    "BuildResult",
    "Collected",
    "PaperFiles",
    "PaperSummary",
    "Progress",
    "SiteInputs",
    "SiteWide",
    "build_site",
    "default_jobs",
    "load_inputs_config",
    "paper_context",
    "process_integrity",
    "process_shared_inputs",
    "read_site_inputs",
    "state_outcomes",
    "usable_cores",
    "write_site_wide",
]

ASSETS_DIR = Path(__file__).resolve().parents[2] / "templates" / "assets"
MANIFEST_NAME = "SHA256SUMS"
MANIFEST_SIGNATURE = MANIFEST_NAME + SIGNATURE_SUFFIX
REPORT_NAME = "verification-report.json"


@dataclass(slots=True)
class BuildResult:
    """What a build did. ``reports`` carry full checks only for inputs that are not verified."""

    reports: InputReports = field(default_factory=InputReports)
    """Every input's report, in input order (a reused verified state's made only when read)."""
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Inputs that are not papers and could not be used (a Markdown page with bad front matter)."""
    papers: int = 0
    files_written: int = 0
    seconds: float = 0.0
    rendered: int = 0
    """State files verified and rendered by this build."""
    reused: int = 0
    """State files whose output was reused from the previous build (incremental)."""
    cache_note: str = ""
    """Why the incremental cache could not be saved, when it could not (the site is fine)."""
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: the per-paper ``STAGES`` summed over all workers, and ``site`` (site-wide step)."""
    displaced: set[str] = field(default_factory=set)
    """Inputs some of whose paths a collision page took (the incremental cache renders them afresh)."""
    search_patched: bool = False
    """Whether the search index was patched from the live one (``site_search``), not made whole."""

    def counts(self) -> dict[str, int]:
        """The inputs per verdict (every verdict, 0 for none)."""
        return self.reports.counts()

    @property
    def all_verified(self) -> bool:
        return not self.reports.not_verified()

    def not_verified(self) -> list[InputReport]:
        """The reports of the inputs that are not verified, by input path: the few that pages and
        messages show one by one, picked before sorting (the verified are most of a large mirror)."""
        return sorted(self.reports.not_verified(), key=_INPUT_OF)


_INPUT_OF = operator.attrgetter("input")


Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PaperFiles:
    """Where the papers' own files are, when they are not in the site being staged: a merge that
    writes only what the site-wide step adds (``merge --overlay``) leaves them in the shards' trees,
    and links each integrity endpoint from there."""

    roots: tuple[str, ...]
    """The shards' output directories."""
    shard_of: array[int]
    """Per record number, the index in ``roots`` of the shard that logged the paper, or ``STAGED``."""

    STAGED = 0xFFFFFFFF
    """In ``shard_of``: the paper's files are in the staged site (a paper that is not verified:
    its held files are linked in, and placed there by the site-wide step)."""

    def root(self, number: int) -> str | None:
        """The tree holding paper ``number``'s own files (None: the staged site)."""
        index = self.shard_of[number]
        return None if index == self.STAGED else self.roots[index]


@dataclass(frozen=True, slots=True)
class SiteWide:
    """What the site-wide step leaves for the caller."""

    listed: Listed
    """What the search index was made of, for the next build."""
    withdrawn: tuple[str, ...]
    """Files the per-paper work wrote that the site does not serve (a collision page or a paper
    rendered again took their place; removed from the staged tree already), in path order: what
    ``merge --overlay`` must have removed from the shards' trees."""
    orders: SiteOrders
    """Every record's orders and claims, for the next build to patch (``orders.orders_file``)."""
    endpoints: ServedEndpoints
    """The integrity endpoints served, for the next build to patch."""
    unlisted: int
    """How many papers the listings left out."""
    contested: bool
    """Whether two or more papers claimed one path (or integrity endpoint)."""


def usable_cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """Worker processes: one per core, and one more on a machine with several.

    A worker spends part of each paper waiting for the file system (creating the paper's
    files and directories), so one extra keeps every core busy (measured in ``docs/scale.md``).
    """
    cores = usable_cores()
    return cores + 1 if cores > 1 else 1


def load_inputs_config(content: Path) -> tuple[SiteConfig, Keyring]:
    """Read ``site.yaml`` and the keyring: the two things without which no build starts.

    Raises:
        ConfigError: either is malformed.
        InputError: the content directory is missing.
    """
    if not content.is_dir():
        raise InputError(str(content), "content directory does not exist or is not a directory")
    config = load_site_config(read_site_yaml(content), str(content / "site.yaml"))
    return config, load_keyring(content / "keys", "keys")


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteInputs:
    """What every build reads from the content directory besides the state files."""

    config: SiteConfig
    keyring: Keyring
    files: ContentFiles
    pages: list[tuple[PageMeta, str]]
    nav: tuple[tuple[str, str], ...]


def read_site_inputs(content: Path, result: BuildResult) -> SiteInputs:
    """Configuration, keyring, the list of inputs and the Markdown pages (warnings go to ``result``).

    Raises:
        ConfigError, InputError: the build cannot start.
    """
    config, keyring = load_inputs_config(content)
    result.warnings.extend(
        f"keys/{name}: keys.skipped: not a visible *.json file, so not read and not trusted as a key"
        for name in keyring.skipped
    )
    files = discover(content)
    pages = _load_pages(files, Renderer(config), result)
    nav = tuple((meta.slug, meta.title) for meta, _ in pages)
    return SiteInputs(config=config, keyring=keyring, files=files, pages=pages, nav=nav)


_OWNER_LINE = len(owner_line("A" * SUFFIX_LENGTH))
"""The bytes of a paper's owner line in the manifest stream (``Collected.add``)."""


class Collected:
    """What the site-wide step needs of the per-input work, gathered in input order.

    Slim reports stay in memory (in ``result``); full report lines, ``SHA256SUMS`` lines
    and paper summaries go to files (``Streams``: the incremental cache's, in a whole
    build), so memory grows by a few bytes a paper, not with the size of the papers.
    Each report line is written with the separator that follows it in the report.
    """

    def __init__(self, result: BuildResult, streams: Streams | None = None) -> None:
        self.result = result
        self.streams = Streams.temporary() if streams is None else streams
        self.reports_end, self.manifest_end, summaries_end = self.streams.held
        self.summaries = SummarySpill(self.streams.summaries, summaries_end)
        self.held = HeldManifests()
        self.report_ranges: list[tuple[int, int]] = []
        """Where the inputs' report lines are in the report stream, in input order: byte ranges,
        each line followed by its separator."""
        self.not_verified: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close)
        """The report lines of inputs that are not verified (the site's ``verification-report.json``)."""
        self.not_verified_end = 0
        self.fresh: set[int] = set()
        """The record numbers of the summaries of states rendered by this build (not reused)."""
        self.blocks = array("Q")
        """Per record: where its ``SHA256SUMS`` lines are in the manifest stream (after its owner
        line), first byte and end; 0 and 0 for a paper whose lines are held (``HeldManifests``)."""

    def add(self, outcome: StateOutcome) -> Spans:
        """Take one state file's outcome (in input order); returns where its bytes went."""
        result = self.result
        result.reports.append(outcome.report)
        result.warnings.extend(outcome.warnings)
        result.files_written += outcome.files
        for stage, seconds in zip(STAGES, outcome.seconds, strict=True):
            result.stages[stage] = result.stages.get(stage, 0.0) + seconds
        report_at, manifest_at, summary_at = self.reports_end, self.manifest_end, self.summaries.end
        self.add_report(outcome.report_line, outcome.report.verdict)
        manifest = outcome.manifest.encode("utf-8")
        if outcome.summary is not None and outcome.summary.verdict is not Verdict.VERIFIED:
            self.held.add(len(self.summaries), manifest)  # listed once its files are placed
            manifest = b""
        elif manifest and outcome.summary is not None:
            manifest = owner_line(outcome.summary.suffix).encode("ascii") + manifest
        self.streams.manifest.write(manifest)
        self.manifest_end += len(manifest)
        summary_length = 0
        if outcome.summary is not None:
            self.blocks.extend((manifest_at + _OWNER_LINE, self.manifest_end) if manifest else (0, 0))
            self.fresh.add(len(self.summaries))
            summary_length = self.summaries.append(outcome.summary)
        return (
            report_at,
            self.reports_end - report_at,
            manifest_at,
            len(manifest),
            summary_at,
            summary_length,
        )

    def add_reused(self, run: ReusedRun) -> tuple[int, int, int]:
        """Take a run of states reused from the previous build; returns where their bytes start."""
        self.result.reports.add_verified(run.reports)
        self.result.warnings.extend(run.warnings)
        if run.in_place:
            starts = run.starts
            self.summaries.adopt_records(run.starts[2], run.summary_lengths)
        else:
            starts = (self.reports_end, self.manifest_end, self.summaries.end)
            try:
                copy_range(run.sources[0], self.streams.reports, run.starts[0], run.lengths[0])
                copy_range(run.sources[1], self.streams.manifest, run.starts[1], run.lengths[1])
                self.summaries.copy_records(run.sources[2], run.starts[2], run.summary_lengths)
            except OSError as exc:
                raise OutputError(
                    f"{run.origin}: cannot copy reused papers from the cache: {exc.strerror or exc}"
                ) from exc
            self.reports_end += run.lengths[0]
            self.manifest_end += run.lengths[1]
        self._report_range(starts[0], starts[0] + run.lengths[0])
        shift = starts[1] - run.starts[1]
        for spans in run.spans:  # a reused paper is a verified one: its lines follow its owner line
            self.blocks.extend(
                (spans[2] + shift + _OWNER_LINE, spans[2] + shift + spans[3]) if spans[3] else (0, 0)
            )
        return starts

    def add_report(self, line: bytes, verdict: Verdict) -> None:
        """One input's full report line; those of inputs that are not verified go to the site's report too."""
        self.streams.reports.write(line + b",\n")
        self._report_range(self.reports_end, self.reports_end + len(line) + 2)
        self.reports_end += len(line) + 2
        if verdict is not Verdict.VERIFIED:
            self.not_verified.write(line + b",\n")
            self.not_verified_end += len(line) + 2

    def _report_range(self, start: int, end: int) -> None:
        ranges = self.report_ranges
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))

    def close(self) -> None:
        self.streams.close()
        self.not_verified.close()
        self.held.close()


class HeldManifests:
    """The ``SHA256SUMS`` lines of papers that are not verified, whose files wait under ``HELD_DIR``.

    Kept in a temporary file (a hostile corpus may hold many), by record number, until the
    site-wide step has settled their claims and placed what they keep.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self.numbers = array("I")
        self._starts = array("Q")
        self._lengths = array("Q")
        self._end = 0

    def add(self, number: int, manifest: bytes) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close)
        self._file.write(manifest)
        self.numbers.append(number)
        self._starts.append(self._end)
        self._lengths.append(len(manifest))
        self._end += len(manifest)

    def lines(self, index: int) -> list[str]:
        """The manifest lines of the ``index``-th held paper."""
        assert self._file is not None
        self._file.flush()
        data = os.pread(self._file.fileno(), self._lengths[index], self._starts[index])
        return data.decode("utf-8").splitlines()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@spaced_collections()
def build_site(
    content: Path,
    out: Path,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    shard: Shard | None = None,
    full_report: IO[bytes] | None = None,
    publish: Publish | None = None,
    sign_with: OperatorKey | None = None,
) -> BuildResult:
    """Build the site from ``content`` into ``out``; returns every input's (slim) report.

    With ``use_cache`` the previous build's output is reused where its inputs are
    unchanged (see ``cache.py``); the result is byte-identical either way. With
    ``shard``, build only that shard's papers (no cache) and, instead of the site-wide
    pages, a log from which ``merge.merge_shards`` finishes the site. ``full_report``
    receives the report of every input with all its checks (the site's own report lists
    only the inputs that are not verified); a build asked for it always runs the site-wide step.

    ``sign_with``: the operator's Ed25519 key, which signs ``SHA256SUMS`` (``SHA256SUMS.sig``);
    a no-op rebuild is one only when the live signature is that key's.

    ``publish`` (default: ``site.yaml``'s, else swap) says how the new site replaces the
    live one. A swap stages the whole tree (reused papers' files as hard links of the
    live ones, in the tree the last swap retired) and swaps it in at once. Patching is
    an operator's choice for a rebuild that reuses at least half the papers; one that
    reuses fewer is swapped even then: it writes most of the site anyway, and the swap
    spares readers a long mix of old and new files.

    Raises:
        ConfigError, InputError: the build cannot start (nothing is written).
        OutputError, BuildError: the output could not be written (the old site stays).
    """
    started = time.monotonic()
    result = BuildResult()
    inputs = read_site_inputs(content, result)
    refuse_unsafe_target(out, content=content, marker=REPORT_NAME if shard is None else SHARD_LOG)
    key = build_key(inputs.files, TEMPLATES_DIR)
    whole = shard is None
    with (
        BuildCache(out, inputs.files, inputs.config.limits, key, reuse=use_cache and whole) as cache,
        StagedSite(out) as site,
    ):
        noop = full_report is None and _signed_by(site.target, sign_with)
        plan = cache.plan(site.target, whole_noop=noop) if whole else None
        if isinstance(plan, CachedBuild):
            result.reports = plan.reports
            result.warnings = list(plan.warnings)
            result.papers, result.reused = plan.papers, cache.reused
            result.seconds = time.monotonic() - started
            return result
        if isinstance(plan, ReusePlan):
            mode = publish or inputs.config.publish
            if mode is Publish.PATCH and 2 * len(plan.reusable) >= len(inputs.files.states):
                site.patch_live(plan.stale_files)
            else:
                site.recycle(plan.stale_files)
                cache.seed(site)
            site.remember(plan.made, plan.site_sums)
        del plan  # its set of reusable names is the cache's until the outcomes are in
        collected = Collected(result, cache.streams() if whole else None)
        try:
            integrity, states = process_shared_inputs(inputs, collected)
            ctx = paper_context(
                inputs, integrity, site.root, shard, compiled=cache.compiled_templates if use_cache else None
            )
            workers = jobs or default_jobs()
            if whole:
                _collect_whole(cache, collected, states, lambda rels: _owned(ctx, rels, workers), progress)
                site_wide = write_site_wide(
                    site,
                    ctx,
                    inputs,
                    collected,
                    jobs=workers,
                    full_report=full_report,
                    sign_with=sign_with,
                    listed_before=cache.listed_before,
                    patched=_patched_orders(cache, collected),
                )
            else:
                assert shard is not None
                _collect_shard(
                    ShardLog(site, shard, content_fingerprint(inputs.files)),
                    collected,
                    ctx,
                    states,
                    workers,
                    progress,
                )
                result.papers = len(collected.summaries)
            result.files_written += site.files_written
            site.commit()
            if whole:
                result.rendered, result.reused = cache.rendered, cache.reused
                try:
                    cache.commit(
                        site.target,
                        result.papers,
                        result.warnings,
                        result.reports,
                        site.writer.manifest() + endpoint_sums(site_wide.endpoints),
                        result.displaced,
                        site.writer.made_files(),
                        site_wide.listed,
                        orders_file(
                            site_wide.orders,
                            len(collected.summaries),
                            unlisted=site_wide.unlisted,
                            contested=site_wide.contested,
                            endpoints=site_wide.endpoints,
                        ),
                    )
                except OSError as exc:
                    result.cache_note = f"{cache.path}: cannot save the incremental cache: {exc.strerror}"
        finally:
            collected.close()
    result.seconds = time.monotonic() - started
    return result


def _patched_orders(cache: BuildCache, collected: Collected) -> SiteOrders | None:
    """The site orders patched from the last build's, when it kept them (which are freed then)."""
    kept, cache.kept_orders = cache.kept_orders, None
    return None if kept is None else patched_orders(collected.summaries, kept, collected.fresh)


def _signed_by(live: Path, key: OperatorKey | None) -> bool:
    """Whether the live ``SHA256SUMS.sig`` is ``key``'s signature of the live ``SHA256SUMS`` (or no key is given)."""
    if key is None:
        return True
    try:
        manifest = (live / MANIFEST_NAME).read_bytes()
        verify_manifest_signature(key.public_key(), (live / MANIFEST_SIGNATURE).read_bytes(), manifest)
    except (OSError, SignatureError):
        return False
    return True


def _collect_whole(
    cache: BuildCache,
    collected: Collected,
    states: Sequence[str],
    render: Callable[[Sequence[str]], Iterator[StateOutcome]],
    progress: Progress | None,
) -> None:
    """Gather every state's outcome, fresh or reused, and index each in the next cache."""
    done = 0
    for item in cache.outcomes(states, render):
        if isinstance(item, ReusedRun):
            first = len(collected.summaries)
            cache.record_run(item, collected.add_reused(item), first)
            done += len(item)
        else:
            cache.record(item, collected.add(item))
            done += 1
        if progress is not None:
            progress(done, len(states))


def _collect_shard(
    log: ShardLog,
    collected: Collected,
    ctx: PaperContext,
    states: Sequence[str],
    jobs: int,
    progress: Progress | None,
) -> None:
    """Gather this shard's outcomes and log each for the merge."""
    for done, outcome in enumerate(state_outcomes(ctx, states, jobs), start=1):
        if outcome is not None:
            collected.add(outcome)
            log.add(outcome)
        if progress is not None:
            progress(done, len(states))
    log.close()


def write_site_wide(
    site: StagedSite,
    ctx: PaperContext,
    inputs: SiteInputs,
    collected: Collected,
    *,
    jobs: int,
    full_report: IO[bytes] | None = None,
    sign_with: OperatorKey | None = None,
    listed_before: ListedBefore | None = None,
    patched: SiteOrders | None = None,
    paper_files: PaperFiles | None = None,
) -> SiteWide:
    """Everything that depends on more than one input: the one step a whole build and a merge share
    (``sign_with``: the operator's key, which signs ``SHA256SUMS`` into ``SHA256SUMS.sig``;
    ``listed_before``: what the live search index was made of, to patch it from; ``patched``: the
    orders patched from the last build's (``orders.patched_orders``), else they are made whole; ``paper_files``: where the papers' own files are,
    when not under ``site``).

    The per-paper files are already under ``site`` (those of papers that are not verified
    held apart); ``ctx`` renders a paper again where a duplicate wrote over it. This settles every contested path, places the held files that keep their
    paths, and writes the alias map, collision pages, index pages, search index, Markdown
    pages, verification page and report, keys, assets and ``SHA256SUMS``.
    """
    started = time.perf_counter()
    renderer = Renderer(
        inputs.config, nav_pages=inputs.nav, compiled=compiled_templates(ctx.compiled_templates)
    )
    result = collected.result
    counts = result.counts()  # no input's report is added from here on
    with _ReportWriter(site, collected, counts, full_report) as report:
        written = _write_site_pages(
            site,
            ctx,
            renderer,
            inputs.config,
            inputs.keyring,
            collected,
            inputs.pages,
            result,
            counts=counts,
            parallel=jobs > 1,
            meanwhile=report.start,
            listed_before=listed_before,
            patched=patched,
            paper_files=paper_files,
        )
        report.finish(result)
    remove_tree(site.root / HELD_DIR)  # what no claim settlement gave its paper
    manifest, withdrawn = _write_manifest(site, collected, written.edits, written.orders, written.endpoints)
    if sign_with is not None:
        site.write(PurePosixPath(MANIFEST_SIGNATURE), sign_manifest(sign_with, manifest))
    result.stages["site"] = result.stages.get("site", 0.0) + time.perf_counter() - started
    return SiteWide(
        listed=written.listed,
        withdrawn=withdrawn,
        orders=written.orders,
        endpoints=written.endpoints.served,
        unlisted=len(collected.summaries) - result.papers,
        contested=written.contested,
    )


_worker_ctx: PaperContext | None = None


def _init_worker(ctx: PaperContext) -> None:
    global _worker_ctx
    _worker_ctx = ctx


def _work(rels: Sequence[str]) -> list[StateOutcome | None]:
    assert _worker_ctx is not None
    return [process_state(_worker_ctx, rel) for rel in rels]


def _owned(ctx: PaperContext, rels: Sequence[str], jobs: int) -> Iterator[StateOutcome]:
    """The outcomes of a whole (unsharded) build, where every input is this build's."""
    return (outcome for outcome in state_outcomes(ctx, rels, jobs) if outcome is not None)


def state_outcomes(ctx: PaperContext, rels: Sequence[str], jobs: int) -> Iterator[StateOutcome | None]:
    """Outcomes in input order (None for another shard's input), from a process pool when it pays off."""
    if jobs <= 1 or len(rels) < 4 * jobs:
        for rel in rels:
            yield process_state(ctx, rel)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    chunk = max(1, min(64, len(rels) // (jobs * 8)))
    with multiprocessing.get_context(method).Pool(jobs, initializer=_init_worker, initargs=(ctx,)) as pool:
        pending: deque[AsyncResult[list[StateOutcome | None]]] = deque()
        for start in range(0, len(rels), chunk):
            part = rels[start : start + chunk]
            prefetch(ctx.content_root, part)
            pending.append(pool.apply_async(_work, (part,)))
            if len(pending) >= _CHUNKS_IN_FLIGHT * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


_CHUNKS_IN_FLIGHT = 4
"""Chunks queued per worker. ``Pool.imap`` would queue every input at once and keep every result
the parent has not taken yet: when the parent falls behind (a busy machine), that backlog grows
with the corpus; this bounds it to a few chunks."""


# -- per-input work ------------------------------------------------------------------


def paper_context(
    inputs: SiteInputs,
    integrity: dict[str, tuple[IntegrityRef, ...]],
    out_root: Path,
    shard: Shard | None = None,
    *,
    compiled: Path | None = None,
) -> PaperContext:
    """What every paper's work needs from the build's shared inputs, writing under ``out_root``
    (``compiled``: where compiled templates are kept between builds, None: nowhere)."""
    return PaperContext(
        content_root=inputs.files.root,
        out_root=out_root,
        config=inputs.config,
        keyring=inputs.keyring,
        integrity=integrity,
        nav_pages=inputs.nav,
        shard=shard,
        compiled_templates=compiled,
    )


def process_shared_inputs(
    inputs: SiteInputs, collected: Collected
) -> tuple[dict[str, tuple[IntegrityRef, ...]], tuple[str, ...]]:
    """What every build and every shard does before the state files, in this order (and a merge again):
    verify the integrity files, reject refused inputs and those over the limit.

    Returns the integrity files by source id and the state files to build.
    """
    integrity = process_integrity(inputs, collected)
    _report_refused(inputs.files, collected.result, collected)
    return integrity, _states_within_limit(inputs.files, inputs.config, collected.result, collected)


def _report_refused(files: ContentFiles, result: BuildResult, collected: Collected) -> None:
    """Refused state and integrity inputs (symlinks leaving the tree, bad names) are ``rejected``; the rest warn."""
    kinds = {"states": "state", "integrity": "integrity"}
    for error in files.refused:
        kind = kinds.get(error.source.split("/", 1)[0])
        if kind is None:
            result.warnings.append(str(error))
            continue
        report = unreadable_report(error.source, error, kind)
        result.reports.append(report)
        collected.add_report(compact_json(report.to_json()), report.verdict)


def _states_within_limit(
    files: ContentFiles, config: SiteConfig, result: BuildResult, collected: Collected
) -> tuple[str, ...]:
    """The state files a build reads; those past ``limits.max_states`` (in sorted order) are rejected unread."""
    limit = config.limits.max_states
    for rel in files.states[limit:]:
        error = ParseError(
            rel,
            "",
            "limit.states",
            f"the content has {len(files.states)} state files, over the limit of {limit}; not read",
        )
        report = unreadable_report(rel, error, "state")
        result.reports.append(report)
        collected.add_report(compact_json(report.to_json()), report.verdict)
    return files.states[:limit]


def process_integrity(inputs: SiteInputs, collected: Collected) -> dict[str, tuple[IntegrityRef, ...]]:
    """Read and verify every integrity file once (every shard does: they are few); keep each usable
    one, with its bytes, under the arXiv id it names.

    A failed file is reported and shown beside no paper. Several files naming one paper are all
    kept (each is shown on that paper's page, beside the findings of its own snapshot) and warned of.
    """
    files, keyring, config, result = inputs.files, inputs.keyring, inputs.config, collected.result
    by_source: dict[str, list[IntegrityRef]] = {}
    for name in files.integrity:
        try:
            data = read_input(files.root, name, config.limits)
        except (InputError, ParseError) as exc:
            report = unreadable_report(name, exc, "integrity")
            parsed = None
        else:
            report, parsed = verify_integrity_bytes(data, name, keyring, config.limits)
        result.reports.append(slim_report(report))
        collected.add_report(compact_json(report.to_json()), report.verdict)
        if parsed is None or report.verdict is Verdict.FAILED:
            continue
        by_source.setdefault(parsed.integrity.arxiv_id, []).append(
            IntegrityRef(report=replace(report, checks=report.checks[:1]), rel=name, data=parsed.data)
        )
    for source_id, refs in sorted(by_source.items()):
        if len(refs) > 1:
            names = ", ".join(ref.rel for ref in refs)
            result.warnings.append(
                f"{names}: arxiv_id: integrity.several: {len(refs)} integrity files name {source_id}; "
                "each is listed on its paper's page, and none is served as its integrity.json"
            )
    return {source_id: tuple(refs) for source_id, refs in by_source.items()}


# -- site-wide pages -----------------------------------------------------------------
#
# The summaries are in a temporary file (``SummarySpill``), numbered in input order.
# Each step below streams over them, or over them in a sorted order held as an array
# of record numbers, so memory holds a few bytes a paper and one page at a time.


def _write_site_pages(
    site: StagedSite,
    ctx: PaperContext,
    renderer: Renderer,
    config: SiteConfig,
    keyring: Keyring,
    collected: Collected,
    pages: list[tuple[PageMeta, str]],
    result: BuildResult,
    *,
    counts: dict[str, int],
    parallel: bool,
    meanwhile: Callable[[], None],
    listed_before: ListedBefore | None,
    patched: SiteOrders | None,
    paper_files: PaperFiles | None,
) -> _PagesWritten:
    """Write every page that depends on more than one paper (``counts``: the inputs per verdict;
    ``listed_before``: what the live search index was made of, to patch it from; ``patched``: the
    orders patched from the last build's, or None).

    With ``parallel``, the index pages and search files are written by a forked
    process meanwhile (the same bytes and ``SHA256SUMS`` as one process writes) while this one
    writes the alias map, the integrity endpoints and the rest.
    ``meanwhile`` is called once that process is running, to start threads of its own.
    """
    spill = collected.summaries
    every_record = orders = site_orders(spill) if patched is None else patched
    settled = _settle_claims(spill, orders.claims, result)
    replaced: set[str] = set()
    for number in settled.rerender:  # first: a paper rendered again rewrites its alias pages too
        replaced.add(_render_alone(site, ctx, spill[number]))
    for path, numbers in settled.collided.items():
        rel = PurePosixPath(path)
        claimants = [spill[n] for n in numbers]
        if any(rel == paper_dir(c.suffix) and c.verdict is Verdict.VERIFIED for c in claimants):
            site.remove_tree(rel)  # a verified paper's files, written in place
            replaced.add(f"{rel}/")
        replaced.add(f"{rel}/index.html")
        site.write(rel / "index.html", renderer.page("collision.html", rel, path=path, claimants=claimants))
    _place_held(site, spill, collected.held, settled)
    if settled.unlisted:
        orders = without(orders, settled.unlisted, spill)
    ordered = spill.view(orders.newest_first)
    rejected = counts[Verdict.REJECTED.value]
    plan = orders.listing_plan(config.papers_per_page)

    def listings() -> tuple[Listed, bool]:
        _write_index(
            site,
            renderer,
            spill,
            plan,
            ordered,
            counts=orders.counts,
            rejected=rejected,
            changed_months=orders.changed_months,
        )
        return write_search(site, spill, orders.by_suffix, settled.unlisted, collected.fresh, listed_before)

    # One half runs beside, forked: the index pages and search files. The halves write different
    # files, and SHA256SUMS lists site-wide files by path within their bins.
    with ForkedStep(site.writer, listings, parallel=parallel) as beside:
        meanwhile()  # after the fork: the forked process never holds another thread's locks
        _write_alias_map(site, spill, orders, settled)
        endpoints = _write_integrity_paths(
            site, spill, orders, settled, result, paper_files, orders.served_before, collected.fresh
        )
        beside.here()
        _write_rest(
            site,
            renderer,
            config,
            keyring,
            ordered,
            orders.verified_suffixes(),
            pages,
            result,
            counts=counts,
            listing_dirs=plan.directories(),
            verified_papers=orders.counts[Verdict.VERIFIED.value],
        )
    result.papers = len(spill) - len(settled.unlisted)
    dedupe = {path for n in settled.duplicates for path in claims_of(spill, n)}
    listed, result.search_patched = beside.value
    return _PagesWritten(
        edits=_ManifestEdits(replaced=replaced, dedupe=dedupe),
        listed=listed,
        orders=every_record,
        endpoints=endpoints,
        contested=bool(settled.collided or settled.lost),
    )


@dataclass(frozen=True, slots=True)
class _PagesWritten:
    """What ``_write_site_pages`` leaves for the rest of the site-wide step and the next build."""

    edits: _ManifestEdits
    """How the per-paper lines of ``SHA256SUMS`` change (files a collision page replaced, lines a duplicate repeats)."""
    listed: Listed
    """What the search index was made of."""
    orders: SiteOrders
    """The orders of every record."""
    endpoints: _Endpoints
    """The integrity endpoints served."""
    contested: bool
    """Whether a page path had two or more claimants (a collision page, or papers that got nothing there)."""


@dataclass(frozen=True, slots=True)
class _ManifestEdits:
    """How the per-paper ``SHA256SUMS`` lines change in the site-wide step."""

    replaced: set[str]
    """Files (and directories, ending in ``/``) a collision page replaced: their lines go."""
    dedupe: set[str]
    """Page directories a byte-identical duplicate wrote again: each line under them is kept once."""


@dataclass(frozen=True, slots=True)
class _Settled:
    """Every contested path, settled by ``claims.settle``."""

    collided: dict[str, tuple[int, ...]]
    """Paths that get a collision page, with the papers it lists (in ``path_order``)."""
    lost: dict[int, set[str]]
    """Papers that are not verified, with the case-folded paths they get nothing at."""
    duplicates: frozenset[int]
    """Papers that are one paper with an earlier one (``claims.settle``): nothing of their own is served."""
    unlisted: frozenset[int]
    """Papers left out of the listings (index, search, sitemap, feed): the duplicates, and papers
    that lost their own page directory (they keep their report entries and /verification/ lines)."""
    rerender: tuple[int, ...]
    """Verified papers whose page directory a verified duplicate also wrote (both write their
    files in place, whole, in either order): rendered once more, alone, so the directory holds
    exactly the first paper's files."""

    def routed(self, number: int, path: str) -> bool:
        """Whether paper ``number`` got the page directory ``path`` it claims."""
        if not self.collided and not self.lost:  # no path is contested: every claim is routed
            return True
        return path not in self.collided and fold(path) not in self.lost.get(number, ())


def _write_alias_map(site: StagedSite, spill: SummarySpill, orders: SiteOrders, settled: _Settled) -> None:
    """The alias map (``alias_map``), with the paths ``settled`` routes and the collisions it lists."""
    collisions: list[dict[str, object]] = [
        {
            "path": f"{path}/",
            "claimed_by": [
                {"input": c.input, "pith_number": c.pith_number, "status": c.verdict.value}
                for c in sorted((spill[n] for n in numbers), key=lambda c: c.input)
            ],
        }
        for path, numbers in settled.collided.items()
    ]
    contested = bool(settled.collided or settled.lost or settled.unlisted)
    write_alias_map(site, spill, orders, contested=contested, routed=settled.routed, collisions=collisions)


def _identity(summary: PaperSummary) -> str:
    """What makes two inputs one paper (``claims.Claimant.identity``)."""
    verified = summary.verdict is Verdict.VERIFIED
    return f"record:{summary.canonical_sha256}" if verified else f"input:{summary.input_sha256}"


def _settle_claims(spill: SummarySpill, claims: PathClaims, result: BuildResult) -> _Settled:
    """Settle every path (paper or alias page) two or more papers claim, and warn of each.

    Paths that differ only in case are one path on a case-insensitive file system (or
    host), so they are settled together. Every claimant is rendered afresh next build.
    """
    collided: dict[str, tuple[int, ...]] = {}
    lost: dict[int, set[str]] = {}
    duplicates: dict[int, int] = {}
    for collision in claims.collisions(lambda n: claims_of(spill, n)):
        numbers = sorted(collision.claimants)
        summaries = {n: spill[n] for n in numbers}
        result.displaced.update(c.input for c in summaries.values())
        settlement = settle(
            [Claimant(n, summaries[n].verdict is Verdict.VERIFIED, _identity(summaries[n])) for n in numbers]
        )
        where = ", ".join(f"/{path}/" for path in collision.spellings)
        for number in settlement.duplicates:
            identity = _identity(summaries[number])
            duplicates.setdefault(number, next(n for n in numbers if _identity(summaries[n]) == identity))
        for number in settlement.losers:
            lost.setdefault(number, set()).add(fold(collision.spellings[0]))
            loser = summaries[number]
            holder = (
                f"{summaries[settlement.keeper].input} ({summaries[settlement.keeper].pith_number}, verified)"
                if settlement.keeper is not None
                else "verified papers that collide there"
            )
            result.warnings.append(
                f"{where}: claim.lost: {loser.input} ({loser.pith_number}, {loser.verdict.value}) claims "
                f"the path of {holder}; it gets nothing there and keeps its report entry"
            )
        if settlement.collision:
            for path in collision.spellings:
                collided[path] = settlement.collision
            names = ", ".join(
                f"{summaries[n].input} ({summaries[n].pith_number}, {summaries[n].verdict.value})"
                for n in settlement.collision
            )
            case = " (paths that differ only in case are one path on case-insensitive file systems)"
            result.warnings.append(
                f"{where}: alias.collision: claimed by {names}; neither wins"
                f"{case if len(collision.spellings) > 1 else ''}"
            )
    for number, first in sorted(duplicates.items()):
        copy, original = spill[number], spill[first]
        if copy.input_sha256 == original.input_sha256:
            why = "input.duplicate: byte-identical to"
        else:
            why = "input.same_record: holds the same signed record as"
        result.warnings.append(
            f"{copy.input}: {why} {original.input} ({original.pith_number}); they are one paper, "
            f"shown from {original.input}"
        )
    unlisted = set(duplicates)
    unlisted.update(n for n, paths in lost.items() if fold(paper_dir_text(spill[n].suffix)) in paths)
    rerender = {first for number, first in duplicates.items() if spill[number].verdict is Verdict.VERIFIED}
    return _Settled(
        collided=dict(sorted(collided.items(), key=lambda item: path_order(item[0]))),
        lost=lost,
        duplicates=frozenset(duplicates),
        unlisted=frozenset(unlisted),
        rerender=tuple(sorted(rerender)),
    )


def _render_alone(site: StagedSite, ctx: PaperContext, summary: PaperSummary) -> str:
    """Render one paper's directory again, alone (``_Settled.rerender``); returns the directory
    (``pith/<SUFFIX>/``) whose lines from the per-paper work give way to the ones listed now."""
    directory = paper_dir(summary.suffix)
    site.remove_tree(directory)
    outcome = process_state(ctx, summary.input)
    if outcome is None or outcome.input_sha256 != summary.input_sha256:
        raise OutputError(f"{summary.input}: changed while the site was built; build again")
    prefix = f"{directory}/"
    for line in outcome.manifest.splitlines():
        if line[66:].startswith(prefix):
            site.writer.keep(line[66:], line[:64], owner=summary.suffix)
    return prefix


def _place_held(site: StagedSite, spill: SummarySpill, held: HeldManifests, settled: _Settled) -> None:
    """Move the files of papers that are not verified to the paths they kept, and list them."""
    for index, number in enumerate(held.numbers):
        if number in settled.duplicates:
            continue
        summary = spill[number]
        root = held_root(site.root, summary.input)
        for line in held.lines(index):
            sha256, rel = line[:64], line[66:]
            if settled.routed(number, rel.rpartition("/")[0]):
                place_held_file(root, site.root, rel)
                site.writer.keep(rel, sha256, owner=summary.suffix)


def _write_rest(
    site: StagedSite,
    renderer: Renderer,
    config: SiteConfig,
    keyring: Keyring,
    ordered: Sequence[PaperSummary],
    verified_suffixes: Iterable[str],
    pages: list[tuple[PageMeta, str]],
    result: BuildResult,
    *,
    counts: dict[str, int],
    listing_dirs: Sequence[str],
    verified_papers: int,
) -> None:
    """The mirror files, Markdown pages, verification page, 404 page, keys and assets (``counts``:
    the inputs per verdict)."""
    slugs = [m.slug for m, _ in pages]
    for file in mirror_files(
        config, keyring, ordered, verified_suffixes, slugs, listing_dirs, verified_papers
    ):
        if isinstance(file, MadeFile):
            site.write_made(str(file.rel), made_of(file.inputs, ()), file.make)
        else:
            site.write(*file)
    if (warning := no_host_warning(config)) is not None:
        result.warnings.append(warning)
    for meta, body_html in pages:
        rel = PurePosixPath(meta.slug)
        site.write(rel / "index.html", renderer.page("page.html", rel, meta=meta, body_html=body_html))
    rel = PurePosixPath("verification")
    site.write(
        rel / "index.html",
        renderer.page(
            "verification.html",
            rel,
            reports=[(r, r.reasons) for r in result.not_verified()],
            counts=counts,
            warnings=sorted(result.warnings),
            errors=sorted(result.errors),
        ),
    )
    site.write(
        PurePosixPath("404.html"),
        renderer.page("404.html", PurePosixPath("."), root_override=config.base_path),
    )
    _write_keys(site, keyring)
    for asset in sorted(ASSETS_DIR.iterdir()):
        if asset.is_file():
            site.write(PurePosixPath("assets", asset.name), asset.read_bytes())


class _ReportWriter:
    """The verification reports: the site's ``verification-report.json`` and, when asked, every input's.

    The site's report holds counts per verdict and an entry for each input that is not
    verified, then errors and warnings: its size follows the inputs that need attention, not
    the corpus (every paper's full checks are in its own ``verification.json``). The full
    report (``build --json``) has one entry per input: the report stream, hundreds of
    megabytes for a large corpus, which a thread copies while the site-wide pages are made
    (reads and writes release the GIL). ``finish`` adds the tails, which need the warnings
    the site-wide step adds.
    """

    def __init__(
        self, site: StagedSite, collected: Collected, counts: dict[str, int], full: IO[bytes] | None
    ) -> None:
        self._site = site
        self._collected = collected
        self._counts = counts
        self._full = full
        self._error: BaseException | None = None
        reports = collected.streams.reports
        reports.flush()
        self._thread = threading.Thread(
            target=self._copy, args=(reports.fileno(), collected.report_ranges), name="report", daemon=True
        )

    def __enter__(self) -> _ReportWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._thread.join()

    def start(self) -> None:
        if self._full is not None:
            self._full.write(b'{"counts": ' + compact_json(self._counts) + b',\n"inputs": [\n')
            self._thread.start()

    def _copy(self, source: int, ranges: list[tuple[int, int]]) -> None:
        """Copy the report lines at ``ranges`` of the stream ``source`` to the full report, without
        the separator after the last."""
        assert self._full is not None
        try:
            for number, (start, end) in enumerate(ranges, start=1):
                offset, stop = start, end - 2 * (number == len(ranges))
                while offset < stop:
                    block = os.pread(source, min(_REPORT_BLOCK, stop - offset), offset)
                    if not block:
                        raise OSError(errno.EIO, "the report stream ends early")
                    self._full.write(block)
                    offset += len(block)
        except BaseException as exc:  # handed to the main thread by finish
            self._error = exc

    def finish(self, result: BuildResult) -> None:
        """Write the site's report; wait for the full one's entries, then close it.

        Raises:
            OSError: the entries could not be copied.
        """
        tail = {
            "errors": sorted(result.errors),
            "total": sum(self._counts.values()),
            "warnings": sorted(result.warnings),
        }
        collected = self._collected
        collected.not_verified.flush()
        with self._site.path(PurePosixPath(REPORT_NAME)).open("wb") as out:
            out.write(b'{"counts": ' + compact_json(self._counts) + b',\n"not_verified": [\n')
            copy_range(collected.not_verified.fileno(), out, 0, max(0, collected.not_verified_end - 2))
            out.write(b"\n],\n" + compact_json({**tail, "schema": SITE_REPORT_SCHEMA})[1:] + b"\n")
        self._site.writer.record(PurePosixPath(REPORT_NAME))
        if self._full is None:
            return
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._full.write(b"\n],\n" + compact_json({**tail, "schema": REPORT_SCHEMA})[1:] + b"\n")


_REPORT_BLOCK = 1 << 20


def _write_manifest(
    site: StagedSite, collected: Collected, edits: _ManifestEdits, orders: SiteOrders, endpoints: _Endpoints
) -> tuple[bytes, tuple[str, ...]]:
    """``SHA256SUMS`` and the bins it lists (``sitegen.site.manifest_bins``): every other file, a
    paper's files in the bin of its suffix (per-paper lines in input order, then the ones the
    site-wide step listed, then its integrity endpoint's), site-wide files in the bins of their
    directories, by path; returns ``SHA256SUMS`` and the per-paper files it no longer lists
    (``SiteWide.withdrawn``).

    A paper bin is noted as made of its papers' lines, the site-wide step's and its endpoints'
    (three digests, ``_paper_bin_inputs``). When the orders were patched, the bins of the papers
    that did not change take the papers' digest from the last build's note instead of reading
    their lines, and the endpoints' too when the endpoints were patched (``_Endpoints.patched``).
    """
    length = prefix_length(len(collected.summaries))
    listed = _ListedLines(edits)
    stream = collected.streams.manifest
    stream.flush()
    fd = stream.fileno()
    spans = collected.blocks
    blocks = {
        name: papers
        for name, papers in _paper_bins(orders, length)
        if any(spans[2 * number + 1] for number in papers)
    }
    """Per bin with a paper's lines: its papers' record numbers (their lines' byte ranges are read
    only for a bin made again)."""
    changed = None
    if orders.changed_suffixes is not None and prefix_length(orders.records_before) == length:
        changed = {paper_bin(suffix, length) for suffix in orders.changed_suffixes}
    kept_endpoints = changed is not None and endpoints.patched
    served = _EndpointLines(
        endpoints.served, orders, length, orders.changed_suffixes if kept_endpoints else None
    )
    written: dict[str, list[str]] = {}
    owned: set[str] = set()
    """Bins with files of papers that the site-wide step wrote (they keep its order)."""
    owner: str | None = None
    for line in site.writer.manifest().splitlines():
        if line.startswith(OWNER_MARK):
            owner = line[1:] or None
        else:
            name = bin_of(line[66:], owner, length)
            written.setdefault(name, []).append(line)
            if owner is not None:
                owned.add(name)
    for name, lines in written.items():  # site-wide files by path, however they were written
        if name not in owned:
            lines.sort(key=lambda line: line[66:])
    edited = bool(edits.replaced or edits.dedupe)
    sums: list[str] = []
    for name in sorted(blocks.keys() | written.keys() | set(served.bins())):
        numbers = blocks.get(name, ())
        lines = written.get(name, [])
        if edited:  # lines a collision page replaced or a duplicate repeats go: see what stays
            papers = _papers_bytes(fd, spans, numbers)
            data = _bin_bytes(listed, papers, [*lines, *served.lines(name)])
            if not data:
                continue
            site.write(PurePosixPath(name), data)
            sha256 = hashlib.sha256(data).hexdigest()
        else:  # every paper's block has its lines
            read = functools.partial(_papers_bytes, fd, spans, numbers)
            before = None if changed is None or name in changed else _paper_bin_before(site, name)
            papers_digest = made_of((), read()) if before is None else before.papers
            endpoints_digest = (
                before.endpoints if before is not None and kept_endpoints else made_of(served.lines(name), ())
            )
            inputs = _paper_bin_inputs(papers_digest, lines, endpoints_digest)
            make = functools.partial(_bin_made, listed, read, lines, functools.partial(served.lines, name))
            sha256 = site.write_made(name, inputs, make)
        sums.append(f"{sha256}  {name}\n")
    manifest = "".join(sums).encode("utf-8")
    with site.path(PurePosixPath(MANIFEST_NAME)).open("wb") as out:
        out.write(manifest)
    listed_again = set()
    if edited:
        listed_again = {line[66:] for lines in written.values() for line in lines}
        listed_again.update(endpoints.served.paths)
    return manifest, tuple(sorted(set(listed.dropped) - listed_again))


def _paper_bins(orders: SiteOrders, length: int) -> Iterator[tuple[str, array[int]]]:
    """Each paper bin (``paper_bin``) and the records in it, found by a binary search of the suffix
    order per bin, not by a pass over every record: the records of a bin are a run of ``by_suffix``."""
    by_suffix, suffixes = orders.by_suffix, orders.suffixes

    def prefix(number: int) -> bytes:
        return suffixes[number * SUFFIX_LENGTH : number * SUFFIX_LENGTH + length]

    start = 0
    while start < len(by_suffix):
        first = prefix(by_suffix[start])
        end = bisect.bisect_right(by_suffix, first, lo=start, key=prefix)
        yield paper_bin(first.decode("ascii"), length), by_suffix[start:end]
        start = end


def _line_ranges(spans: array[int], numbers: Sequence[int]) -> list[tuple[int, int]]:
    """The byte ranges of the manifest stream holding the lines of the papers ``numbers``, in input order."""
    return [(spans[2 * n], spans[2 * n + 1]) for n in sorted(numbers) if spans[2 * n + 1]]


def _papers_bytes(fd: int, spans: array[int], numbers: Sequence[int]) -> list[bytes]:
    """The manifest lines of the papers ``numbers``, each paper's block in input order."""
    return [_stream_bytes(fd, start, end) for start, end in _line_ranges(spans, numbers)]


def _bin_made(
    listed: _ListedLines,
    read: Callable[[], list[bytes]],
    lines: list[str],
    endpoint_lines: Callable[[], list[str]],
) -> bytes:
    return _bin_bytes(listed, read(), [*lines, *endpoint_lines()])


def _paper_bin_inputs(papers: str, lines: list[str], endpoints: str) -> str:
    """What a bin is made of: the digest of its papers' lines (``made_of`` of their blocks), that
    of the lines the site-wide step listed in it, and that of its integrity endpoints' lines."""
    return f"{papers}+{made_of(lines, ())}+{endpoints}"


@dataclass(frozen=True, slots=True)
class _PaperBinBefore:
    """The digests of a paper bin's papers' lines and endpoints' lines, as the last build noted them."""

    papers: str
    endpoints: str


def _paper_bin_before(site: StagedSite, name: str) -> _PaperBinBefore | None:
    """What the last build noted bin ``name`` was made of (None: it noted nothing of this form)."""
    inputs = site.made_inputs(name)
    parts = [] if inputs is None else inputs.split("+")
    return _PaperBinBefore(parts[0], parts[2]) if len(parts) == 3 else None


def _bin_bytes(listed: _ListedLines, papers: list[bytes], lines: list[str]) -> bytes:
    """A bin's ``sha256sum`` lines: its papers' (``papers``: their blocks of the manifest stream) that
    stay listed, then ``lines``, the site-wide step's and the endpoints'."""
    kept = [line for block in papers for line in listed.kept(block)]
    return "".join(f"{line}\n" for line in (*kept, *lines)).encode("utf-8")


def _stream_bytes(fd: int, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of the manifest stream.

    Raises:
        OutputError: the stream is shorter.
    """
    data = os.pread(fd, end - start, start)
    if len(data) != end - start:
        raise OutputError(f"the manifest stream ends early at byte {start + len(data)}")
    return data


class _ListedLines:
    """Which per-paper lines stay in the manifest: not those of files a collision page replaced,
    and a line a duplicate repeats only once."""

    def __init__(self, edits: _ManifestEdits) -> None:
        self._replaced = edits.replaced
        self._dirs = tuple(r for r in edits.replaced if r.endswith("/"))
        self._dedupe = tuple(f"{d}/" for d in edits.dedupe)
        self._seen: set[str] = set()
        self.dropped: list[str] = []
        """The files of the lines left out as replaced, so far."""

    def kept(self, block: bytes) -> Iterator[str]:
        for line in block.decode("utf-8").splitlines():
            name = line[66:]
            if name in self._replaced or name.startswith(self._dirs):
                self.dropped.append(name)
                continue
            if self._dedupe and name.startswith(self._dedupe):
                if line in self._seen:
                    continue
                self._seen.add(line)
            yield line


def _write_integrity_paths(
    site: StagedSite,
    spill: SummarySpill,
    orders: SiteOrders,
    settled: _Settled,
    result: BuildResult,
    paper_files: PaperFiles | None,
    served_before: ServedEndpoints | None,
    fresh: Collection[int],
) -> _Endpoints:
    """Serve the integrity endpoint path a snapshot names, when it is the one the signed source id
    derives, safe, and its paper keeps it (several papers naming one endpoint are settled by
    ``claims.settle``, as page paths are); linked from ``paper_files`` when given. Returns what was served.

    The file served there is the paper's own ``integrity.json``, so it says no more than that does.
    Endpoints are served in the order of their case-folded paths, their claimants in input path order.
    ``served_before``: the endpoints the last build served (``SiteOrders.served_before``), which a
    build that contests no path patches with the ``fresh`` records' (``_patched_endpoints``); a
    patch of the live site then links only those, the others being in place already.
    Their ``SHA256SUMS`` lines are ``_write_manifest``'s (``_EndpointLines``), not the writer's.
    """
    served = None
    if served_before is not None and not (settled.collided or settled.lost or settled.duplicates):
        served = _patched_endpoints(spill, orders.claims, served_before, fresh, result)
    patched = served is not None
    if served is None:
        served = _endpoints_whole(spill, orders.claims, settled, result)
    suffixes = orders.suffixes
    new_only = patched and site.patching
    for index, number in enumerate(served.records):
        if new_only and number not in fresh:
            continue
        suffix = suffixes[number * SUFFIX_LENGTH : (number + 1) * SUFFIX_LENGTH].decode("ascii")
        sha256 = served.sha256s[32 * index : 32 * index + 32].hex()
        root = None if paper_files is None else paper_files.root(number)
        site.link(
            f"{paper_dir_text(suffix)}/integrity.json",
            served.paths[index],
            sha256,
            source_root=root,
            listed=False,
        )
    if site.patching:
        site.kept_in_place(served.paths)
    return _Endpoints(served=served, patched=patched)


@dataclass(frozen=True, slots=True)
class _Endpoints:
    """The integrity endpoints a build serves, and whether they were patched from the last build's."""

    served: ServedEndpoints
    patched: bool
    """Each record that is not fresh serves what it served in the last build, where it served it."""


class _EndpointLines:
    """The ``SHA256SUMS`` lines of the integrity endpoints served, by the paper bin of each one's
    paper, in the order served (by case-folded path).

    ``changed``: the suffixes of the only bins whose lines the caller is expected to ask for (the
    rest it knows from the last build's notes), found by binary search in the suffix order; None:
    every bin's, grouped in one pass. A bin asked for beyond them groups every bin's then.
    """

    def __init__(
        self, served: ServedEndpoints, orders: SiteOrders, length: int, changed: Collection[str] | None
    ) -> None:
        self._served, self._suffixes, self._length = served, orders.suffixes, length
        self._grouped = changed is None
        if changed is None:
            self._by_bin = self._every_bin()
            return
        at = dict(zip(served.records, range(len(served.records)), strict=True))
        by_suffix, width = orders.by_suffix, SUFFIX_LENGTH

        def prefix_of(number: int) -> bytes:
            return self._suffixes[number * width : number * width + length]

        self._by_bin = {}
        for prefix in {suffix[:length] for suffix in changed}:
            key = prefix.encode("ascii")
            start = bisect.bisect_left(by_suffix, key, key=prefix_of)
            end = bisect.bisect_right(by_suffix, key, lo=start, key=prefix_of)
            indexes = sorted(at[n] for n in by_suffix[start:end] if n in at)
            self._by_bin[paper_bin(prefix, length)] = [self._line(i) for i in indexes]

    def _line(self, index: int) -> str:
        return f"{self._served.sha256s[32 * index : 32 * index + 32].hex()}  {self._served.paths[index]}"

    def _every_bin(self) -> dict[str, list[str]]:
        by_bin: dict[str, list[str]] = {}
        suffixes, width, length = self._suffixes, SUFFIX_LENGTH, self._length
        for index, number in enumerate(self._served.records):
            prefix = suffixes[number * width : number * width + length].decode("ascii")
            by_bin.setdefault(paper_bin(prefix, length), []).append(self._line(index))
        return by_bin

    def bins(self) -> list[str]:
        """The bins known to hold endpoint lines (every one, unless ``changed`` was given)."""
        return [name for name, lines in self._by_bin.items() if lines]

    def lines(self, name: str) -> list[str]:
        if name not in self._by_bin and not self._grouped and is_paper_bin(name):
            self._by_bin, self._grouped = self._every_bin(), True
        return self._by_bin.get(name, [])


def endpoint_sums(served: ServedEndpoints) -> str:
    """Every endpoint's ``SHA256SUMS`` line, in the order served (for the cache's ``site`` file)."""
    hexes = served.sha256s.hex()
    return "".join(f"{hexes[64 * i : 64 * i + 64]}  {path}\n" for i, path in enumerate(served.paths))


def _unsafe_endpoint_warnings(
    spill: SummarySpill, unsafe: list[tuple[str, int]], result: BuildResult
) -> None:
    for _, number in sorted(unsafe):
        summary = spill[number]
        result.warnings.append(
            f"{summary.input}: current.graph_snapshots.integrity.endpoint: integrity.path: "
            f"{summary.integrity_endpoint!r} is not /pith/<source id>/integrity.json for its signed "
            "source id, or not a safe path outside the paper and alias pages; not served"
        )


def _patched_endpoints(
    spill: SummarySpill,
    claims: PathClaims,
    before: ServedEndpoints,
    fresh: Collection[int],
    result: BuildResult,
) -> ServedEndpoints | None:
    """The endpoints ``_endpoints_whole`` serves, from those the last build served (``before``:
    every one named, each named once) and the ``fresh`` records'; None when a fresh record names a
    served endpoint or claims a directory above one (the whole pass settles that)."""
    records, paths, sha256s = before.records, before.paths, before.sha256s

    def served_at(folded: str) -> int:
        """Where in ``paths`` (sorted by case-folded path) ``folded`` is or would go."""
        place: int = bisect.bisect_left(paths, folded, key=fold)
        return place

    wanted: list[tuple[int, str | None, list[str], str, str]] = []
    """Fresh endpoints named: record number, path (None: not a safe one), its case-folded parents,
    input and SHA-256."""
    for number in sorted(fresh):
        for claimed in claims_of(spill, number):
            above = f"{fold(claimed)}/"
            at = served_at(above)
            if at < len(paths) and fold(paths[at]).startswith(above):
                return None
        endpoint, name, sha256, source_id = spill.fields_of(
            number, "integrity_endpoint", "input", "integrity_sha256", "source_id"
        )
        if endpoint:
            rel = integrity_endpoint_path(endpoint, source_id)
            parents = [] if rel is None else [fold(parent) for parent in _parents(rel)]
            wanted.append((number, rel, parents, name, sha256))
    # one question for every parent: each is a pass over every claim
    every_parent = {parent for _, _, parents, _, _ in wanted for parent in parents}
    claimed_parents = claims.claimed(every_parent, lambda n: claims_of(spill, n))
    unsafe: list[tuple[str, int]] = []
    named: list[tuple[str, str, int, bytes]] = []
    """Fresh endpoints to serve: case-folded path, path, record number, SHA-256."""
    for number, rel, parents, name, sha256 in wanted:
        if rel is None or not claimed_parents.isdisjoint(parents):
            unsafe.append((name, number))
            continue
        folded = fold(rel)
        at = served_at(folded)
        if at < len(paths) and fold(paths[at]) == folded:
            return None
        named.append((folded, rel, number, bytes.fromhex(sha256)))
    named.sort()
    if len({folded for folded, *_ in named}) != len(named):
        return None
    _unsafe_endpoint_warnings(spill, unsafe, result)
    merged = ServedEndpoints(records=array("I"), paths=[], sha256s=b"", quiet=not unsafe)
    merged_sha256s = bytearray()
    start = 0
    for folded, rel, number, sha256 in named:
        place = served_at(folded)
        merged.records.extend(records[start:place])
        merged.paths.extend(paths[start:place])
        merged_sha256s += sha256s[32 * start : 32 * place]
        merged.records.append(number)
        merged.paths.append(rel)
        merged_sha256s += sha256
        start = place
    merged.records.extend(records[start:])
    merged.paths.extend(paths[start:])
    merged_sha256s += sha256s[32 * start :]
    return replace(merged, sha256s=bytes(merged_sha256s))


def _endpoints_whole(
    spill: SummarySpill, claims: PathClaims, settled: _Settled, result: BuildResult
) -> ServedEndpoints:
    """The endpoints served, from a pass over every summary's head."""
    unsafe: list[tuple[str, int]] = []
    doubtful: list[tuple[str, str, str, str, int, list[str]]] = []
    """(endpoint, input, suffix, SHA-256, record number, folded parents): not whole summaries."""
    wanted: list[bytes] = []
    """Sort keys: the case-folded endpoint, the input; then the endpoint, the suffix and the
    file's SHA-256 (read back, not decoded again)."""
    maybe_claimed = functools.lru_cache(maxsize=256)(claims.maybe_claimed)  # most share ``pith`` and ``.``
    papers = spill.fields("integrity_endpoint", "input", "suffix", "integrity_sha256", "source_id")
    for number, (endpoint, name, suffix, sha256, source_id) in enumerate(papers):
        if not endpoint or number in settled.duplicates:
            continue
        rel = integrity_endpoint_path(endpoint, source_id)
        if rel is None:
            unsafe.append((name, number))
            continue
        parents = [fold(parent) for parent in _parents(rel)]
        if any(maybe_claimed(parent) for parent in parents):
            doubtful.append((rel, name, suffix, sha256, number, parents))
        else:
            wanted.append(_endpoint_key(rel, name, suffix, sha256, number))
    if doubtful:
        claimed = claims.claimed(
            {p for *_, parents in doubtful for p in parents}, lambda n: claims_of(spill, n)
        )
        for rel, name, suffix, sha256, number, parents in doubtful:
            if any(parent in claimed for parent in parents):
                unsafe.append((name, number))
            else:
                wanted.append(_endpoint_key(rel, name, suffix, sha256, number))
    _unsafe_endpoint_warnings(spill, unsafe, result)
    quiet = not unsafe
    served = ServedEndpoints(records=array("I"), paths=[], sha256s=b"", quiet=False)
    sha256s = bytearray()
    wanted.sort()
    for run in _runs(wanted):
        keys = {number: key for number, key in zip(record_numbers(run), run, strict=True)}
        if len(run) > 1:
            quiet = False
            claimants = {n: spill[n] for n in keys}
            settlement = settle(
                [Claimant(n, c.verdict is Verdict.VERIFIED, c.input_sha256) for n, c in claimants.items()]
            )
            if settlement.keeper is None or settlement.collision or settlement.losers:
                names = ", ".join(
                    f"{c.input} ({c.pith_number}, {c.verdict.value})" for c in claimants.values()
                )
                rel = order_texts(run[0][:-4])[2]
                outcome = "neither is served" if settlement.keeper is None else "the verified one is served"
                result.warnings.append(f"/{rel}: integrity.collision: named by {names}; {outcome}")
            if settlement.keeper is None:
                continue
            keys = {settlement.keeper: keys[settlement.keeper]}
        ((number, key),) = keys.items()
        _, _, rel, suffix, sha256 = order_texts(key[:-4])
        own = paper_dir_text(suffix)
        if settled.routed(number, own):  # else the paper's files are not at its own path
            served.records.append(number)
            served.paths.append(rel)
            sha256s += bytes.fromhex(sha256)
    return replace(served, sha256s=bytes(sha256s), quiet=quiet)


def _endpoint_key(rel: str, name: str, suffix: str, sha256: str, number: int) -> bytes:
    return order_key(fold(rel), name, rel, suffix, sha256) + number.to_bytes(4, "big")


def _parents(path: str) -> list[str]:
    """What ``PurePosixPath(path).parents`` spells: ``a/b/c`` has ``a/b``, ``a`` and ``.``."""
    parts = path.split("/")
    return ["/".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)] + ["."]


def _runs(keys: list[bytes]) -> Iterator[list[bytes]]:
    """Sorted ``order_key`` keys in runs that share the first text."""
    run: list[bytes] = []
    first = b""
    for key in keys:
        head = key[: key.index(b"\x00")]
        if run and head != first:
            yield run
            run = []
        first = head
        run.append(key)
    if run:
        yield run


def _write_index(
    site: StagedSite,
    renderer: Renderer,
    spill: SummarySpill,
    plan: ListingPlan,
    newest_first: Sequence[PaperSummary],
    *,
    counts: dict[str, int],
    rejected: int,
    changed_months: frozenset[int] | None,
) -> None:
    """The listings (``sitegen.site.listings``): ``/`` with the newest ``papers_per_page`` papers,
    ``/papers/`` with the months, and each month's pages, ``/papers/<YYYY>/<MM>/``, ``.../2/``...

    ``changed_months``: the month codes whose papers are not the last build's (None: any may be
    changed); the live pages of every other month are kept without a look at their papers."""
    front = PurePosixPath(".")
    site.write(
        PurePosixPath("index.html"),
        renderer.page(
            "index.html",
            front,
            rows=paper_rows.index_rows(newest_first[: plan.per_page], root_prefix(front)),
            newest_month=plan.newest_month,
            total=len(newest_first),
            counts=counts,
            rejected=rejected,
        ),
    )
    months = PurePosixPath(LISTINGS_DIR)
    site.write(
        months / "index.html",
        renderer.page("months.html", months, months=plan.months, per_page=plan.per_page),
    )
    listed = spill.view(plan.order)
    for page in plan.pages():
        month = page.month
        code = UNDATED if month.year is None or month.month is None else month.year * 100 + month.month
        if (
            changed_months is not None
            and code not in changed_months
            and site.keep_made(f"{page.directory}/index.html")
        ):
            continue
        numbers = plan.order[page.start : page.end]
        site.write_made(
            f"{page.directory}/index.html",
            made_of(_page_fields(page), map(spill.record, numbers)),
            functools.partial(_month_page, renderer, page, listed),
        )


def _page_fields(page: ListingPage) -> list[object]:
    """What a month's page shows besides its papers (not where they are in the plan's order)."""
    month = page.month
    return [
        month.year,
        month.month,
        page.number,
        page.first_position,
        page.directory,
        page.earlier,
        page.later,
    ]


def _month_page(renderer: Renderer, page: ListingPage, listed: Sequence[PaperSummary]) -> bytes:
    """A month's page of the papers ``listed`` (in the listing plan's order) holds."""
    rel = PurePosixPath(page.directory)
    rows = paper_rows.index_rows(listed[page.start : page.end], root_prefix(rel))
    return renderer.page("month.html", rel, page=page, rows=rows)


def _load_pages(files: ContentFiles, renderer: Renderer, result: BuildResult) -> list[tuple[PageMeta, str]]:
    pages: list[tuple[PageMeta, str]] = []
    reserved = {"pith", "arxiv", "doi", "keys", "assets", "verification", "papers", "search"}
    for rel in files.pages:
        try:
            text = read_input(files.root, rel, renderer.config.limits).decode("utf-8")
            meta, body = split_front_matter(text, rel)
        except SitegenError as exc:  # before OSError: InputError is both
            result.errors.append(str(exc))
            continue
        except UnicodeDecodeError as exc:
            result.errors.append(f"{rel}: page.read: not UTF-8: invalid byte at offset {exc.start}")
            continue
        if meta.slug in reserved or any(m.slug == meta.slug for m, _ in pages):
            result.errors.append(f"{rel}: slug: page.slug: {meta.slug!r} is reserved or used by another page")
            continue
        pages.append((meta, renderer.markdown_html(body)))
    return sorted(pages, key=lambda p: (p[0].order, p[0].slug))


def _write_keys(site: StagedSite, keyring: Keyring) -> None:
    listing = []
    for key in keyring.keys:
        rel = safe_relpath(key.key_id)
        if rel is None or len(rel.parts) != 1:
            continue
        site.write(PurePosixPath("keys", f"{key.key_id}.pem"), public_key_pem(key))
        site.write(PurePosixPath("keys", f"{key.key_id}.json"), json_bytes(dict(key.document)))
        listing.append(_key_entry(key))
    site.write(PurePosixPath("keys", "index.json"), json_bytes({"keys": listing}))


def _key_entry(key: RegistryKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "fingerprint_sha256_hex": key.fingerprint_hex,
        "fingerprint_sha256_b32_first128bits": key.fingerprint_b32,
        "public_key_hex": key.public_key.hex(),
        "pem": f"keys/{key.key_id}.pem",
    }

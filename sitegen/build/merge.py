"""Merging the outputs of a sharded build into one site (layer 5).

N jobs run ``build --shard K/N``; each leaves its papers' files and a log
(``shardlog.py``). ``merge_shards`` links every shard's files into one staging
directory (hard links, or copies across file systems), reads the logs back in input
order and runs the very site-wide step a whole build runs (``build.write_site_wide``),
so the merged site is byte-identical to a whole build of the same content:
the index pages, alias map, search index, verification page and report, SHA256SUMS,
and collisions between papers of different shards.

With ``overlay``, nothing of the shards' papers is linked: the output holds only what the
site-wide step writes (site-wide files, integrity endpoints linked from the shards' trees,
collision pages, held files placed) and ``WITHDRAWN_NAME``, the shards' files the site does
not serve. The shards' trees (less ``HELD_DIR`` and their logs), less the withdrawn files,
with the overlay on top, are the whole build's site: a mirror of millions of papers uploads
each shard's tree from its own job and the overlay from the merge, which then reads the logs,
not tens of millions of files (``docs/deploy.md``).
"""

from __future__ import annotations

import heapq
import os
import time
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import IO

from sitegen.build.collector import spaced_collections
from sitegen.build.paper_job import StateOutcome
from sitegen.build.pipeline import (
    REPORT_NAME,
    BuildResult,
    Collected,
    PaperFiles,
    Progress,
    default_jobs,
    paper_context,
    process_shared_inputs,
    read_site_inputs,
    write_site_wide,
)
from sitegen.build.shardlog import SHARD_LOG, ShardHeader, content_fingerprint, read_shard_log
from sitegen.errors import InputError, OutputError
from sitegen.fs.staging import HELD_DIR, StagedSite, link_or_copy, refuse_unsafe_target
from sitegen.pith.report import Verdict
from sitegen.pith.sshsig import OperatorKey
from sitegen.site.shard import Shard

__all__ = ["WITHDRAWN_NAME", "merge_shards"]

WITHDRAWN_NAME = "sitegen-withdrawn.txt"
"""In an overlay's root: the shards' files the merged site does not serve, one path a line (not published)."""


@spaced_collections()
def merge_shards(
    shard_dirs: Sequence[Path],
    content: Path,
    out: Path,
    *,
    full_report: IO[bytes] | None = None,
    sign_with: OperatorKey | None = None,
    overlay: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Merge the outputs of ``build --shard K/N`` for every K into the site ``out``
    (``full_report``, ``sign_with``: as for ``build_site``; ``progress``: told of each logged
    state file read), or with ``overlay`` into what the site-wide step adds to the shards'
    trees (see the module docstring).

    Raises:
        InputError: a shard is missing, repeated, or was built from other content
            (check ``shard.set`` / ``shard.content``), or its log is unreadable.
        ConfigError: the content's configuration is malformed.
        OutputError, BuildError: the output could not be written (the old site stays).
    """
    started = time.monotonic()
    result = BuildResult()
    inputs = read_site_inputs(content, result)
    refuse_unsafe_target(out, content=content, marker=REPORT_NAME)
    logs = [read_shard_log(directory) for directory in shard_dirs]
    _check_shard_set(shard_dirs, [header for header, _ in logs], content_fingerprint(inputs.files))
    collected = Collected(result)
    try:
        with StagedSite(out) as site:
            integrity, states = process_shared_inputs(inputs, collected)
            for directory in shard_dirs:
                if not overlay:
                    _link_tree(directory, site.root)
                elif (directory / HELD_DIR).is_dir():
                    _link_tree(directory / HELD_DIR, site.root / HELD_DIR)
            shard_of = array("I")  # per record number, the index of the shard that logged it (overlay)
            merged = 0
            previous: PurePosixPath | None = None
            for rel, shard, outcome in heapq.merge(
                *(_from_shard(index, outcomes) for index, (_, outcomes) in enumerate(logs)),
                key=lambda item: item[0],
            ):
                if previous is not None and rel <= previous:
                    raise InputError(str(rel), "logged twice or out of order", check="shard.set")
                previous = rel
                if overlay and outcome.summary is not None:
                    verified = outcome.summary.verdict is Verdict.VERIFIED
                    shard_of.append(shard if verified else PaperFiles.STAGED)
                collected.add(outcome)
                merged += 1
                if progress is not None:
                    progress(merged, len(states))
            if merged != len(states):
                raise InputError(
                    str(content),
                    f"the shards logged {merged} state files, the content has {len(states)}",
                    check="shard.set",
                )
            if overlay:
                result.files_written = 0  # the shards' files stay in their trees; count the overlay's
            roots = tuple(os.fspath(d.absolute()) for d in shard_dirs)
            site_wide = write_site_wide(
                site,
                paper_context(inputs, integrity, site.root),
                inputs,
                collected,
                jobs=default_jobs(),
                full_report=full_report,
                sign_with=sign_with,
                paper_files=PaperFiles(roots, shard_of) if overlay else None,
            )
            if overlay:
                withdrawn = "".join(f"{rel}\n" for rel in site_wide.withdrawn)
                site.path(PurePosixPath(WITHDRAWN_NAME)).write_text(withdrawn, encoding="utf-8")
            result.files_written += site.files_written
            site.commit()
    finally:
        collected.close()
    result.seconds = time.monotonic() - started
    return result


def _from_shard(
    index: int, outcomes: Iterator[tuple[PurePosixPath, StateOutcome]]
) -> Iterator[tuple[PurePosixPath, int, StateOutcome]]:
    """A shard's logged outcomes, each with the shard's place among the merged ones."""
    for rel, outcome in outcomes:
        yield rel, index, outcome


def _check_shard_set(dirs: Sequence[Path], headers: Sequence[ShardHeader], fingerprint: str) -> None:
    """Every shard 1..N exactly once, all built from this content."""
    seen: dict[int, Path] = {}
    counts: set[int] = set()
    for directory, header in zip(dirs, headers, strict=True):
        try:
            shard = Shard.parse(str(header.get("shard")))
        except ValueError as exc:
            raise InputError(str(directory / SHARD_LOG), str(exc), check="shard.log") from exc
        if header.get("content_sha256") != fingerprint:
            raise InputError(
                str(directory),
                "built from other content, configuration, keys or version than this merge",
                check="shard.content",
            )
        if shard.index in seen:
            raise InputError(str(directory), f"shard {shard} is also {seen[shard.index]}", check="shard.set")
        seen[shard.index] = directory
        counts.add(shard.count)
    count = max(counts)
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if len(counts) > 1 or missing:
        raise InputError(
            str(dirs[0]),
            f"need every shard of {count} exactly once: missing {', '.join(missing) or 'none'}, "
            f"shard counts given {sorted(counts)}",
            check="shard.set",
        )


def _link_tree(shard_dir: Path, root: Path) -> None:
    """Hard-link (or copy) every file of a shard's output into the staging tree ``root``.

    A path two shards wrote is replaced by the later one: two shards write one path only
    when two verified papers claim it (papers that are not verified write theirs under the
    held directory), and the site-wide step then settles it as in a whole build: a collision
    page, or the first paper rendered once more.
    """
    for directory, _, names in os.walk(shard_dir):
        here = Path(directory)
        target_dir = root / here.relative_to(shard_dir)
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            if here == shard_dir and name == SHARD_LOG:
                continue
            target = target_dir / name
            try:
                link_or_copy(str(here / name), str(target))
            except OSError as exc:
                raise OutputError(f"{target}: cannot link or copy from {shard_dir}: {exc.strerror}") from exc

"""Shards and merges, measured: ``python -m bench.shards CORPUS WORK --shards N [--linked]``.

Builds ``build --shard K/N`` for every K into ``WORK/shard-K``, picks each shard's merge
artifact as ``docs/deploy.md``'s recipe does (its log, held files and papers'
``integrity.json``, copied into ``WORK/artifact-K``), runs ``merge --overlay`` on the artifacts
and, with ``--linked``, the merge that links the shards' whole trees. Each command runs
through ``bench.measure`` (wall time and peak memory of its process tree, once the disk is
quiet). Prints a Markdown table and what the overlay merge's job downloads and uploads;
``docs/scale.md``'s shard and merge figures come from it. WORK must not exist.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.measure import log, run_measured
from sitegen.build.merge import WITHDRAWN_NAME
from sitegen.build.shardlog import SHARD_LOG
from sitegen.fs.staging import HELD_DIR

__all__ = ["main", "merge_artifact", "run_shards"]


def merge_artifact(shard_dir: Path, artifact: Path) -> int:
    """Copy what ``merge --overlay`` reads of a shard (its log, its held files, its papers'
    ``integrity.json``) from ``shard_dir`` into ``artifact``; returns the bytes copied."""
    picked = [shard_dir / SHARD_LOG, *_files_under(shard_dir / HELD_DIR)]
    pith = shard_dir / "pith"
    if pith.is_dir():
        with os.scandir(pith) as papers:
            picked.extend(Path(entry.path, "integrity.json") for entry in papers if entry.is_dir())
    copied = 0
    for path in picked:
        if path.is_file():
            target = artifact / path.relative_to(shard_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied += path.stat().st_size
    return copied


def _files_under(root: Path) -> list[Path]:
    return [Path(top, name) for top, _, names in os.walk(root) for name in names]


def _sitegen(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "sitegen", *map(str, args), "--quiet"]


def run_shards(
    corpus: Path, work: Path, shards: int, *, linked: bool, quiet_wait: float
) -> list[dict[str, Any]]:
    """Measure the shards, the overlay merge and (``linked``) the linked merge, each once the disk
    is quiet (waiting at most ``quiet_wait`` s); one row each."""
    rows: list[dict[str, Any]] = []
    shard_dirs = [work / f"shard-{k}" for k in range(1, shards + 1)]
    for k, shard_dir in enumerate(shard_dirs, start=1):
        log(f"shard {k}/{shards}")
        command = _sitegen("build", "--content", corpus, "--out", shard_dir, "--shard", f"{k}/{shards}")
        rows.append({"step": f"shard {k}/{shards}", **run_measured(command, quiet_wait=quiet_wait)})
    artifacts = [work / f"artifact-{k}" for k in range(1, shards + 1)]
    downloaded = sum(merge_artifact(d, a) for d, a in zip(shard_dirs, artifacts, strict=True))
    log("merge --overlay")
    overlay = work / "overlay"
    command = _sitegen("merge", "--overlay", *artifacts, "--content", corpus, "--out", overlay)
    measured = run_measured(command, quiet_wait=quiet_wait)
    files = sum(1 for p in _files_under(overlay) if p.name != WITHDRAWN_NAME)
    note = f"downloads {downloaded / 1e6:.1f} MB; its overlay: {files:,} files"
    rows.append({"step": "merge --overlay", **measured, "note": note})
    if linked:
        log("merge (linking the trees)")
        command = _sitegen("merge", *shard_dirs, "--content", corpus, "--out", work / "merged")
        rows.append({"step": "merge, linking the trees", **run_measured(command, quiet_wait=quiet_wait)})
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| step | wall | peak RSS | |", "|---|---:|---:|---|"]
    for row in rows:
        lines.append(
            f"| {row['step']} | {row['wall_s']:.2f} s | {row['peak_rss_mb']:.0f} MB | {row.get('note', '')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shards", description=__doc__)
    parser.add_argument("corpus", type=Path, help="a content directory (e.g. bench/work/corpus-100000)")
    parser.add_argument("work", type=Path, help="a directory to create for the shards and merges")
    parser.add_argument("--shards", type=int, default=2, help="how many shards (default 2)")
    parser.add_argument("--linked", action="store_true", help="also time the merge that links the trees")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="seconds to wait at most for a quiet disk before each step",
    )
    args = parser.parse_args(argv)
    if args.work.exists():
        parser.error(f"{args.work} exists; give a directory to create")
    if args.shards < 1:
        parser.error("--shards must be at least 1")
    rows = run_shards(args.corpus, args.work, args.shards, linked=args.linked, quiet_wait=args.quiet_wait)
    print(_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The per-paper work alone: what a build does for its papers, without the rest of the build.

``python -m bench.perpaper CONTENT OUT [--jobs J]`` runs every state file of
CONTENT through ``process_state`` (read, strict parse, every check, every endpoint
and redirect page, each file hashed for ``SHA256SUMS``) on J worker processes, with
the build's own pool, writing into OUT. It drops the outcomes as they arrive: no
report, summaries or incremental cache, no site-wide pages, no staging swap.

Between the floor loop and the full build in the bench table, it splits the full
build's extra time in two: the per-paper work the floor leaves out, and what the
build adds around the papers.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sitegen.build.pipeline import (
    BuildResult,
    Collected,
    default_jobs,
    paper_context,
    process_shared_inputs,
    read_site_inputs,
    state_outcomes,
)

__all__ = ["main", "run_per_paper"]


def run_per_paper(content: Path, out: Path, jobs: int) -> tuple[int, float]:
    """Process every state file of ``content`` into ``out`` on ``jobs`` processes; (papers, seconds)."""
    result = BuildResult()
    inputs = read_site_inputs(content, result)
    collected = Collected(result)
    try:
        integrity, states = process_shared_inputs(inputs, collected)
    finally:
        collected.close()
    out.mkdir(parents=True, exist_ok=True)
    ctx = paper_context(inputs, integrity, out)
    started = time.perf_counter()
    papers = sum(1 for outcome in state_outcomes(ctx, states, jobs) if outcome is not None)
    return papers, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perpaper", description=__doc__)
    parser.add_argument("content", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    papers, seconds = run_per_paper(args.content, args.out, args.jobs)
    print(f"per-paper work: {papers} papers in {seconds:.2f} s with {args.jobs} processes ({os.getpid()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

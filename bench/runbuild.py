"""One build for the bench: ``python -m bench.runbuild CONTENT OUT STATS.json [--jobs J]``.

The same ``build_site`` call as ``python -m sitegen build``, plus what the command
line does not print: the seconds per stage, summed over the workers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sitegen.build.pipeline import build_site, default_jobs

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runbuild", description=__doc__)
    parser.add_argument("content", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("stats", type=Path)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    result = build_site(args.content, args.out, jobs=args.jobs)
    stats = {
        "papers": result.papers,
        "files": result.files_written,
        "counts": result.counts(),
        "warnings": len(result.warnings),
        "jobs": args.jobs,
        "rendered": result.rendered,
        "reused": result.reused,
        "build_s": round(result.seconds, 3),
        "stages_s": {stage: round(seconds, 3) for stage, seconds in result.stages.items()},
    }
    args.stats.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

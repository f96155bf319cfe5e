"""One build for the bench: ``python -m bench.runbuild CONTENT OUT STATS.json [--jobs J] [--publish swap|patch]``.

The same ``build_site`` call as ``python -m sitegen build``, plus what the command
line does not print: the seconds per stage, summed over the workers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sitegen.build.pipeline import build_site, default_jobs
from sitegen.site.config import Publish

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runbuild", description=__doc__)
    parser.add_argument("content", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("stats", type=Path)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--publish", choices=[mode.value for mode in Publish], default=None)
    args = parser.parse_args(argv)
    publish = None if args.publish is None else Publish(args.publish)
    result = build_site(args.content, args.out, jobs=args.jobs, publish=publish)
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

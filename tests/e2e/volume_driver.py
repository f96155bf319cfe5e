"""Run inside ``unshare -rm`` (a private mount namespace): builds against a full and a read-only volume.

Usage: ``python volume_driver.py WORKDIR CONTENT_V1 CONTENT_V2``. It mounts a small tmpfs
(full volume) and a read-only bind mount (read-only output parent), builds the site with
``python -m sitegen build`` before, during and after the failure, and prints one JSON
document with every exit code, stderr and a snapshot (path -> SHA-256) of the site, so
the test outside the namespace can assert on them.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.e2e.sitebuild import build_command, file_hashes


def build(content: Path, out: Path) -> dict[str, object]:
    proc = subprocess.run(
        build_command(content, out), capture_output=True, text=True, check=False, timeout=120
    )
    return {"code": proc.returncode, "stderr": proc.stderr}


def fill(volume: Path) -> None:
    """Write a filler file until the volume reports ENOSPC."""
    with (volume / "filler").open("wb", buffering=0) as handle:
        while True:
            try:
                handle.write(b"\0" * 4096)
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    return
                raise


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, timeout=60)


def failing_build(
    v1: Path, v2: Path, site: Path, break_it: Callable[[], None], mend_it: Callable[[], None]
) -> dict[str, object]:
    """Build v1, break the volume, build v2 (must fail), mend it, build v2 again; record everything."""
    first = build(v1, site)
    before = file_hashes(site)
    break_it()
    failed = build(v2, site)
    after = file_hashes(site)
    leftovers = sorted(p.name for p in site.parent.iterdir() if ".staging-" in p.name)
    mend_it()
    again = build(v2, site)
    return {
        "first": first,
        "failed": failed,
        "again": again,
        "before": before,
        "after": after,
        "final": file_hashes(site),
        "leftovers": leftovers,
    }


def main() -> None:
    work, v1, v2 = (Path(a) for a in sys.argv[1:4])
    full = work / "full"
    full.mkdir()
    mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(full))
    readonly = work / "readonly"
    readonly.mkdir()

    def make_read_only() -> None:
        mount("--bind", str(readonly), str(readonly))
        mount("-o", "remount,ro,bind", str(readonly))

    result = {
        "full": failing_build(v1, v2, full / "site", lambda: fill(full), (full / "filler").unlink),
        "readonly": failing_build(
            v1,
            v2,
            readonly / "site",
            make_read_only,
            lambda: subprocess.run(["umount", str(readonly)], check=True, timeout=60),
        ),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

"""Run inside ``unshare -rm`` (a private mount namespace): builds against a full and a read-only volume.

Usage: ``python volume_driver.py WORKDIR CONTENT_V1 CONTENT_V2``. It mounts a small tmpfs
(full volume) and a read-only bind mount (read-only output parent), builds the site with
``python -m sitegen build`` before, during and after the failure, and prints one JSON
document with every exit code, stderr and a snapshot (path -> SHA-256) of the site, so
the test outside the namespace can assert on them.
"""

from __future__ import annotations

import errno
import hashlib
import json
import subprocess
import sys
from pathlib import Path


def snapshot(site: Path) -> dict[str, str]:
    """Every file under ``site`` with its SHA-256."""
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def build(content: Path, out: Path) -> dict[str, object]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sitegen",
            "build",
            "--content",
            str(content),
            "--out",
            str(out),
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
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
    subprocess.run(["mount", *args], check=True)


def main() -> None:
    work, v1, v2 = (Path(a) for a in sys.argv[1:4])
    result: dict[str, object] = {}

    full = work / "full"
    full.mkdir()
    mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(full))
    site = full / "site"
    first = build(v1, site)
    before = snapshot(site)
    fill(full)
    failed = build(v2, site)
    after = snapshot(site)
    leftovers = sorted(p.name for p in full.iterdir() if ".staging-" in p.name)
    (full / "filler").unlink()
    again = build(v2, site)
    result["full"] = {
        "first": first,
        "failed": failed,
        "again": again,
        "before": before,
        "after": after,
        "final": snapshot(site),
        "leftovers": leftovers,
    }

    readonly = work / "readonly"
    readonly.mkdir()
    site = readonly / "site"
    first = build(v1, site)
    before = snapshot(site)
    mount("--bind", str(readonly), str(readonly))
    mount("-o", "remount,ro,bind", str(readonly))
    failed = build(v2, site)
    after = snapshot(site)
    subprocess.run(["umount", str(readonly)], check=True)
    again = build(v2, site)
    result["readonly"] = {
        "first": first,
        "failed": failed,
        "again": again,
        "before": before,
        "after": after,
        "final": snapshot(site),
        "leftovers": [],
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

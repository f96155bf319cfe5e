"""Helpers for tests that run ``python -m sitegen build`` as a real subprocess and compare site trees."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path


def build_command(content: Path, out: Path) -> list[str]:
    """The command line of a single-process build of ``content`` into ``out``."""
    return [
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
    ]


def file_hashes(site: Path) -> dict[str, str]:
    """Every file under ``site`` with its SHA-256: equal results mean an untouched tree."""
    return {
        str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }

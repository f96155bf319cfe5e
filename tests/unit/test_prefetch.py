"""Prefetching inputs is best effort: it never blocks, raises or reads what the build would refuse."""

from __future__ import annotations

import os
from pathlib import Path

from sitegen.fs.sources import prefetch


def test_prefetch_passes_over_fifos_missing_files_and_symlinks(tmp_path: Path) -> None:
    """A FIFO (whose open could block), a missing file, a symlink and a directory are skipped quietly."""
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "a.state.json").write_bytes(b"{}")
    os.mkfifo(tmp_path / "states" / "fifo.state.json")
    (tmp_path / "states" / "link.state.json").symlink_to("/etc/hostname")
    (tmp_path / "states" / "dir.state.json").mkdir()
    names = ["a", "fifo", "link", "dir", "missing"]
    prefetch(tmp_path, [f"states/{name}.state.json" for name in names])
    assert (tmp_path / "states" / "a.state.json").read_bytes() == b"{}"

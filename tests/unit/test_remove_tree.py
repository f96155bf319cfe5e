"""``remove_tree``: how a build deletes a retired site, a spare or a staging tree; and
``remove_tree_later``, which deletes it beside the build, in a detached process.

It deletes as it lists, instead of listing a directory whole first (a full mirror's
``pith/`` holds millions of names), and it never follows a symbolic link out of the tree.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sitegen.fs.staging import remove_tree, remove_tree_alone
from tests.conftest import ROOT


def _wide_tree(root: Path, names: int) -> None:
    """A tree shaped like a site: one wide directory of paper directories, and nesting below."""
    for n in range(names):
        paper = root / "pith" / f"P{n:05d}"
        (paper / "verification").mkdir(parents=True)
        (paper / "index.html").write_text(f"page {n}")
        (paper / "verification" / "index.json").write_text("{}")
        (root / "pith" / f"S{n:05d}.html").write_text("alias")
    (root / "SHA256SUMS").write_text("sums")


def test_a_wide_nested_tree_is_deleted_whole(tmp_path: Path) -> None:
    """Every file and directory goes, however many names a directory holds, and its parent stays."""
    site = tmp_path / "site"
    _wide_tree(site, 3000)
    remove_tree(site)
    assert not site.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_link_in_the_tree_is_deleted_and_not_followed(tmp_path: Path) -> None:
    """A symbolic link to a directory outside is removed as a name; what it points to is untouched."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    site = tmp_path / "site"
    _wide_tree(site, 3)
    (site / "pith" / "P00001" / "escape").symlink_to(outside, target_is_directory=True)
    (site / "file-link").symlink_to(outside / "keep.txt")
    remove_tree(site)
    assert not site.exists()
    assert (outside / "keep.txt").read_text() == "keep"


def test_a_root_that_is_a_link_is_left_alone(tmp_path: Path) -> None:
    """Asked to remove a link to a directory, it removes neither the link nor what is behind it."""
    real = tmp_path / "real"
    _wide_tree(real, 2)
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    remove_tree(tmp_path / "alias")
    assert (tmp_path / "alias").is_symlink()
    assert (real / "SHA256SUMS").read_text() == "sums"


def test_a_missing_tree_is_not_an_error(tmp_path: Path) -> None:
    remove_tree(tmp_path / "never-made")
    remove_tree(str(tmp_path / "never-made"))


def _processes_running(marker: str) -> list[int]:
    """The processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_remove_tree_later_deletes_in_a_detached_process_holding_no_lock_or_pipe(tmp_path: Path) -> None:
    """The caller returns (its pipes close) while a detached process deletes the tree; that process
    holds neither the output's lock nor the caller's pipes, and the tree goes."""
    site = tmp_path / ".site.old-x"
    _wide_tree(site, 6000)
    lock = tmp_path / ".site.lock"
    marker = f"remove-later-{tmp_path.name}"
    script = (
        f"# {marker}\n"
        "import fcntl, os, sys\n"
        "from sitegen.fs.staging import remove_tree_later\n"
        f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        f"remove_tree_later({str(site)!r})\n"
        "print('returned', flush=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert proc.returncode == 0 and proc.stdout == "returned\n", proc.stderr
    assert site.exists(), "the caller waited for the deletion"
    for pid in _processes_running(marker):  # still deleting: look at what it holds, stopped
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
            try:
                held = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            except FileNotFoundError:
                held = []
            finally:
                os.kill(pid, signal.SIGCONT)
            assert all(path.startswith(str(site)) for path in held), held
    probe = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the lock went with the caller
    finally:
        os.close(probe)
    deadline = time.monotonic() + 60
    while site.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not site.exists()
    assert tmp_path.exists()


def test_a_tree_another_process_is_deleting_is_left_to_it(tmp_path: Path) -> None:
    """While a deleter holds the tree's lock, another deletes nothing (each build's start would
    otherwise add a deleter walking the same tree); once it is gone, the next deletes it."""
    site = tmp_path / ".site.old-y"
    _wide_tree(site, 50)
    deleter = os.open(site, os.O_RDONLY | os.O_DIRECTORY)  # as a deleter still at work holds it
    try:
        fcntl.flock(deleter, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert remove_tree_alone(site) is False
        assert len(list(site.rglob("*"))) >= 50
    finally:
        os.close(deleter)
    assert remove_tree_alone(site) is True
    assert not site.exists()

"""Crash safety: a killed build, a full or read-only volume, and two builds at once never damage the site.

The build runs as a real ``python -m sitegen build`` subprocess. Kill points are found
from outside, by watching the staging directory fill (no hook in the production code);
the build runs at the lowest CPU priority so the watcher sees each point in time.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sitegen.build.pipeline import build_site
from sitegen.errors import OutputError
from tests.conftest import ROOT
from tests.e2e.sitebuild import build_command, file_hashes, manifest_digests
from tests.synth import SigningKey, dump_state, make_state
from tests.waiting import wait_until

PAPERS = 40
KEY = SigningKey.from_seed(b"crash-safety", "crash-key")


def _content(root: Path, seed_state: dict[str, Any], titles: str, papers: int = PAPERS) -> Path:
    """A content directory of ``papers`` signed states whose titles start with ``titles``."""
    (root / "states").mkdir(parents=True)
    KEY.write_key_file(root / "keys")
    (root / "site.yaml").write_text("title: Crash test\npapers_per_page: 2\n", encoding="utf-8")
    for i in range(papers):
        state = make_state(
            seed_state,
            KEY,
            source_id=f"2607.{i:05d}",
            title=f"{titles} {i}",
            authors=["Ada Lovelace"],
            submitted_at="2026-07-01T00:00:00Z",
        )
        (root / "states" / f"p{i:03d}.state.json").write_bytes(dump_state(state))
    return root


def _assert_complete(site: Path, snapshot: dict[str, str]) -> None:
    """The site's SHA256SUMS and its bins list exactly its other files, each with its hash."""
    assert manifest_digests(site) == {k: v for k, v in snapshot.items() if k != "SHA256SUMS"}


def _run(content: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        build_command(content, out), capture_output=True, text=True, cwd=ROOT, check=False, timeout=120
    )


def _start_slow(content: Path, out: Path) -> subprocess.Popen[str]:
    """Start a build at the lowest CPU priority, so a watcher can stop it at a chosen point."""
    return subprocess.Popen(
        build_command(content, out),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: os.nice(5),
    )


def _stagings(out: Path) -> set[Path]:
    return set(out.parent.glob(f".{out.name}.staging-*"))


def _signal_when(proc: subprocess.Popen[str], out: Path, point: Callable[[Path], bool], sig: int) -> Path:
    """Send ``sig`` to the build as soon as its own staging directory satisfies ``point``; return it.

    Staging directories left by earlier killed builds (which this build removes) are not its own.
    """
    stale = _stagings(out)
    while proc.poll() is None:
        for staging in _stagings(out) - stale:
            try:
                reached = point(staging)
            except FileNotFoundError:
                reached = False
            if reached:
                proc.send_signal(sig)
                return staging
        time.sleep(0.001)
    _, err = proc.communicate(timeout=120)
    pytest.fail(f"the build ended (exit {proc.returncode}) before the kill point was reached: {err}")


KILL_POINTS: dict[str, Callable[[Path], bool]] = {
    "staging-created": lambda staging: True,
    "first-paper-written": lambda staging: (staging / "pith").is_dir(),
    "half-the-papers": lambda staging: len(os.listdir(staging / "pith")) >= 2 * PAPERS,
    "site-wide-pages": lambda staging: (staging / "aliases.json").exists(),
}


@pytest.fixture
def sites(tmp_path: Path, seed_state: dict[str, Any]) -> tuple[Path, Path, Path]:
    """Content v1 (built into ``out``) and content v2 (different titles, one paper more)."""
    v1 = _content(tmp_path / "v1", seed_state, "First edition")
    v2 = _content(tmp_path / "v2", seed_state, "Second edition", papers=PAPERS + 1)
    out = tmp_path / "public" / "site"
    first = _run(v1, out)
    assert first.returncode == 0, first.stderr
    return v1, v2, out


def test_sigkill_at_each_point_leaves_the_previous_site_and_the_next_build_succeeds(
    sites: tuple[Path, Path, Path],
) -> None:
    """SIGKILL while staging, mid-papers and during site-wide pages: old site intact; next build complete."""
    _, v2, out = sites
    before = file_hashes(out)
    _assert_complete(out, before)
    for name, point in KILL_POINTS.items():
        proc = _start_slow(v2, out)
        staging = _signal_when(proc, out, point, signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL, name
        assert staging.exists(), (
            f"{name}: the killed build left no staging directory, so it was not mid-build"
        )
        assert file_hashes(out) == before, f"{name}: the live site changed"
    after = _run(v2, out)
    assert after.returncode == 0, after.stderr
    assert wait_until(lambda: _stagings(out) == set(), 60), (
        "the next build had the killed builds' staging directories deleted"
    )
    final = file_hashes(out)
    _assert_complete(out, final)
    assert len([k for k in final if k.startswith("pith/") and k.endswith("/state.json")]) == PAPERS + 1
    assert "Second edition" in (out / "index.html").read_text(encoding="utf-8")


def test_second_concurrent_build_is_refused_and_the_first_completes(sites: tuple[Path, Path, Path]) -> None:
    """While one build holds the output, a second exits 2 with a clear message; the first then succeeds."""
    _, v2, out = sites
    before = file_hashes(out)
    first = _start_slow(v2, out)
    staging = _signal_when(first, out, KILL_POINTS["first-paper-written"], signal.SIGSTOP)
    try:
        second = _run(v2, out)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2
    assert second.stderr == (
        f"error: {out}: another build is writing this output directory; try again when it ends\n"
    )
    assert staging.exists(), "the refused build did not touch the running build's staging directory"
    assert file_hashes(out) == before
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    final = file_hashes(out)
    _assert_complete(out, final)
    assert final != before


def _why_no_mount_namespace() -> str | None:
    """None when ``unshare -rm`` can mount a tmpfs here (real full and read-only volumes), else why not."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "unshare or mount is not installed"
    probe = subprocess.run(
        ["unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", "/mnt"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return None if probe.returncode == 0 else f"no private mount namespace here: {probe.stderr.strip()}"


NO_MOUNT_NAMESPACE = _why_no_mount_namespace()


@pytest.mark.skipif(NO_MOUNT_NAMESPACE is not None, reason=str(NO_MOUNT_NAMESPACE))
def test_full_and_read_only_volumes_give_a_clear_error_and_keep_the_site(
    tmp_path: Path, seed_state: dict[str, Any]
) -> None:
    """A real full tmpfs and a real read-only bind mount: exit 2, a clear message, the old site intact."""
    v1 = _content(tmp_path / "v1", seed_state, "First edition", papers=3)
    v2 = _content(tmp_path / "v2", seed_state, "Second edition", papers=4)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [
            "unshare",
            "-rm",
            sys.executable,
            str(Path(__file__).with_name("volume_driver.py")),
            str(work),
            str(v1),
            str(v2),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    reasons = {"full": "No space left on device", "readonly": "Read-only file system"}
    for case, reason in reasons.items():
        runs = result[case]
        assert runs["first"]["code"] == 0, runs["first"]["stderr"]
        assert runs["failed"]["code"] == 2, (case, runs["failed"]["stderr"])
        message = runs["failed"]["stderr"]
        assert message.startswith("error: ") and reason in message, (case, message)
        assert "Traceback" not in message
        assert runs["after"] == runs["before"], f"{case}: the live site changed"
        assert runs["leftovers"] == []
        assert runs["again"]["code"] == 0, runs["again"]["stderr"]
        assert runs["final"] != runs["before"]
    assert "the previous site at" in result["full"]["failed"]["stderr"]
    assert "cannot create the output directory's lock" in result["readonly"]["failed"]["stderr"]


def test_disk_full_at_os_write_is_an_output_error_and_keeps_the_site(
    sites: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC from ``os.write`` (the OS boundary) on the output volume: OutputError, old site intact."""
    _, v2, out = sites
    before = file_hashes(out)
    real_open, real_write = os.open, os.write
    output_fds: set[int] = set()
    budget = [200_000]

    def tracking_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        fd = real_open(path, flags, mode, **kwargs)
        if str(path).startswith(str(out.parent)):
            output_fds.add(fd)
        return fd

    def filling_write(fd: int, data: Any) -> int:
        if fd in output_fds:
            budget[0] -= len(data)
            if budget[0] < 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "write", filling_write)
    with pytest.raises(
        OutputError, match=r"cannot write: No space left on device; the previous site at .* is untouched"
    ):
        build_site(v2, out, jobs=1)
    monkeypatch.undo()
    assert file_hashes(out) == before
    assert _stagings(out) == set()

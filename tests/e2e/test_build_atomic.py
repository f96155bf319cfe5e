"""A build that fails or is killed half-way leaves the previous site exactly as it was."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pytest

from sitegen.build.pipeline import build_site
from sitegen.errors import OutputError
from sitegen.fs import staging as output
from tests.conftest import ROOT, SEED_PATH
from tests.e2e.sitebuild import build, tree
from tests.synth import SigningKey


@pytest.fixture
def live(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> tuple[Path, Path, dict[str, bytes]]:
    """A content tree, a site already built from it, and that site's bytes; then the content changes."""
    content = make_content(
        {
            "2607.01083.state.json": SEED_PATH.read_bytes(),
            "a.state.json": new_paper(signing_key, "2607.00010"),
        },
        keys=[signing_key],
    )
    out = tmp_path / "public" / "site"
    assert build(content, out).returncode == 0
    before = tree(out)
    (content / "states" / "b.state.json").write_bytes(new_paper(signing_key, "2607.00011", title="New"))
    return content, out, before


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.staging-"))


def test_writer_raising_half_way_leaves_the_previous_site(
    live: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 20th file write fails (disk full): OutputError, the old site byte for byte, no staging left."""
    content, out, before = live
    real_write = output.TreeWriter.write
    calls = 0

    def failing_write(self: output.TreeWriter, rel: PurePosixPath, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 20:
            raise OutputError(f"{rel}: cannot write: No space left on device")
        real_write(self, rel, data)

    monkeypatch.setattr(output.TreeWriter, "write", failing_write)
    with pytest.raises(OutputError, match="No space left on device"):
        build_site(content, out, jobs=1)
    assert calls == 20
    assert tree(out) == before
    assert _leftovers(out) == []


def test_swap_failing_leaves_the_previous_site(
    live: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The final swap of a whole new tree is refused: OutputError naming the target, the old site intact."""
    content, out, before = live

    def refuse(*args: object) -> bool:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(output, "_exchange", refuse)
    with pytest.raises(OutputError, match="cannot swap the new site into place: Read-only file system"):
        build_site(content, out, jobs=1)  # a rebuild reusing most papers is swapped in too
    assert tree(out) == before
    assert _leftovers(out) == []


def test_build_killed_half_way_leaves_the_previous_site(live: tuple[Path, Path, dict[str, bytes]]) -> None:
    """A build process killed (SIGKILL) mid-write: old site intact; the next build clears its staging and succeeds."""
    content, out, before = live
    script = textwrap.dedent(
        """
        import os, signal, sys
        from sitegen import cli
        from sitegen.fs import staging as output
        real, calls = output.TreeWriter.write, [0]
        def write(self, rel, data):
            calls[0] += 1
            if calls[0] == 15:
                os.kill(os.getpid(), signal.SIGKILL)
            real(self, rel, data)
        output.TreeWriter.write = write
        sys.exit(cli.main(sys.argv[1:]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "build", "--content", str(content), "--out", str(out), "--jobs", "1"],
        capture_output=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert proc.returncode == -9
    assert tree(out) == before
    assert len(_leftovers(out)) == 1
    proc2 = build(content, out)
    assert proc2.returncode == 0, proc2.stderr
    assert _leftovers(out) == []
    assert "New" in (out / "index.html").read_text(encoding="utf-8")


@contextlib.contextmanager
def _unwritable(directory: Path) -> Iterator[None]:
    """Make ``directory`` refuse new entries: mode 0555, or the immutable attribute when running as root."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if (
            chattr is None
            or subprocess.run([chattr, "+i", str(directory)], check=False, timeout=60).returncode != 0
        ):
            pytest.skip("running as root and the immutable attribute is unavailable here")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(directory)], check=True, timeout=60)
    else:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)


def test_unwritable_output_parent_exits_2_and_leaves_the_previous_site(
    live: tuple[Path, Path, dict[str, bytes]],
) -> None:
    """The output's parent directory refuses writes: exit 2 with the reason, the old site untouched."""
    content, out, before = live
    with _unwritable(out.parent):
        proc = build(content, out)
        assert proc.returncode == 2
        assert f"error: {out.parent}" in proc.stderr
        assert "Operation not permitted" in proc.stderr or "Permission denied" in proc.stderr
        assert tree(out) == before

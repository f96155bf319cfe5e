"""Publishing a rebuild: a whole-site swap by default, patching in place only when asked, and
what a killed build leaves (a real ``python -m sitegen build`` killed with SIGKILL).

Kill points are found from outside, by watching the file system (the staging directory,
the patch journal and the staged files it names); the build is paused with SIGSTOP and
let run in short steps until the point is reached. Nothing in the package helps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_cli, summary_line, tree, tree_differences
from tests.conftest import ROOT
from tests.synth import SigningKey, dump_state, make_state
from tests.waiting import wait_until

KEY = SigningKey.from_seed(b"publish-tests", "publish-key")
WAIT_SECONDS = 120.0
"""The longest any wait for a build or a kill point takes before the test fails."""


def _write_papers(content: Path, seed_state: dict[str, Any], titles: dict[int, str]) -> None:
    """Write paper ``i`` (``2607.0000i``) titled ``titles[i]`` for each ``i`` into ``content``."""
    for i, title in titles.items():
        state = make_state(
            seed_state,
            KEY,
            source_id=f"2607.{i:05d}",
            title=title,
            authors=["Ada Lovelace"],
            submitted_at="2026-07-01T00:00:00Z",
        )
        (content / "states" / f"p{i:03d}.state.json").write_bytes(dump_state(state))


@pytest.fixture
def papers(tmp_path: Path, seed_state: dict[str, Any]) -> Callable[..., Path]:
    """``papers(count, site_yaml="")``: a content directory of ``count`` signed papers titled ``First edition i``."""

    def make(count: int, site_yaml: str = "") -> Path:
        content = tmp_path / "content"
        (content / "states").mkdir(parents=True)
        KEY.write_key_file(content / "keys")
        (content / "site.yaml").write_text(f"title: Publish test\npapers_per_page: 2\n{site_yaml}", "utf-8")
        _write_papers(content, seed_state, {i: f"First edition {i}" for i in range(count)})
        return content

    return make


@pytest.fixture
def revise(seed_state: dict[str, Any]) -> Callable[[Path, range], None]:
    """``revise(content, indices)``: retitle those papers ``Second edition i``."""

    def edit(content: Path, indices: range) -> None:
        _write_papers(content, seed_state, {i: f"Second edition {i}" for i in indices})

    return edit


def _build(content: Path, out: Path, *args: str) -> str:
    """Build (exit 0 expected) and return the summary line."""
    built = run_cli("build", "--content", content, "--out", out, "--jobs", "1", *args, timeout=WAIT_SECONDS)
    assert built.returncode == 0, built.stderr
    return summary_line(built.stderr)


def _assert_clean_build_of(content: Path, out: Path, tmp_path: Path) -> None:
    """``out`` is byte for byte what a clean build of ``content`` gives (``SHA256SUMS`` included), with
    the same directories (none left empty behind)."""
    clean = tmp_path / f"clean-{time.monotonic_ns()}"
    _build(content, clean, "--no-cache")
    assert tree_differences(out, clean) == []
    assert _directories(out) == _directories(clean)


def _directories(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir())


def _beside(out: Path, *, killed: bool = False) -> list[str]:
    """What builds keep beside the site: the lock, the cache, the spare, once the trees a build
    retired are gone (``.old-`` trees, and a killed build's staging tree, which the next build
    hands to a detached process to delete). Right after a kill (``killed``), its staging tree
    is still there and is listed."""
    passing = (".old-",) if killed else (".old-", ".staging-")

    def names() -> list[str]:
        return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))

    wait_until(lambda: not any(part in name for name in names() for part in passing), 60)
    return names()


KEPT = [".site.cache", ".site.lock", ".site.spare"]


def _rendered(summary: str) -> str:
    return summary.split("; ")[-2].split(", ")[0]  # "N inputs rendered"


def test_a_rebuild_is_swapped_in_whole_by_default_and_matches_a_clean_build(
    papers: Callable[..., Path], revise: Callable[[Path, range], None], tmp_path: Path
) -> None:
    """One paper of ten changed: the live directory is replaced by another (a swap), twice in a row,
    the second staged in the tree the first retired; each site is the clean build's."""
    content, out = papers(10), tmp_path / "site"
    _build(content, out)
    for step in range(2):
        live = out.stat().st_ino
        revise(content, range(step, step + 1))
        assert _rendered(_build(content, out)) == "1 inputs rendered"
        assert out.stat().st_ino != live, "the rebuild was not swapped in"
        _assert_clean_build_of(content, out, tmp_path)
        assert _beside(out) == KEPT


def test_whatever_the_spare_holds_a_rebuild_staged_in_it_matches_a_clean_build(
    papers: Callable[..., Path], revise: Callable[[Path, range], None], tmp_path: Path
) -> None:
    """A file added to the spare, a reused paper's file replaced in it, and a directory where the new
    site needs a file: none reaches the site, and the live site never changes through the spare."""
    content, out = papers(4), tmp_path / "site"
    _build(content, out)
    revise(content, range(1))
    _build(content, out)
    spare = tmp_path / ".site.spare"
    (spare / "extra.html").write_bytes(b"not built")
    reused = next(p for p in spare.glob("pith/*/state.json") if b"First edition" in p.read_bytes())
    reused.unlink()
    reused.write_bytes(b"edited in the spare")
    (spare / "index.html").unlink()
    (spare / "index.html" / "stray").mkdir(parents=True)
    before = tree(out)
    revise(content, range(1, 2))
    _build(content, out)
    assert _beside(out) == KEPT
    _assert_clean_build_of(content, out, tmp_path)
    assert tree(spare) == before, "the spare is the site this build replaced"


def test_patch_is_chosen_in_site_yaml_or_on_the_command_line_and_the_option_wins(
    papers: Callable[..., Path], revise: Callable[[Path, range], None], tmp_path: Path
) -> None:
    """``publish: patch`` patches the live directory in place (an unchanged paper's files keep their
    inodes); ``--publish swap`` overrides it; ``--publish patch`` patches without the key."""
    content, out = papers(10, "publish: patch\n"), tmp_path / "site"
    _build(content, out)
    kept = next(out.glob("pith/*/state.json"))
    inodes = (out.stat().st_ino, kept.stat().st_ino)

    revise(content, range(9, 10))
    _build(content, out)
    assert (out.stat().st_ino, kept.stat().st_ino) == inodes, "site.yaml's publish: patch was not followed"
    _assert_clean_build_of(content, out, tmp_path)

    revise(content, range(8, 9))
    _build(content, out, "--publish", "swap")
    assert out.stat().st_ino != inodes[0], "--publish swap did not win over site.yaml"
    _assert_clean_build_of(content, out, tmp_path)

    (content / "site.yaml").write_text("title: Publish test\npapers_per_page: 2\n", "utf-8")
    _build(content, out)  # a changed site.yaml renders every paper: swapped
    live = out.stat().st_ino
    revise(content, range(7, 8))
    _build(content, out, "--publish", "patch")
    assert out.stat().st_ino == live, "--publish patch did not patch"
    _assert_clean_build_of(content, out, tmp_path)


def test_a_patch_removing_papers_leaves_none_of_their_directories(
    papers: Callable[..., Path], revise: Callable[[Path, range], None], tmp_path: Path
) -> None:
    """Papers deleted from the content, and papers revised (a new record: a new Pith number, so a
    new directory), in one patched rebuild: their old pages and alias pages are gone from the live
    site with their directories, as a clean build has it."""
    content, out = papers(12), tmp_path / "site"
    _build(content, out)
    for state in sorted((content / "states").iterdir())[-3:]:
        state.unlink()
    revise(content, range(2))
    live = out.stat().st_ino
    _build(content, out, "--publish", "patch")
    assert out.stat().st_ino == live, "not patched"
    assert not (out / "arxiv" / "2607.00011").exists()
    assert (out / "arxiv" / "2607.00008").is_dir()
    _assert_clean_build_of(content, out, tmp_path)


def test_patch_chosen_for_a_rebuild_reusing_less_than_half_swaps(
    papers: Callable[..., Path], revise: Callable[[Path, range], None], tmp_path: Path
) -> None:
    """Six papers of ten changed: even with ``--publish patch`` the new site is swapped in whole."""
    content, out = papers(10), tmp_path / "site"
    _build(content, out)
    live = out.stat().st_ino
    revise(content, range(6))
    assert _rendered(_build(content, out, "--publish", "patch")) == "6 inputs rendered"
    assert out.stat().st_ino != live
    _assert_clean_build_of(content, out, tmp_path)


def test_an_unknown_publish_value_is_refused_before_anything_is_written(
    papers: Callable[..., Path], tmp_path: Path
) -> None:
    """In site.yaml: exit 2 naming the file, the key and the allowed values; on the command line: a usage error."""
    content, out = papers(1, "publish: atomic\n"), tmp_path / "site"
    refused = run_cli("build", "--content", content, "--out", out)
    assert refused.returncode == 2
    assert (
        f"{content / 'site.yaml'}: publish: config.value: expected swap or patch, got 'atomic'"
        in refused.stderr
    )
    assert not out.exists()

    (content / "site.yaml").write_text("title: Publish test\n", "utf-8")
    usage = run_cli("build", "--content", content, "--out", out, "--publish", "atomic")
    assert usage.returncode == 2
    assert "argument --publish: invalid choice: 'atomic' (choose from 'swap', 'patch')" in usage.stderr
    assert not out.exists()


# -- killed builds ------------------------------------------------------------------------


_COMMAND = (sys.executable, "-m", "sitegen", "build")


def _start(content: Path, out: Path, *args: str) -> subprocess.Popen[str]:
    """Start a build at a low CPU priority, so that the watcher sees each point it passes."""
    return subprocess.Popen(
        [*_COMMAND, "--content", str(content), "--out", str(out), "--jobs", "1", "--quiet", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=lambda: os.nice(10),
    )


def _deadline_passed(started: float, proc: subprocess.Popen[str], what: str) -> None:
    if time.monotonic() - started > WAIT_SECONDS:
        proc.kill()
        proc.communicate(timeout=WAIT_SECONDS)
        pytest.fail(f"{what} was not reached within {WAIT_SECONDS:.0f} s")


def _ended_early(proc: subprocess.Popen[str], what: str) -> None:
    if proc.poll() is not None:
        _, err = proc.communicate(timeout=WAIT_SECONDS)
        pytest.fail(f"the build ended (exit {proc.returncode}) before {what}: {err}")


def _pause(proc: subprocess.Popen[str]) -> None:
    """SIGSTOP the build and wait until the system shows it stopped."""
    proc.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    while Path(f"/proc/{proc.pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("T", "t"):
        _deadline_passed(started, proc, "the stop")
        time.sleep(0.0001)


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=WAIT_SECONDS)
    assert proc.returncode == -signal.SIGKILL


def _moved(journal: dict[str, Any], staging: Path) -> int:
    """How many of the journal's moves are done: their staged file is no longer there."""
    return sum(not os.path.lexists(staging / rel) for rel in journal["moves"])


_FIRST_SLICE, _LAST_SLICE = 0.00002, 0.001
"""Seconds a paused build runs before it is paused again (``_kill_mid_patch``)."""


def _kill_mid_patch(proc: subprocess.Popen[str], out: Path) -> tuple[int, int]:
    """SIGKILL the build once it has moved a quarter or more, but not all, of its patch's files;
    return (moved, moves).

    Waits for the journal (written before the first move), pauses the build, then lets it
    run a slice of time at a time until the staged files show that many moved. A slice starts
    at a few microseconds and doubles (up to a millisecond) while no file moves: how soon a
    resumed process runs again is the scheduler's choice.
    """
    journal_path = out.parent / f".{out.name}.patch.json"
    started = time.monotonic()
    while not journal_path.exists():
        _ended_early(proc, "the patch journal appeared")
        _deadline_passed(started, proc, "the patch journal")
        time.sleep(0.0002)
    _pause(proc)
    journal = json.loads(journal_path.read_bytes())
    staging = out.parent / journal["staging"]
    moves = len(journal["moves"])
    moved, run_for = _moved(journal, staging), _FIRST_SLICE
    while moved < moves // 4:
        _deadline_passed(started, proc, "a quarter of the moves")
        proc.send_signal(signal.SIGCONT)
        time.sleep(run_for)
        _pause(proc)
        moved, before = _moved(journal, staging), moved
        if moved == before:
            run_for = min(2 * run_for, _LAST_SLICE)
    if moved == moves:
        proc.kill()
        proc.communicate(timeout=WAIT_SECONDS)
        pytest.fail("the build moved every file before it could be stopped in the middle")
    _kill(proc)
    return moved, moves


def test_a_patch_killed_half_way_is_finished_by_the_next_build(
    papers: Callable[..., Path], revise: Callable[[Path, range], None], tmp_path: Path
) -> None:
    """SIGKILL while the patch's files move: a mix of old and new files, each whole; the next build
    finishes the patch, leaving the clean build's site and no staging or journal."""
    content, out = papers(80), tmp_path / "site"
    _build(content, out)
    before = tree(out)
    revise(content, range(40))  # half reused: a patch
    moved, moves = _kill_mid_patch(_start(content, out, "--publish", "patch"), out)
    assert moves // 4 <= moved < moves, (moved, moves)
    assert f".{out.name}.patch.json" in _beside(out, killed=True)
    middle = tree(out)
    assert middle != before
    assert middle["SHA256SUMS"] == before["SHA256SUMS"], "SHA256SUMS moves last"

    summary = _build(content, out, "--publish", "patch")
    assert _beside(out) == KEPT  # the patch finished, the cache no longer matches: a whole build, swapped
    _assert_clean_build_of(content, out, tmp_path)
    assert "80 paper pages" in summary


def _holds(staging: Path, text: bytes) -> bool:
    """Whether a paper page staged under ``staging`` holds ``text`` (files may vanish while it looks)."""
    for page in staging.glob("pith/*/index.html"):
        try:
            if text in page.read_bytes():
                return True
        except FileNotFoundError:
            continue
    return False


def test_a_swap_build_killed_before_the_swap_leaves_the_old_site_and_the_next_build_matches_a_clean_one(
    papers: Callable[..., Path], revise: Callable[[Path, range], None], tmp_path: Path
) -> None:
    """A default (swap) rebuild, staged in the spare, killed once it has rendered a changed page:
    the live site is byte for byte the old one; the next build gives the clean build's site."""
    content, out = papers(80), tmp_path / "site"
    _build(content, out)
    revise(content, range(1))
    _build(content, out)  # a swap: now there is a spare to stage the next rebuild in
    assert _beside(out) == KEPT
    before = tree(out)
    revise(content, range(70, 72))
    proc = _start(content, out)
    started = time.monotonic()
    stagings: list[Path] = []
    while not (stagings and _holds(stagings[0], b"Second edition 70")):
        _ended_early(proc, "a changed paper's page was staged")
        _deadline_passed(started, proc, "a staged changed page")
        stagings = list(out.parent.glob(f".{out.name}.staging-*"))
        time.sleep(0.001)
    _kill(proc)
    assert stagings[0].is_dir(), "the kill came after the swap"
    assert tree(out) == before
    assert ".site.spare" not in _beside(out, killed=True), "the killed build was staging in the spare"

    _build(content, out)
    assert _beside(out) == KEPT
    _assert_clean_build_of(content, out, tmp_path)

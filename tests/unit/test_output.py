"""Writing the site: safe joins, the tree writer and its manifest, staging and the atomic swap."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen.errors import BuildError, OutputError
from sitegen.fs.staging import StagedSite, TreeWriter, refuse_unsafe_target, safe_join
from tests.waiting import wait_until


@pytest.mark.parametrize(
    "rel", ["/etc/passwd", "..", "../x", "a/../../x", "a\\b", "a\x00b", "a\nb", "a\x7f", ".", ""]
)
def test_safe_join_refuses_paths_that_could_leave_the_root(tmp_path: Path, rel: str) -> None:
    """Absolute, dot parts, backslashes and control characters raise BuildError naming the path."""
    with pytest.raises(BuildError, match="unsafe output path"):
        safe_join(tmp_path, PurePosixPath(rel))


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4))
def test_safe_join_never_yields_a_path_outside_the_root(parts: list[str]) -> None:
    """Any path safe_join accepts lies under the root."""
    root = Path("/srv/site")
    try:
        joined = safe_join(root, PurePosixPath(*parts))
    except BuildError:
        return
    assert joined.is_relative_to(root) and ".." not in joined.parts


def test_tree_writer_writes_files_and_their_manifest_lines(tmp_path: Path) -> None:
    """Each written file exists with its bytes and adds one SHA256SUMS line, in write order."""
    writer = TreeWriter(tmp_path)
    writer.write(PurePosixPath("pith/ABC/state.json"), b"{}")
    writer.write(PurePosixPath("index.html"), b"<p>")
    assert (tmp_path / "pith" / "ABC" / "state.json").read_bytes() == b"{}"
    assert writer.count == 2
    assert writer.manifest() == (
        f"{hashlib.sha256(b'{}').hexdigest()}  pith/ABC/state.json\n{hashlib.sha256(b'<p>').hexdigest()}  index.html\n"
    )
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == []


def test_tree_writer_replaces_a_file_without_touching_its_hard_links(tmp_path: Path) -> None:
    """Overwriting a path makes a new file: a hard link to the old one (the live site) keeps the old bytes."""
    writer = TreeWriter(tmp_path / "new")
    writer.write(PurePosixPath("a.txt"), b"old")
    live = tmp_path / "live.txt"
    os.link(tmp_path / "new" / "a.txt", live)
    writer.write(PurePosixPath("a.txt"), b"new")
    assert (tmp_path / "new" / "a.txt").read_bytes() == b"new"
    assert live.read_bytes() == b"old"


def test_tree_writers_sharing_a_path_leave_one_whole_file_and_no_temporary(tmp_path: Path) -> None:
    """A path another writer made (an alias two papers claim) is replaced whole, with no .tmp left."""
    first, second = TreeWriter(tmp_path), TreeWriter(tmp_path)
    first.write("arxiv/2401.00001/index.html", b"first paper")
    second.write("arxiv/2401.00001/index.html", b"second")
    assert (tmp_path / "arxiv" / "2401.00001" / "index.html").read_bytes() == b"second"
    assert [p.name for p in (tmp_path / "arxiv" / "2401.00001").iterdir()] == ["index.html"]


def test_tree_writer_refuses_unsafe_string_paths(tmp_path: Path) -> None:
    """String paths get the same refusal as PurePosixPath ones: nothing is written outside the root."""
    writer = TreeWriter(tmp_path / "site")
    for rel in ["../x", "/etc/x", "a//b", "a/./b", "a\\b", "a\x00b", ""]:
        with pytest.raises(BuildError, match="unsafe output path"):
            writer.write(rel, b"x")
    assert not (tmp_path / "x").exists() and writer.count == 0


def test_staged_site_commit_swaps_the_new_tree_in(tmp_path: Path) -> None:
    """Files written before commit() are invisible at the target; after it the target is the new tree."""
    target = tmp_path / "site"
    target.mkdir()
    (target / "old.html").write_bytes(b"old")
    with StagedSite(target) as site:
        site.write(PurePosixPath("index.html"), b"new")
        assert not (target / "index.html").exists()
        site.commit()
    assert sorted(p.name for p in target.iterdir()) == ["index.html"]
    assert oct(target.stat().st_mode & 0o777) == "0o755"
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name or ".old-" in p.name] == []


def test_staged_site_without_commit_leaves_the_target_and_no_staging(tmp_path: Path) -> None:
    """An exception inside the block: the target keeps its files and the staging directory is removed."""
    target = tmp_path / "site"
    target.mkdir()
    (target / "index.html").write_bytes(b"old")
    with pytest.raises(RuntimeError), StagedSite(target) as site:
        site.write(PurePosixPath("index.html"), b"new")
        raise RuntimeError("build failed")
    assert (target / "index.html").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def test_staged_site_removes_staging_left_by_a_killed_build(tmp_path: Path) -> None:
    """A stale staging directory from an earlier, killed build is removed by the next one."""
    stale = tmp_path / ".site.staging-killed"
    stale.mkdir()
    (stale / "half.html").write_bytes(b"half")
    with StagedSite(tmp_path / "site") as site:
        site.commit()
    assert (tmp_path / "site").is_dir()
    assert wait_until(lambda: not stale.exists(), 60), "a detached process deletes it"


def test_two_builds_of_one_target_cannot_run_at_once(tmp_path: Path) -> None:
    """While one build holds the target's lock, a second one fails at once with a clear message."""
    with StagedSite(tmp_path / "site"), pytest.raises(OutputError, match="another build is writing"):
        StagedSite(tmp_path / "site").__enter__()


def test_commit_refuses_to_replace_a_symlink_or_a_file(tmp_path: Path) -> None:
    """A target that is a symlink or a plain file is never replaced."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "site").symlink_to(elsewhere)
    with StagedSite(tmp_path / "site") as site, pytest.raises(OutputError, match="is not a directory"):
        site.commit()
    assert (tmp_path / "site").is_symlink()


def test_refuse_unsafe_target_accepts_new_empty_and_earlier_sites(tmp_path: Path) -> None:
    """A missing or empty directory, or one holding the marker an earlier build wrote, may be replaced."""
    content = tmp_path / "content"
    content.mkdir()
    refuse_unsafe_target(tmp_path / "new", content=content, marker="verification-report.json")
    (tmp_path / "empty").mkdir()
    refuse_unsafe_target(tmp_path / "empty", content=content, marker="verification-report.json")
    (tmp_path / "built").mkdir()
    (tmp_path / "built" / "verification-report.json").write_bytes(b"{}")
    refuse_unsafe_target(tmp_path / "built", content=content, marker="verification-report.json")


def test_refuse_unsafe_target_refuses_other_directories_and_the_content(tmp_path: Path) -> None:
    """Other files, the content directory, its parent, a directory inside it, a symlink or a file: refused."""
    content = tmp_path / "content"
    (content / "states").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_bytes(b"mine")
    with pytest.raises(OutputError, match="is not a site built by pith-sitegen"):
        refuse_unsafe_target(tmp_path / "home", content=content, marker="verification-report.json")
    for target in (content, tmp_path, content / "states" / "out"):
        with pytest.raises(OutputError, match="may not be, contain or sit inside"):
            refuse_unsafe_target(target, content=content, marker="verification-report.json")
    (tmp_path / "link").symlink_to(tmp_path / "home")
    (tmp_path / "file").write_bytes(b"")
    for target in (tmp_path / "link", tmp_path / "file"):
        with pytest.raises(OutputError, match="exists and is not a directory"):
            refuse_unsafe_target(target, content=content, marker="verification-report.json")

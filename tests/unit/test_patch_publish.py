"""Publishing a rebuild by patching the live site: moves, deletions, the fallback and the journal."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path, PurePosixPath

import pytest

import sitegen.fs.staging
from sitegen.errors import OutputError
from sitegen.fs.staging import StagedSite
from tests.waiting import wait_until


def _beside(live: Path) -> list[str]:
    """What the builds left beside the live site."""
    return sorted(p.name for p in live.parent.iterdir() if p.name.startswith(".site."))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _publish(target: Path, files: dict[str, bytes], *, stale: frozenset[str] | None = None) -> None:
    """Stage ``files`` (a patch of the live site when ``stale`` is given) and commit."""
    with StagedSite(target) as site:
        if stale is not None:
            site.patch_live(stale)
        for rel, data in files.items():
            site.write(PurePosixPath(rel), data)
        site.commit()


def _sums(files: dict[str, bytes]) -> bytes:
    return "".join(f"{hashlib.sha256(d).hexdigest()}  {r}\n" for r, d in sorted(files.items())).encode()


FIRST = {
    "pith/A/index.html": b"a1",
    "pith/A/state.json": b"s1",
    "doi/10.1/x/index.html": b"d",
    "index.html": b"i1",
}


@pytest.fixture
def live(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    _publish(target, {**FIRST, "SHA256SUMS": _sums(FIRST)})
    return target


def test_patch_moves_new_files_in_and_deletes_stale_ones_leaving_the_rest(live: Path) -> None:
    """Staged files replace live ones, stale files and their empty directories go, kept files keep their inode."""
    kept_inode = os.stat(live / "pith/A/state.json").st_ino
    same_inode = os.stat(live / "index.html").st_ino
    wanted = {
        "pith/A/index.html": b"a2",
        "pith/A/state.json": b"s1",
        "pith/B/index.html": b"b",
        "index.html": b"i1",
    }
    staged = {k: v for k, v in wanted.items() if k != "pith/A/state.json"}
    _publish(
        live,
        {**staged, "SHA256SUMS": _sums(wanted)},
        stale=frozenset({"doi/10.1/x/index.html", "index.html"}),
    )
    assert _files(live) == {**wanted, "SHA256SUMS": _sums(wanted)}
    assert not (live / "doi").exists(), "emptied directories are removed"
    assert os.stat(live / "pith/A/state.json").st_ino == kept_inode, "a kept file is not rewritten"
    assert os.stat(live / "index.html").st_ino == same_inode, "a file written with its live bytes is kept"
    assert _beside(live) == [".site.lock"]


def test_a_path_that_turns_from_file_to_directory_publishes_by_a_whole_swap(live: Path) -> None:
    """When a staged file needs a live file's path as its directory, the kept files are linked and swapped in."""
    wanted = {"pith/A/state.json": b"s1", "doi/10.1/x/index.html/index.html": b"nested", "index.html": b"i1"}
    staged = {"doi/10.1/x/index.html/index.html": b"nested", "index.html": b"i1"}
    stale = frozenset({"doi/10.1/x/index.html", "pith/A/index.html", "index.html"})
    _publish(live, {**staged, "SHA256SUMS": _sums(wanted)}, stale=stale)
    assert _files(live) == {**wanted, "SHA256SUMS": _sums(wanted)}


def test_a_patch_stopped_part_way_is_finished_by_the_next_build(
    live: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure mid-patch names the cause; every file is whole; the next build's start completes the patch."""
    wanted = {"pith/A/index.html": b"a2", "pith/B/index.html": b"b", "index.html": b"i2"}
    carry_out = sitegen.fs.staging._carry_out

    def stop_after_one_move(target: Path, staging: Path, patch: sitegen.fs.staging.Patch) -> None:
        carry_out(target, staging, {**patch, "moves": patch["moves"][:1], "deletes": []})
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sitegen.fs.staging, "_carry_out", stop_after_one_move)
    stale = frozenset({"doi/10.1/x/index.html", "pith/A/state.json", "index.html"})
    with pytest.raises(OutputError, match=r"stopped part-way .*Input/output error.*next build finishes"):
        _publish(live, {**wanted, "SHA256SUMS": _sums(wanted)}, stale=stale)
    assert (live / "pith/A/index.html").read_bytes() == b"a2"
    assert (live / "index.html").read_bytes() == b"i1", "not yet moved"
    monkeypatch.setattr(sitegen.fs.staging, "_carry_out", carry_out)
    with StagedSite(live):
        pass
    assert _files(live) == {**wanted, "SHA256SUMS": _sums(wanted)}
    assert wait_until(lambda: _beside(live) == [".site.lock"], 60), (
        "the stopped patch's staging tree is deleted"
    )


def test_a_journal_naming_a_path_outside_the_site_is_refused(live: Path) -> None:
    """A patch journal this build did not write cannot make the next build touch anything outside the site."""
    (live.parent / "victim").write_bytes(b"keep me")
    staging = live.parent / ".site.staging-forged"
    staging.mkdir()
    journal = live.parent / ".site.patch.json"
    journal.write_text('{"staging": ".site.staging-forged", "moves": [], "deletes": ["../victim"]}')
    with pytest.raises(
        OutputError, match=r"\.site\.patch\.json: cannot finish .*unsafe output path '\.\./victim'"
    ):
        StagedSite(live).__enter__()
    assert (live.parent / "victim").read_bytes() == b"keep me"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_served_second_name_is_a_hard_link_listed_with_the_given_digest(tmp_path: Path) -> None:
    """A whole build links the second name to the staged file: one inode, its SHA256SUMS line from the digest."""
    target = tmp_path / "site"
    with StagedSite(target) as site:
        site.write(PurePosixPath("pith/A/integrity.json"), b"findings")
        site.link("pith/A/integrity.json", "pith/2607.1/integrity.json", _sha(b"findings"))
        lines = site.writer.manifest().splitlines()
        site.commit()
    assert os.path.samefile(target / "pith/A/integrity.json", target / "pith/2607.1/integrity.json")
    assert lines == [
        f"{_sha(b'findings')}  pith/A/integrity.json",
        f"{_sha(b'findings')}  pith/2607.1/integrity.json",
    ]


def test_patching_keeps_a_live_link_of_an_unchanged_file_and_relinks_a_changed_one(live: Path) -> None:
    """An unchanged paper's second name is kept without a read; a changed paper's is linked to its new file."""
    with StagedSite(live) as site:
        site.write(PurePosixPath("pith/A/integrity.json"), b"one")
        site.link("pith/A/integrity.json", "e/a.json", _sha(b"one"))
        site.write(PurePosixPath("pith/B/integrity.json"), b"two")
        site.link("pith/B/integrity.json", "e/b.json", _sha(b"two"))
        site.commit()
    inode = os.stat(live / "e/a.json").st_ino
    with StagedSite(live) as site:
        site.patch_live(frozenset({"pith/B/integrity.json", "e/b.json"}))
        site.link("pith/A/integrity.json", "e/a.json", _sha(b"one"))
        site.write(PurePosixPath("pith/B/integrity.json"), b"three")
        site.link("pith/B/integrity.json", "e/b.json", _sha(b"three"))
        assert site.writer.count == 2  # the new file and its link; the kept link is only listed
        assert f"{_sha(b'one')}  e/a.json" in site.writer.manifest().splitlines()
        site.write(PurePosixPath("SHA256SUMS"), site.writer.manifest().encode())
        site.commit()
    assert os.stat(live / "e/a.json").st_ino == inode
    assert (live / "e/b.json").read_bytes() == b"three"
    assert os.path.samefile(live / "pith/B/integrity.json", live / "e/b.json")


def test_a_file_system_without_hard_links_gets_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    target = tmp_path / "site"
    with StagedSite(target) as site:
        site.write(PurePosixPath("a.json"), b"data")
        monkeypatch.setattr(sitegen.fs.staging.os, "link", refuse)
        site.link("a.json", "b/a.json", _sha(b"data"))
        site.commit()
    assert (target / "b/a.json").read_bytes() == b"data"
    assert not os.path.samefile(target / "a.json", target / "b/a.json")


def test_a_link_that_cannot_be_made_is_an_output_error(tmp_path: Path) -> None:
    with StagedSite(tmp_path / "site") as site, pytest.raises(OutputError, match=r"b\.json: cannot link"):
        site.link("missing.json", "b.json", _sha(b""))

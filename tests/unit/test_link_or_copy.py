"""``link_or_copy``: the one way the build reuses a file under another name."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import sitegen.fs.staging
from sitegen.fs.staging import link_or_copy


def _refuse_links(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(sitegen.fs.staging.os, "link", refuse)


def test_a_new_name_is_a_hard_link(tmp_path: Path) -> None:
    """Where links work, the target is the source's inode: nothing is read or written."""
    (tmp_path / "a").write_bytes(b"data")
    link_or_copy(str(tmp_path / "a"), str(tmp_path / "b"))
    assert os.path.samefile(tmp_path / "a", tmp_path / "b")


def test_an_existing_target_is_replaced_and_its_old_inode_is_untouched(tmp_path: Path) -> None:
    """A target sharing an inode with a live file is renamed over, so the live file keeps its bytes."""
    (tmp_path / "live").write_bytes(b"old")
    os.link(tmp_path / "live", tmp_path / "target")
    (tmp_path / "new").write_bytes(b"new")
    link_or_copy(str(tmp_path / "new"), str(tmp_path / "target"))
    assert (tmp_path / "target").read_bytes() == b"new"
    assert (tmp_path / "live").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live", "new", "target"], "no temporary left"


@pytest.mark.parametrize("code", [errno.EPERM, errno.EXDEV, errno.EMLINK, errno.EOPNOTSUPP])
def test_a_refused_link_becomes_a_copy_even_over_an_existing_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """Another device, no hard links, too many links: a copy with the same bytes, replacing the target whole."""
    (tmp_path / "live").write_bytes(b"old")
    os.link(tmp_path / "live", tmp_path / "target")
    (tmp_path / "new").write_bytes(b"new")
    _refuse_links(monkeypatch, code)
    link_or_copy(str(tmp_path / "new"), str(tmp_path / "target"))
    link_or_copy(str(tmp_path / "new"), str(tmp_path / "fresh"))
    assert (tmp_path / "target").read_bytes() == (tmp_path / "fresh").read_bytes() == b"new"
    assert not os.path.samefile(tmp_path / "new", tmp_path / "fresh")
    assert (tmp_path / "live").read_bytes() == b"old"


def test_other_errors_are_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing source, or a refusal that is not about links (permission), is not papered over by a copy."""
    with pytest.raises(FileNotFoundError):
        link_or_copy(str(tmp_path / "missing"), str(tmp_path / "b"))
    (tmp_path / "a").write_bytes(b"data")
    _refuse_links(monkeypatch, errno.EACCES)
    with pytest.raises(PermissionError):
        link_or_copy(str(tmp_path / "a"), str(tmp_path / "b"))
    assert not (tmp_path / "b").exists()

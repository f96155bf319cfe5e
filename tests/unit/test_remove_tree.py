"""``remove_tree``: how a build deletes a retired site, a spare or a staging tree.

It deletes as it lists, instead of listing a directory whole first (a full mirror's
``pith/`` holds millions of names), and it never follows a symbolic link out of the tree.
"""

from __future__ import annotations

from pathlib import Path

from sitegen.fs.staging import remove_tree


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

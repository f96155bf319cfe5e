"""``read_input``: every input is read from inside the content directory, whole, within its limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen.errors import InputError, ParseError
from sitegen.fs.sources import discover, read_input
from sitegen.pith.parse import Limits


@pytest.fixture
def root(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    (content / "states" / "sub").mkdir(parents=True)
    (content / "states" / "sub" / "a.state.json").write_bytes(b'{"a": 1}')
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.state.json").write_bytes(b'{"secret": 1}')
    discover(content)  # a build starts here: what an earlier one resolved is forgotten
    return content


def test_a_file_is_read_whole_whatever_its_size_within_the_limit(root: Path) -> None:
    for size in (0, 1, 65_535, 65_536, 300_000):
        (root / "states" / "b.state.json").write_bytes(b"x" * size)
        assert read_input(root, "states/b.state.json") == b"x" * size


def test_a_file_over_the_limit_is_refused_by_size(root: Path) -> None:
    (root / "states" / "big.state.json").write_bytes(b"x" * 1001)
    with pytest.raises(ParseError, match=r"json\.size"):
        read_input(root, "states/big.state.json", Limits(max_bytes=1000))
    assert read_input(root, "states/big.state.json", Limits(max_bytes=1001)) == b"x" * 1001


def test_a_symlink_to_a_file_inside_the_content_is_read(root: Path) -> None:
    (root / "states" / "link.state.json").symlink_to(root / "states" / "sub" / "a.state.json")
    assert read_input(root, "states/link.state.json") == b'{"a": 1}'


def test_a_symlink_to_a_file_outside_is_refused(root: Path) -> None:
    (root / "states" / "escape.state.json").symlink_to(root.parent / "outside" / "secret.state.json")
    with pytest.raises(InputError, match="outside the content directory") as caught:
        read_input(root, "states/escape.state.json")
    assert caught.value.check == "input.symlink"


def test_a_directory_swapped_for_a_symlink_after_discovery_is_refused(root: Path) -> None:
    """Discovery refuses symlinked directories; one swapped in afterwards is refused when read."""
    (root / "states" / "sub" / "a.state.json").unlink()
    (root / "states" / "sub").rmdir()
    (root / "states" / "sub").symlink_to(root.parent / "outside", target_is_directory=True)
    with pytest.raises(InputError, match="outside the content directory"):
        read_input(root, "states/sub/secret.state.json")


def test_a_fifo_is_refused_without_blocking(root: Path) -> None:
    os.mkfifo(root / "states" / "pipe.state.json")
    with pytest.raises(InputError, match="not a regular file"):
        read_input(root, "states/pipe.state.json")

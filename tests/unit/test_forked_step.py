"""A forked site-wide step writes the same files and SHA256SUMS lines as running it in place, and its errors reach the build."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitegen.errors import BuildError, OutputError
from sitegen.fs.staging import ForkedStep, TreeWriter


def _write_site(root: Path, *, parallel: bool) -> str:
    writer = TreeWriter(root)

    def listings() -> None:
        for n in range(3):
            writer.write(f"papers/{n}/index.html", f"page {n}".encode())

    writer.write("aliases.json", b"{}")
    with ForkedStep(writer, listings, parallel=parallel) as beside:
        writer.write("pith/A/integrity.json", b"a")
        beside.here()
        writer.write("404.html", b"not found")
    return writer.manifest()


def test_forked_and_in_place_steps_give_the_same_files_and_manifest(tmp_path: Path) -> None:
    """The forked step's lines sit where here() was called; every file is on disk with its bytes."""
    forked = _write_site(tmp_path / "forked", parallel=True)
    in_place = _write_site(tmp_path / "in-place", parallel=False)
    assert forked == in_place
    names = [line.split("  ", 1)[1] for line in forked.splitlines()]
    assert names == [
        "aliases.json",
        "pith/A/integrity.json",
        "papers/0/index.html",
        "papers/1/index.html",
        "papers/2/index.html",
        "404.html",
    ]
    assert (tmp_path / "forked" / "papers" / "2" / "index.html").read_bytes() == b"page 2"


def test_an_error_in_the_forked_step_is_raised_by_the_build(tmp_path: Path) -> None:
    """An output error in the forked process comes back as the same error with the same message."""
    writer = TreeWriter(tmp_path)

    def failing() -> None:
        raise OutputError(f"{tmp_path}/search/a.json: cannot write: No space left on device")

    with (
        pytest.raises(OutputError, match="No space left on device"),
        ForkedStep(writer, failing, parallel=True) as beside,
    ):
        beside.here()


def test_a_forked_step_that_dies_is_a_build_error(tmp_path: Path) -> None:
    """A forked process that exits without a word fails the build instead of leaving files unlisted."""
    writer = TreeWriter(tmp_path)
    with (
        pytest.raises(BuildError, match="died"),
        ForkedStep(writer, lambda: os._exit(3), parallel=True) as beside,
    ):
        beside.here()

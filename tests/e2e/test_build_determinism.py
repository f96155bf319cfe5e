"""Same inputs, byte-identical output: whatever the worker count, content location or output path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.conftest import SEED_PATH
from tests.e2e.sitebuild import build, first_difference, fixed_key, tree


def test_two_builds_are_byte_identical(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """One build in one process and one in a pool of two, from copies of the content in two places: same bytes."""
    key = fixed_key("determinism-2026")
    states = {
        f"batch/{n:02d}.state.json": new_paper(key, f"2607.{n:05d}", title=f"Paper {n}") for n in range(10)
    }
    states["2607.01083.state.json"] = SEED_PATH.read_bytes()
    states["zz-broken.state.json"] = b"[1, 2"
    content = make_content(
        states, keys=[key], pages={"about.md": "---\ntitle: About\nslug: about\n---\nHi.\n"}
    )
    moved = tmp_path / "elsewhere" / "content-copy"
    shutil.copytree(content, moved)
    first = build(content, tmp_path / "one" / "site", "--jobs", "1")
    second = build(moved, tmp_path / "two" / "public", "--jobs", "2")
    assert first.returncode == second.returncode == 1, first.stderr + second.stderr
    one, two = tree(tmp_path / "one" / "site"), tree(tmp_path / "two" / "public")
    assert len(one) > 150
    assert first_difference(one, two) is None
    assert not any(str(tmp_path).encode() in data for data in one.values())

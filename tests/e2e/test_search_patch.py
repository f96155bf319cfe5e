"""A rebuild patches the live search index from the files the last build made, and the site it
publishes is the one a clean build makes, byte for byte, whichever way it is published.

The index's sizes are made tiny (as in ``tests/property/test_search_update.py``) so that forty
papers have many shards and common words with chunks of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sitegen.build.pipeline import build_site
from sitegen.render import search_index
from sitegen.site.config import Publish
from tests.cli.helpers import tree, tree_differences
from tests.synth import SigningKey

WORDS = ["lattice", "gauge", "quantum", "graph", "protein", "transport", "scaling", "optimal"]


@pytest.fixture
def tiny_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "TERM_SHARD_BYTES", 300)
    monkeypatch.setattr(search_index, "MAX_SHARD_BYTES", 1200)
    monkeypatch.setattr(search_index, "OWN_FILE_POSTINGS", 5)
    monkeypatch.setattr(search_index, "COMMON_CHUNK_ENTRIES", 2)


def _title(n: int) -> str:
    return f"{WORDS[n % 8]} {WORDS[n * 3 % 8]} topic{n % 11} study{n}"


@pytest.mark.usefixtures("tiny_index")
@pytest.mark.parametrize("publish", [Publish.SWAP, Publish.PATCH])
def test_rebuilds_patch_the_search_index_and_match_a_clean_build(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
    publish: Publish,
) -> None:
    """Adding a paper, retitling one, moving one to another month and removing two are each patched
    into the index (no whole rebuild of it), write a few of its files, and leave the site
    exactly as a clean build of the same content makes it."""
    states = {
        f"p{n}.state.json": new_paper(
            signing_key, f"2607.{10000 + n}", _title(n), submitted_at=f"2026-{1 + n % 6:02d}-03T10:00:00Z"
        )
        for n in range(40)
    }
    content = make_content(states, keys=[signing_key])
    site = tmp_path / "site"
    first = build_site(content, site, jobs=1)
    assert not first.search_patched
    assert len(list((site / "search" / "terms").iterdir())) > 5
    assert list((site / "search" / "common").iterdir()), "the tiny layout makes common words"

    edits: list[Callable[[], None]] = [
        lambda: (content / "states" / "new.state.json").write_bytes(
            new_paper(
                signing_key, "2607.20000", "gauge lattice staleness", submitted_at="2026-07-09T00:00:00Z"
            )
        ),
        lambda: (content / "states" / "p3.state.json").write_bytes(
            new_paper(
                signing_key, "2607.10003", "protein folding, revised", submitted_at="2026-04-03T10:00:00Z"
            )
        ),
        lambda: (content / "states" / "p5.state.json").write_bytes(
            new_paper(signing_key, "2607.10005", _title(5), submitted_at="2025-12-03T10:00:00Z")
        ),
        lambda: [(content / "states" / f"p{n}.state.json").unlink() for n in (7, 8)],
    ]
    for step, edit in enumerate(edits):
        before = {path: data for path, data in tree(site).items() if path.startswith("search/")}
        edit()
        result = build_site(content, site, jobs=1, publish=publish)
        assert result.search_patched, step
        clean = tmp_path / f"clean-{step}"
        build_site(content, clean, jobs=1, use_cache=False)
        assert tree_differences(site, clean) == [], step
        after = {path: data for path, data in tree(site).items() if path.startswith("search/")}
        changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
        assert 0 < len(changed) < len(after) / 3, (step, sorted(changed))


@pytest.mark.usefixtures("tiny_index")
@pytest.mark.parametrize("damage", ["delete a shard", "edit meta.json"])
def test_a_live_index_file_gone_or_changed_makes_the_index_whole_again(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
    damage: str,
) -> None:
    """A file of the live index that is gone, or that the patch reads and finds not to be the bytes
    the last build noted, is not patched from: the index is made whole, as a clean build makes it."""
    states = {f"p{n}.state.json": new_paper(signing_key, f"2607.{10000 + n}", _title(n)) for n in range(30)}
    content = make_content(states, keys=[signing_key])
    site = tmp_path / "site"
    build_site(content, site, jobs=1)
    if damage == "delete a shard":
        sorted((site / "search" / "terms").iterdir())[-1].unlink()
    else:
        meta = site / "search" / "meta.json"
        meta.write_bytes(meta.read_bytes().replace(b'"schema"', b'"schema" '))
    (content / "states" / "new.state.json").write_bytes(new_paper(signing_key, "2607.20000", "gauge lattice"))
    result = build_site(content, site, jobs=1, publish=Publish.PATCH)
    assert not result.search_patched
    build_site(content, tmp_path / "clean", jobs=1, use_cache=False)
    assert tree_differences(site, tmp_path / "clean") == []

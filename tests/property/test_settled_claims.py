"""Claims kept settled from the last build, with fresh ones added, answer every question as the
same claims added one paper at a time do: collisions, which paths are claimed, and the sorted
arrays the next build keeps. Hashes are cut to a few bits so that coincidences are common."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.site import claims
from sitegen.site.claims import PathClaims, fold

_PATH = st.sampled_from(["a", "A", "b", "pith/x", "pith/X", "pith/y", "c/d", "e", "f", "g"])
_PAPER = st.lists(_PATH, min_size=1, max_size=3)


def _settled(papers: list[list[str]]) -> list[list[str]]:
    """The papers kept, each dropped that claims a path an earlier one claims (as a settled build has none)."""
    kept: list[list[str]] = []
    taken: set[str] = set()
    for paths in papers:
        folded = {fold(p) for p in paths}
        if taken.isdisjoint(folded):
            kept.append(paths)
            taken |= folded
    return kept


@pytest.fixture(autouse=True)
def _few_hash_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    real = claims._path_hash
    monkeypatch.setattr(claims, "_path_hash", lambda text: real(text) % 5 - 2)


@settings(max_examples=150, deadline=None)
@given(st.lists(_PAPER, max_size=8), st.lists(_PAPER, max_size=4), st.lists(_PATH, max_size=4))
def test_settled_claims_with_fresh_ones_answer_as_claims_made_whole(
    before: list[list[str]], fresh: list[list[str]], asked: list[str]
) -> None:
    papers = [*_settled(before), *fresh]
    whole = PathClaims()
    for number, paths in enumerate(papers):
        whole.add(number, paths)
    last = PathClaims()
    for number, paths in enumerate(papers[: len(papers) - len(fresh)]):
        last.add(number, paths)
    hashes, owners = last.sorted_arrays()
    patched = PathClaims(hashes, owners, settled=True)
    for number, paths in enumerate(fresh, start=len(papers) - len(fresh)):
        patched.add(number, paths)

    def paths_of(number: int) -> list[str]:
        return papers[number]

    assert patched.collisions(paths_of) == whole.collisions(paths_of)
    folded = [fold(p) for p in asked]
    assert patched.claimed(folded, paths_of) == whole.claimed(folded, paths_of)
    for path in folded:
        if not patched.maybe_claimed(path):
            assert not whole.claimed([path], paths_of)
    assert patched.sorted_arrays() == whole.sorted_arrays()
    sorted_hashes, sorted_owners = whole.sorted_arrays()
    assert list(zip(sorted_hashes, sorted_owners, strict=True)) == sorted(zip(*whole.arrays(), strict=True))

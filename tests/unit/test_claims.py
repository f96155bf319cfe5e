"""The collision check on path hashes: the same collisions as a map of every path, whatever the hashes."""

from __future__ import annotations

import pytest

from sitegen.site import claims
from sitegen.site.claims import Collision, PathClaims

PAPERS = [
    {"pith/AAAA", "arxiv/2401.00001"},
    {"pith/BBBB", "arxiv/2401.00001", "doi/10.1/X"},
    {"pith/CCCC", "DOI/10.1/x"},
    {"pith/DDDD", "arxiv/Case", "arxiv/case"},
    {"pith/EEEE", "doi/10.1/x"},
]


def _claims() -> PathClaims:
    found = PathClaims()
    for number, paths in enumerate(PAPERS):
        found.add(number, paths)
    return found


@pytest.fixture(params=["real hashes", "every hash equal"])
def hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test with Python's hashes and with a hash that makes every path a candidate."""
    if request.param == "every hash equal":
        monkeypatch.setattr(claims, "_path_hash", lambda text: 7)


@pytest.mark.usefixtures("hashes")
def test_collisions_are_the_shared_paths_with_every_spelling_and_claimant() -> None:
    """Papers sharing a path, or spellings of one path in different case, collide; nothing else does."""
    found = _claims().collisions(lambda n: PAPERS[n])
    assert found == [
        Collision(spellings=("DOI/10.1/x", "doi/10.1/X", "doi/10.1/x"), claimants=(2, 1, 4)),
        Collision(spellings=("arxiv/2401.00001",), claimants=(0, 1)),
    ]


@pytest.mark.usefixtures("hashes")
def test_one_paper_with_two_spellings_of_a_path_is_no_collision() -> None:
    """Paper 3 claims arxiv/Case and arxiv/case alone: that is not a collision."""
    found = _claims().collisions(lambda n: PAPERS[n])
    assert not any("arxiv/case" in c.spellings for c in found)


@pytest.mark.usefixtures("hashes")
def test_claimed_answers_exactly_for_case_folded_paths() -> None:
    """Only paths some paper claims (case-folded) are claimed, whatever ``maybe_claimed`` let through."""
    found = _claims()
    asked = {"arxiv/2401.00001", "doi/10.1/x", "pith/zzzz", "pith", ".", "arxiv/case"}
    assert found.claimed(asked, lambda n: PAPERS[n]) == {"arxiv/2401.00001", "doi/10.1/x", "arxiv/case"}
    assert all(found.maybe_claimed(p) for p in ("pith/aaaa", "arxiv/case"))

"""The site's path rules and its claim policy, for any generated papers.

Two properties the site plan rests on:
- the files the URL layout gives any set of papers (page directories with their files, alias
  redirects, integrity endpoints) never need a directory where another has a file, compared
  case-folded, so no input can make the build fail on a path conflict;
- ``claims.settle`` gives every contested path at most one producer, a verified one when any
  claimant verified, and accounts for every claimant exactly once.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sitegen.site.claims import Claimant, fold, settle
from sitegen.site.urls import PAPER_FILES, alias_path_text, integrity_endpoint_path, paper_dir_text

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
suffixes = st.text(st.sampled_from(BASE32[:3]), min_size=26, max_size=26)
parts = st.sampled_from(["2607.01083", "a", "A", "AAAAAAAA", "..", ""])
names = st.sampled_from([*PAPER_FILES, *(name.upper() for name in PAPER_FILES)])
values = st.lists(parts | names, min_size=1, max_size=3).map("/".join)
"""Alias values and source ids: few parts, so papers often name one path, a path under another,
or a path under a page's file (case-folded too)."""
kinds = st.sampled_from(["arxiv", "doi", "pith_short_8", "other"])


@st.composite
def papers(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], str, str]:
    """A paper's suffix, aliases, source id and stated integrity endpoint."""
    source_id = draw(values)
    endpoint = draw(
        st.sampled_from([f"/pith/{source_id}/integrity.json", f"/pith/{draw(values)}/integrity.json"])
    )
    return draw(suffixes), draw(st.lists(st.tuples(kinds, values), max_size=5)), source_id, endpoint


def _is_under(path: str, folded_files: set[str]) -> bool:
    """Whether a proper parent directory of ``path`` (case-folded) is one of ``folded_files``."""
    folded = fold(path).split("/")
    return any("/".join(folded[:end]) in folded_files for end in range(1, len(folded)))


@given(st.lists(papers(), min_size=1, max_size=8))
def test_no_path_of_any_papers_lies_under_another_paths_file(
    generated: list[tuple[str, list[tuple[str, str]], str, str]],
) -> None:
    """Every file the layout gives the papers, before any claim is settled: none needs a directory
    where another has a file, and none lies outside the paper roots."""
    files: set[str] = set()
    endpoints: set[str] = set()
    for suffix, aliases, source_id, endpoint in generated:
        files.update(f"{paper_dir_text(suffix)}/{name}" for name in PAPER_FILES)
        for kind, value in aliases:
            path = alias_path_text(kind, value)
            if path is not None:
                files.add(f"{path}/index.html")
        served = integrity_endpoint_path(endpoint, source_id)
        if served is not None:
            endpoints.add(served)
    folded = {fold(path) for path in files | endpoints}
    for path in files | endpoints:
        assert path.split("/", 1)[0] in {"pith", "arxiv", "doi"}
        assert not _is_under(path, folded), f"{path} lies under another path's file"


claimants = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["r1", "r2", "r3", "i1", "i2"])), min_size=1, max_size=8
).map(lambda drawn: [Claimant(n, verified, identity) for n, (verified, identity) in enumerate(drawn)])


@given(claimants)
def test_a_contested_path_has_at_most_one_producer_and_every_claimant_an_outcome(
    claims: list[Claimant],
) -> None:
    """At most one keeper or one collision page; a verified keeper whenever a verified paper claims;
    no verified paper loses; every claimant is the keeper, listed on the collision page, a loser
    or a duplicate, exactly once."""
    settlement = settle(claims)
    assert settlement.keeper is None or not settlement.collision
    verified = {c.number for c in claims if c.verified}
    if verified and settlement.keeper is not None:
        assert settlement.keeper in verified
    if verified and settlement.collision:
        assert set(settlement.collision) <= verified and len(settlement.collision) >= 2
    assert not set(settlement.losers) & verified
    outcomes = [
        *([settlement.keeper] if settlement.keeper is not None else []),
        *settlement.collision,
        *settlement.losers,
        *settlement.duplicates,
    ]
    assert sorted(outcomes) == [c.number for c in claims]
    first_of: dict[tuple[bool, str], int] = {}
    for claimant in claims:
        first_of.setdefault((claimant.verified, claimant.identity), claimant.number)
    assert all(first_of[(claims[n].verified, claims[n].identity)] != n for n in settlement.duplicates)

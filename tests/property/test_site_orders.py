"""Site orders patched from the last build's are the orders a whole pass makes, claims included.

Suffixes, instants and aliases come from tiny sets here, so that equal sort keys (one record in
two inputs, papers of one instant) and shared alias paths (collisions) are common.
"""

from __future__ import annotations

import contextlib
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.build.orders import (
    GONE,
    ServedEndpoints,
    SiteOrders,
    claims_of,
    kept_orders,
    orders_file,
    patched_orders,
    site_orders,
)
from sitegen.build.paper_job import PaperSummary
from sitegen.build.spill import SummarySpill
from sitegen.pith.report import Verdict
from tests.summaries import summary_of

_SUFFIXES = [f"{head}{'A' * 22}" for head in ("AAAA", "AAAB", "BAAA", "ZZZZ")]
_INSTANTS = ["2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z", "not a date"]
_SOURCES = ["2607.00001", "2607.00002", "2607.00003", "2607.00004", "2607.00005"]


@st.composite
def _paper(draw: st.DrawFn, name: str) -> PaperSummary:
    suffix = draw(st.sampled_from(_SUFFIXES))
    source_id = draw(st.sampled_from(_SOURCES))
    verdict = draw(st.sampled_from([Verdict.VERIFIED, Verdict.VERIFIED, Verdict.FAILED]))
    return summary_of(
        input=name,
        verdict=verdict,
        suffix=suffix,
        pith_number=f"pith:2026:{suffix}",
        title=f"Paper {name}",
        authors=("Author",),
        primary_cat="cs.LG",
        cross_cats=(),
        submitted_at=draw(st.sampled_from(_INSTANTS)),
        source_id=source_id,
        canonical_sha256="0" * 64,
        aliases=(("arxiv", source_id),),
        integrity_endpoint="",
        integrity_sha256="0" * 64,
        input_sha256="0" * 64,
    )


@contextlib.contextmanager
def _spill(papers: Sequence[PaperSummary]) -> Iterator[SummarySpill]:
    spill = SummarySpill()
    try:
        for paper in papers:
            spill.append(paper)
        yield spill
    finally:
        spill.close()


def _claims(orders: SiteOrders, spill: SummarySpill) -> tuple[Counter[tuple[int, int]], list[object]]:
    hashes, owners = orders.claims.arrays()
    return Counter(zip(hashes, owners, strict=True)), orders.claims.collisions(lambda n: claims_of(spill, n))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), before=st.integers(0, 12), added=st.integers(0, 6))
def test_patched_orders_are_the_whole_orders(data: st.DataObject, before: int, added: int) -> None:
    """Papers removed, changed (rendered afresh) and added anywhere in input order, and those kept
    renumbered: the patch gives the arrays, counts and collisions that a whole pass does."""
    old = [data.draw(_paper(f"{n:03d}.state.json")) for n in range(0, 2 * before, 2)]
    with _spill(old) as old_spill:
        old_orders = site_orders(old_spill)
        none_served = ServedEndpoints(records=array("I"), paths=[], sha256s=b"", quiet=True)
        contested = bool(old_orders.claims.collisions(lambda n: claims_of(old_spill, n)))  # as settling says
        kept_bytes = b"".join(
            orders_file(old_orders, len(old), unlisted=0, contested=contested, endpoints=none_served)
        )
    new: list[tuple[PaperSummary, int | None]] = []
    """This build's papers, each with its number in the last build when it is reused."""
    for number, paper in enumerate(old):
        fate = data.draw(st.sampled_from(["kept", "kept", "removed", "changed"]))
        if fate == "kept" and paper.verdict is Verdict.VERIFIED:  # only a verified paper is reused
            new.append((paper, number))
        elif fate != "removed":
            new.append((data.draw(_paper(paper.input)), None))
    names = {paper.input for paper, _ in new}
    for name in data.draw(st.sets(st.integers(0, 2 * before + 6), max_size=added)):
        if f"{name:03d}.state.json" not in names:
            new.append((data.draw(_paper(f"{name:03d}.state.json")), None))
    new.sort(key=lambda item: item[0].input)  # input order, as a build numbers its records
    renumber = array("I", [GONE]) * len(old)
    for number, (_, was) in enumerate(new):
        if was is not None:
            renumber[was] = number
    fresh = {number for number, (_, was) in enumerate(new) if was is None}
    kept = kept_orders(kept_bytes, renumber)
    assert kept is not None
    with _spill([paper for paper, _ in new]) as new_spill:
        patched = patched_orders(new_spill, kept, fresh)
        whole = site_orders(new_spill)
        assert patched is not None
        assert patched.newest_first == whole.newest_first
        assert patched.by_suffix == whole.by_suffix
        assert patched.counts == whole.counts
        assert patched.head_digests == whole.head_digests
        assert _claims(patched, new_spill) == _claims(whole, new_spill)
        assert (patched.listing, patched.months, patched.verdicts) == (
            whole.listing,
            whole.months,
            whole.verdicts,
        )
        assert patched.listing_plan(2) == whole.listing_plan(2)
        assert patched.changed_months is not None
        listed_before = _listed_by_month(old_orders, [paper.input for paper in old])
        listed_now = _listed_by_month(whole, [paper.input for paper, _ in new])
        for month in listed_before.keys() | listed_now.keys():
            if month not in patched.changed_months:  # its pages are kept unlooked-at: they must be the same
                assert listed_before.get(month) == listed_now.get(month)


def _aliases(orders: SiteOrders) -> Counter[tuple[int, int, bytes]]:
    places = orders.alias_places
    return Counter(
        (hashed, owner, places[2 * at : 2 * at + 2])
        for at, (hashed, owner) in enumerate(zip(orders.alias_hashes, orders.alias_owners, strict=True))
    )


def _aliases_by_bin(orders: SiteOrders, names: list[str]) -> dict[int, set[tuple[int, str, bytes]]]:
    places = orders.alias_places
    bins: dict[int, set[tuple[int, str, bytes]]] = {}
    for at, (hashed, owner) in enumerate(zip(orders.alias_hashes, orders.alias_owners, strict=True)):
        bins.setdefault(hashed >> 60, set()).add((hashed, names[owner], places[2 * at : 2 * at + 2]))
    return bins


def _listed_by_month(orders: SiteOrders, names: list[str]) -> dict[int, list[str]]:
    months: dict[int, list[str]] = {}
    for number in orders.listing:
        months.setdefault(orders.months[number], []).append(names[number])
    return months


@settings(max_examples=60, deadline=None)
@given(data=st.data(), count=st.integers(1, 6))
def test_kept_orders_refuse_a_file_damaged_anywhere(data: st.DataObject, count: int) -> None:
    """Any byte of the orders file changed, or the file cut short, and the next build keeps none of it
    (it makes the orders whole) rather than patching from arrays that are not the ones written."""
    papers = [data.draw(_paper(f"{n:03d}.state.json")) for n in range(count)]
    with _spill(papers) as spill:
        orders = site_orders(spill)
    none_served = ServedEndpoints(records=array("I"), paths=[], sha256s=b"", quiet=True)
    written = b"".join(orders_file(orders, count, unlisted=0, contested=False, endpoints=none_served))
    renumber = array("I", range(count))
    assert kept_orders(written, renumber) is not None
    at = data.draw(st.integers(0, len(written) - 1))
    damaged = bytearray(written)
    damaged[at] ^= data.draw(st.integers(1, 255))
    assert kept_orders(bytes(damaged), renumber) is None
    assert kept_orders(written[:at], renumber) is None

"""Summaries spilled to a temporary file come back whole, in any order; sort keys order as tuples do."""

from __future__ import annotations

from array import array

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen.build.paper_job import SUMMARY_FIELDS, PaperSummary, summary_json
from sitegen.build.spill import HEAD_FIELDS, SummarySpill, order_key, order_texts, record_numbers
from sitegen.pith.report import Verdict
from tests.summaries import summary_of


def _summary(n: int, authors: int = 3) -> PaperSummary:
    return summary_of(
        input=f"states/{n:04d}/p\u00e9per-{n}.state.json",
        verdict=list(Verdict)[n % len(Verdict)],
        suffix=f"SUFFIX{n:020d}",
        pith_number=f"pith:2026:SUFFIX{n:020d}",
        title=f"Title {n} \u2014 \U0001f600",
        authors=tuple(f"Author {i} of {n}" for i in range(authors)),
        primary_cat="cs.LG",
        cross_cats=("math.OC",) if n % 2 else (),
        submitted_at=f"2026-07-{1 + n % 28:02d}T00:00:00Z",
        source_id=f"2607.{n:05d}",
        canonical_sha256=f"{n:064x}",
        aliases=(("arxiv", f"2607.{n:05d}"), ("doi", f"10.48550/arxiv.2607.{n:05d}")),
        integrity_endpoint="" if n % 3 else f"/pith/2607.{n:05d}/integrity.json",
        integrity_sha256=f"{n:064x}",
        input_sha256=f"{n:064x}",
    )


def test_spilled_summaries_read_back_equal_in_input_and_any_order() -> None:
    """Iterating, indexing and views of the spill give back the very summaries appended."""
    papers = [_summary(n, authors=60_000 if n == 5 else 3) for n in range(40)]  # paper 5 is over 1 MB
    spill = SummarySpill()
    try:
        for paper in papers:
            spill.append(paper)
        assert len(spill) == 40
        assert list(spill) == papers
        assert spill[39] == papers[39]
        order = array("I", [7, 5, 0, 39])
        view = spill.view(order)
        assert list(view) == [papers[n] for n in order]
        assert view[1:3] == [papers[5], papers[0]]
        assert len(view) == 4
        spill.append(papers[0])  # appending after reading is read back too
        assert spill[40] == papers[0]
    finally:
        spill.close()


def test_fields_read_from_the_head_alone_or_the_whole_record_are_the_summaries_fields() -> None:
    """A pass over head fields, one mixing head and tail fields, and one paper's fields all give
    the values the summary has (in JSON's form), in the order asked for."""
    papers = [_summary(n) for n in range(12)]
    as_json = [
        dict(zip(SUMMARY_FIELDS, orjson.loads(orjson.dumps(summary_json(p))), strict=True)) for p in papers
    ]
    spill = SummarySpill()
    try:
        for paper in papers:
            spill.append(paper)
        head = ("alias_hashes", "input", "verdict", "integrity_endpoint")
        assert set(head) <= set(HEAD_FIELDS)
        assert list(spill.fields(*head)) == [tuple(j[name] for name in head) for j in as_json]
        mixed = ("search", "suffix", "title", "aliases", "authors")
        assert not set(mixed) <= set(HEAD_FIELDS)
        assert list(spill.fields(*mixed)) == [tuple(j[name] for name in mixed) for j in as_json]
        assert spill.fields_of(7, "title") == (as_json[7]["title"],)
        assert spill.fields_of(7, "suffix") == (as_json[7]["suffix"],)
        order = array("I", [11, 0, 4])
        assert list(spill.view(order).fields("pith_number", "cross_cats")) == [
            (as_json[n]["pith_number"], as_json[n]["cross_cats"]) for n in order
        ]
        heads = list(spill.view(order).heads_and_fields("source_id", "aliases"))
        assert [fields for _, fields in heads] == [
            (as_json[n]["source_id"], as_json[n]["aliases"]) for n in order
        ]
        assert [orjson.loads(head) for head, _ in heads] == [
            [as_json[n][f] for f in HEAD_FIELDS] for n in order
        ]
        with pytest.raises(ValueError, match="not all head fields"):
            next(spill.view(order).heads_and_fields("source_id", "title"))
    finally:
        spill.close()


_TEXT = st.text(st.characters(blacklist_categories=()))  # NUL, lone surrogates, astral: all of Unicode


@given(st.lists(st.tuples(_TEXT, _TEXT), max_size=30))
def test_order_keys_sort_as_the_tuples_do(pairs: list[tuple[str, str]]) -> None:
    """Sorting ``order_key`` bytes (record number last) is a stable sort of the tuples, NULs and all."""
    keys = [order_key(a, b) + n.to_bytes(4, "big") for n, (a, b) in enumerate(pairs)]
    keys.sort()
    assert list(record_numbers(keys)) == sorted(range(len(pairs)), key=pairs.__getitem__)


@given(st.lists(_TEXT, max_size=5))
def test_order_texts_gives_back_what_order_key_was_made_of(texts: list[str]) -> None:
    """Every text comes back whole from its ``order_key``, NULs, escape bytes and all."""
    assert order_texts(order_key(*texts)) == texts

"""The sharded search index: where each term lives, what a query must load, and determinism."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from sitegen.build.paper_job import PaperSummary
from sitegen.pith.report import Verdict
from sitegen.render.search_index import (
    COMMON_CHUNK_ENTRIES,
    MAX_SHARD_BYTES,
    entry,
    paper_term_lists,
    paper_terms,
    search_files,
    shard_of,
    term_hash,
)
from tests.conftest import ROOT
from tests.searchindex import files_for_paper
from tests.summaries import summary_of

WORDS = ["learning", "scaling", "quantum", "lattice", "gauge", "graph", "protein", "optimal", "transport"]


def summary(n: int, month: int = 7) -> PaperSummary:
    """A synthetic paper: every paper shares common words, a few rarer words and its own ids."""
    source_id = f"26{n // 100000:02d}.{n % 100000:05d}"
    suffix = (
        hashlib.sha256(str(n).encode()).hexdigest().upper().translate(str.maketrans("01890", "ABCDE"))[:26]
    )
    return summary_of(
        input=f"{n}.state.json",
        verdict=Verdict.VERIFIED,
        suffix=suffix,
        pith_number=f"pith:2026:{suffix}",
        title=f"{WORDS[n % len(WORDS)]} of {WORDS[n * 7 % len(WORDS)]} topic{n % 997}",
        authors=(f"Ada Author{n % 1500}", "Grace Hopper"),
        primary_cat="cs.LG",
        cross_cats=(),
        submitted_at=f"2026-{month:02d}-01T00:00:00Z",
        source_id=source_id,
        canonical_sha256="0" * 64,
        aliases=(("arxiv", source_id), ("doi", f"10.48550/arxiv.{source_id}")),
        integrity_endpoint="",
        integrity_sha256="0" * 64,
        input_sha256="0" * 64,
    )


def _files(summaries: list[PaperSummary]) -> dict[str, bytes]:
    return {str(path): data for path, data in search_files(sorted(summaries, key=lambda p: p.suffix))}


def index(papers: int) -> dict[str, object]:
    return {path: json.loads(data) for path, data in _files([summary(n) for n in range(papers)]).items()}


def lists(files: dict[str, object], term: str) -> list[list[str]]:
    """A term's [title entries, other entries], looked up as search.js does: the meta's shard list
    names its shard, an object there names a common term's chunks."""
    meta = files["search/meta.json"]
    assert isinstance(meta, dict)
    shards = meta["shards"]
    shard = files[f"search/terms/{shards[shard_of(term, [first for first, _ in shards])][1]}.json"]
    assert isinstance(shard, dict)
    found = shard.get(term, [[], []])
    if isinstance(found, dict):
        found = [
            [e for last in found[field] for e in files[f"search/common/{found['common']}/{kind}{last}.json"]]
            for kind, field in (("t", "title"), ("o", "other"))
        ]
    assert isinstance(found, list)
    return found


def test_every_term_of_every_paper_finds_it_by_its_stable_entry() -> None:
    """Each paper is found by each of its terms, title words and ids in the first list and author words
    in the second, under its entry (submission month and suffix prefix); lists are newest first."""
    files = index(300)
    for n in range(0, 300, 37):
        paper = summary(n)
        first, second = paper_term_lists(paper)
        assert {f"arxiv:2600.{n:05d}", f"doi:10.48550/arxiv.2600.{n:05d}", f"topic{n % 997}"} <= first
        assert {"grace", "hopper"} <= second and "of" not in first | second
        for term in first:
            assert entry(paper) in lists(files, term)[0], term
        for term in second:
            assert entry(paper) in lists(files, term)[1], term
    for term in ("learning", "grace", "topic5"):
        for found in lists(files, term):
            assert found == sorted(found, reverse=True)


def test_an_entry_names_its_record_in_the_file_of_its_suffix_prefix() -> None:
    """The record file is named by the suffix's first characters and holds the paper's title and number."""
    files = index(50)
    paper = summary(17)
    meta = files["search/meta.json"]
    assert isinstance(meta, dict)
    record_file = files[f"search/papers/{paper.suffix[: meta['record_prefix_length']]}.json"]
    assert isinstance(record_file, list)
    (record,) = [r for r in record_file if r[0].startswith(entry(paper)[6:])]
    assert record[1:3] == [paper.pith_number, paper.title]


def test_one_new_paper_rewrites_only_its_terms_shards_and_its_record_file() -> None:
    """Adding a paper to 10,000 changes the shards holding its terms (or, for a common word, the word's
    own file), its record file, and where one of its terms starts a new shard, meta.json and the
    shard it was cut from: nothing else, and nothing is renamed."""
    papers = [summary(n, month=1 + n % 6) for n in range(10_000)]
    before = _files(papers)
    new = summary(10_000, month=12)
    after = _files([*papers, new])
    changed = {p for p, data in after.items() if before.get(p) != data}
    assert not set(before) - set(after), "nothing is renamed or removed"
    expected = files_for_paper(before, after, new)
    assert changed == expected
    assert len(changed) <= len(paper_terms(new)) + 3
    assert len([p for p in after if p.startswith("search/terms/")]) > 20


def test_shards_stay_small_and_common_words_get_chunks_of_their_own() -> None:
    """At 20,000 papers no term shard passes the hard cap; a word in every paper has its lists in
    chunks of its own, each named by its last entry and at most four times the average long."""
    files = _files([summary(n) for n in range(20_000)])
    terms = {p: len(d) for p, d in files.items() if p.startswith("search/terms/")}
    assert max(terms.values()) <= MAX_SHARD_BYTES + 200, max(terms.values())
    parsed = {p: json.loads(d) for p, d in files.items()}
    found = lists(parsed, "grace")  # an author of every paper
    assert sorted(found[1], reverse=True) == found[1] and len(found[1]) == 20_000
    chunks = {p: c for p, c in parsed.items() if p.startswith(f"search/common/{term_hash('grace'):08x}/")}
    assert [e for c in chunks.values() for e in c] == found[1]
    assert 20_000 / COMMON_CHUNK_ENTRIES / 3 < len(chunks) < 20_000 / COMMON_CHUNK_ENTRIES * 3
    assert max(map(len, chunks.values())) <= 4 * COMMON_CHUNK_ENTRIES
    assert all(path.endswith(f"/o{chunk[-1]}.json") for path, chunk in chunks.items())


@given(st.sets(st.text(min_size=1, max_size=12), min_size=1, max_size=300))
def test_every_term_is_in_the_shard_the_lookup_names(texts: set[str]) -> None:
    """For any set of title words, each term is in exactly the shard shard_of names, and file names differ."""
    papers = [_titled(summary(n), text) for n, text in enumerate(sorted(texts))]
    files = {p: json.loads(d) for p, d in _files(papers).items()}
    meta = files["search/meta.json"]
    assert isinstance(meta, dict)
    names = [name for _, name in meta["shards"]]
    assert len(names) == len(set(names))
    firsts = [first for first, _ in meta["shards"]]
    assert firsts[0] == "" and firsts == sorted(firsts)
    holders: dict[str, list[int]] = {}
    for number, name in enumerate(names):
        shard = files[f"search/terms/{name}.json"]
        assert isinstance(shard, dict)
        for term in shard:
            holders.setdefault(term, []).append(number)
    for term, numbers in holders.items():
        assert numbers == [shard_of(term, firsts)], term


def _titled(paper: PaperSummary, title: str) -> PaperSummary:
    return dataclasses.replace(paper, title=title)


def test_index_bytes_do_not_depend_on_hash_randomisation() -> None:
    """Two runs with different PYTHONHASHSEED write the same files, byte for byte."""
    script = (
        "import hashlib, sys\n"
        "from tests.unit.test_search import summary\n"
        "from sitegen.render.search_index import search_files\n"
        "h = hashlib.sha256()\n"
        "for path, data in search_files(sorted((summary(n) for n in range(3000)), key=lambda p: p.suffix)):\n"
        "    h.update(str(path).encode() + b'\\0' + data)\n"
        "print(h.hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1

"""The sharded search index: where each term lives, what a query must load, and determinism."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from itertools import accumulate

from sitegen.build.paper_job import PaperSummary
from sitegen.pith.report import Verdict
from sitegen.render.search_index import (
    OWN_FILE_POSTINGS,
    PAPER_SHARD_SIZE,
    paper_terms,
    search_files,
    term_hash,
)
from tests.conftest import ROOT

WORDS = ["learning", "scaling", "quantum", "lattice", "gauge", "graph", "protein", "optimal", "transport"]


def summary(n: int) -> PaperSummary:
    """A synthetic paper: every paper shares common words, a few rarer words and its own ids."""
    source_id = f"26{n // 100000:02d}.{n % 100000:05d}"
    suffix = (
        hashlib.sha256(str(n).encode()).hexdigest().upper().translate(str.maketrans("01890", "ABCDE"))[:26]
    )
    return PaperSummary(
        input=f"{n}.state.json",
        verdict=Verdict.VERIFIED,
        suffix=suffix,
        pith_number=f"pith:2026:{suffix}",
        title=f"{WORDS[n % len(WORDS)]} of {WORDS[n * 7 % len(WORDS)]} topic{n % 997}",
        authors=(f"Ada Author{n % 1500}", "Grace Hopper"),
        primary_cat="cs.LG",
        cross_cats=(),
        submitted_at="2026-07-01T00:00:00Z",
        source_id=source_id,
        canonical_sha256="0" * 64,
        aliases=(("arxiv", source_id), ("doi", f"10.48550/arxiv.{source_id}")),
        integrity_endpoint="",
        integrity_sha256="0" * 64,
        input_sha256="0" * 64,
    )


def index(papers: int) -> dict[str, object]:
    return {str(path): json.loads(data) for path, data in search_files([summary(n) for n in range(papers)])}


def postings(files: dict[str, object], term: str) -> list[int]:
    """Look a term up as search.js does: its hash names the shard, a number names a common file."""
    meta = files["search/meta.json"]
    assert isinstance(meta, dict)
    shard = files[f"search/terms/{term_hash(term) % meta['term_shards']}.json"]
    assert isinstance(shard, dict)
    deltas = shard.get(term, [])
    if isinstance(deltas, int):
        deltas = files[f"search/common/{deltas}.json"]
    return list(accumulate(deltas))


def test_every_term_of_every_paper_finds_it() -> None:
    """Each paper is found by each of its terms: words, author names, arXiv id, DOI, Pith prefix."""
    files = index(300)
    for n in range(0, 300, 37):
        terms = paper_terms(summary(n))
        assert {"grace", "hopper", f"arxiv:2600.{n:05d}", f"doi:10.48550/arxiv.2600.{n:05d}"} <= terms
        assert "of" not in terms
        for term in terms:
            assert n in postings(files, term), term


def test_records_sit_at_their_paper_number() -> None:
    """Paper n is record n % size of record shard n // size, with its title and Pith number."""
    files = index(PAPER_SHARD_SIZE + 5)
    n = PAPER_SHARD_SIZE + 3
    shard = files[f"search/papers/{n // PAPER_SHARD_SIZE}.json"]
    assert isinstance(shard, list)
    record = shard[n % PAPER_SHARD_SIZE]
    assert record[1] == summary(n).pith_number
    assert record[2] == summary(n).title


def test_a_query_loads_only_small_files_at_scale() -> None:
    """At 20,000 papers every term shard stays under 40 KB; common words get a posting file of their own."""
    files = {str(p): d for p, d in search_files([summary(n) for n in range(20_000)])}
    terms = {p: len(d) for p, d in files.items() if p.startswith("search/terms/")}
    common = [p for p in files if p.startswith("search/common/")]
    assert len(terms) > 10
    assert max(terms.values()) < 40_000, max(terms.values())
    assert common, "the words shared by thousands of papers should each have their own file"
    meta = json.loads(files["search/meta.json"])
    shard = json.loads(files[f"search/terms/{term_hash('learning') % meta['term_shards']}.json"])
    assert isinstance(shard["learning"], int)
    assert len(json.loads(files[f"search/common/{shard['learning']}.json"])) > OWN_FILE_POSTINGS


def test_index_bytes_do_not_depend_on_hash_randomisation() -> None:
    """Two runs with different PYTHONHASHSEED write the same files, byte for byte."""
    script = (
        "import hashlib, sys\n"
        "from tests.unit.test_search import summary\n"
        "from sitegen.render.search_index import search_files\n"
        "h = hashlib.sha256()\n"
        "for path, data in search_files([summary(n) for n in range(3000)]):\n"
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

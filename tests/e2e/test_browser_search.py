"""The index page's search box, driven in headless Chromium against a site served under /mirror/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sitegen.render import search_index
from sitegen.render.search_index import shard_of, term_hash, words
from tests.e2e.sitebuild import tamper
from tests.e2e.visitor_site import (
    BROWSER_TEST,
    SEED_SUFFIX,
    Served,
    Visit,
    seed_paper,
    serve_seed_site,
    visit,
)
from tests.synth import SigningKey

pytestmark = BROWSER_TEST

SEED_TITLE = "Staleness-Learning Rate Scaling Laws for Asynchronous RLHF"
HOSTILE_TITLE = 'Scaling <img src=x onerror="alert(1)"> laws of Über-graphs'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The seed and two more papers: one with an accented author, one with markup in its title."""
    root = tmp_path_factory.mktemp("search")
    key = SigningKey.from_seed(b"\x05" * 32, "search-test-key")
    extra = {
        "2608.00001.state.json": seed_paper(
            key, "2608.00001", "Optimal transport on lattices", ["Jürgen Müller", "Ada Lovelace"]
        ),
        "2608.00002.state.json": seed_paper(
            key, "2608.00002", HOSTILE_TITLE, ["Alan Turing"], submitted_at="2026-08-02T10:00:00Z"
        ),
    }
    with serve_seed_site(root, extra=extra) as running:
        yield running


def search(seen: Visit, query: str) -> tuple[str, list[str]]:
    """Type a query, submit it, and return the status line and the result titles."""
    box = seen.page.get_by_label("Title words, author, arXiv id, DOI or Pith number")
    box.fill(query)
    box.press("Enter")
    seen.page.wait_for_function(
        "q => document.getElementById('search-status').textContent.includes(q)", arg=query.strip()
    )
    titles = seen.page.locator("#search-results li a").all_inner_texts()
    return seen.page.inner_text("#search-status"), titles


@pytest.mark.parametrize(
    "query",
    [
        "2607.01083",
        "arXiv:2607.01083v1",
        "10.48550/arxiv.2607.01083",
        "https://doi.org/10.48550/ARXIV.2607.01083",
        "pith:3BA52NFJ",
        "3BA52NFJTLFMVFHQ",
        f"pith:2026:{SEED_SUFFIX}",
        "staleness",
        "RLHF asynchronous",
        "Chengke Bao",
    ],
)
def test_search_finds_the_seed(served: Served, chromium_browser: Any, query: str) -> None:
    """The seed is found by arXiv id, DOI, full or short Pith number, title words and author."""
    seen = visit(chromium_browser, served.mirror)
    status, titles = search(seen, query)
    assert titles == [SEED_TITLE], status
    assert status.startswith("1 paper match")
    assert seen.errors == []
    assert seen.foreign_requests(served.origin) == []


def test_search_result_leads_to_the_paper_page(served: Served, chromium_browser: Any) -> None:
    """Following a result opens the paper's page under the sub-path."""
    seen = visit(chromium_browser, served.mirror)
    search(seen, "pith:3BA52NFJ")
    seen.page.get_by_role("link", name=SEED_TITLE).last.click()
    seen.page.wait_for_url(served.paper_url())
    assert seen.page.get_by_role("heading", level=1).inner_text() == SEED_TITLE


def test_search_loads_its_index_lazily_and_in_few_files(served: Served, chromium_browser: Any) -> None:
    """Nothing of the index loads before the first query, and a query loads only a few small files."""
    seen = visit(chromium_browser, served.mirror)
    seen.page.wait_for_load_state("networkidle")
    assert not [u for u in seen.requests if "/search/" in u]
    search(seen, "scaling laws")
    loaded = [u for u in seen.requests if "/search/" in u]
    assert loaded[0].endswith("/mirror/search/meta.json")
    assert len(loaded) <= 4, loaded


def test_search_matches_words_without_accents_and_needs_every_word(
    served: Served, chromium_browser: Any
) -> None:
    """Author words match without accents (Python and JS tokenize alike); several words must all match."""
    seen = visit(chromium_browser, served.mirror)
    assert search(seen, "muller")[1] == ["Optimal transport on lattices"]
    assert search(seen, "Über graphs")[1] == [HOSTILE_TITLE]
    status, titles = search(seen, "scaling laws")
    assert sorted(titles) == sorted([SEED_TITLE, HOSTILE_TITLE])
    assert status.startswith("2 papers match")
    status, titles = search(seen, "optimal rlhf")
    assert titles == []
    assert status.startswith("No paper matches")


def test_search_results_show_titles_as_text(served: Served, chromium_browser: Any) -> None:
    """A title holding markup is shown as text: no element is created from it."""
    seen = visit(chromium_browser, served.mirror)
    search(seen, "2608.00002")
    assert seen.page.locator("#search-results img").count() == 0
    assert seen.page.locator("#search-results li a").inner_text() == HOSTILE_TITLE
    assert seen.errors == []


def test_search_box_is_hidden_without_javascript(served: Served, chromium_browser: Any) -> None:
    """With JavaScript off the index still lists the papers and shows no dead search box."""
    context = chromium_browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served.mirror)
    assert not page.get_by_role("searchbox").is_visible()
    assert page.get_by_role("link", name=SEED_TITLE).is_visible()
    context.close()


TRICKY = [
    "Jürgen Müller",
    "Ångström-scale naïve café",
    "Δ-learning über ΣΦ-models",
    "हिन्दी शब्द",
    "x² and ½ of ①②",
    "ﬁnite Straße İstanbul",
    "日本語の論文, 2607.01083v2",
    "snake_case and under_score",
]


def test_browser_and_build_split_words_and_hash_terms_alike(served: Served, chromium_browser: Any) -> None:
    """search.js and sitegen.render.search_index agree on the words of tricky titles and on each term's hash."""
    seen = visit(chromium_browser, served.mirror)
    got = seen.page.evaluate(
        """async (texts) => {
            const search = await import(new URL('assets/search.js', document.baseURI));
            const meta = await (await fetch(new URL('search/meta.json', document.baseURI))).json();
            return texts.map((t) => search.words(t, meta).map((w) => [w, search.termHash(w)]));
        }""",
        TRICKY,
    )
    assert got == [[[w, term_hash(w)] for w in words(text)] for text in TRICKY]


def _edit_license(state: dict[str, Any]) -> None:
    state["current"]["canonical_record"]["metadata"]["license"] = "edited after signing"


@pytest.fixture(scope="module")
def ranked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The seed beside papers made to rank against each other: a title word exactly and by prefix, a
    word in a title and in an author list, the seed's short Pith number as a title word, a
    neighbouring arXiv id, and a failed paper."""
    root = tmp_path_factory.mktemp("ranked")
    key = SigningKey.from_seed(b"\x06" * 32, "ranked-test-key")
    extra = {
        "exact.state.json": seed_paper(key, "2608.00011", "Gauge lattice methods", ["Ada Lovelace"]),
        "prefix.state.json": seed_paper(
            key,
            "2608.00012",
            "Lattices of gauge fields",
            ["Ada Lovelace"],
            submitted_at="2026-09-01T10:00:00Z",
        ),
        "titled.state.json": seed_paper(key, "2608.00013", "Turing patterns in gels", ["Grace Hopper"]),
        "authored.state.json": seed_paper(
            key,
            "2608.00014",
            "Computable numbers revisited",
            ["Alan Turing"],
            submitted_at="2026-10-01T10:00:00Z",
        ),
        "notes.state.json": seed_paper(key, "2608.00015", "Notes on 3BA52NFJ", ["Grace Hopper"]),
        "neighbour.state.json": seed_paper(key, "2607.01099", "A neighbouring paper", ["Grace Hopper"]),
        "failed.state.json": tamper(
            seed_paper(key, "2608.00016", "Tampered gauge lattice", ["Grace Hopper"]), _edit_license
        ),
    }
    with serve_seed_site(root, extra=extra, keys=(key,)) as running:
        yield running


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The ranked papers built with every word in more than two papers stored as a common term, its
    lists cut into chunks of about two entries: the path a registry-sized corpus takes."""
    root = tmp_path_factory.mktemp("chunked")
    key = SigningKey.from_seed(b"\x07" * 32, "chunked-test-key")
    extra = {
        f"grace{n}.state.json": seed_paper(key, f"2608.{n:05d}", f"Gauge lattice study {n}", ["Grace Hopper"])
        for n in range(1, 13)
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_index, "OWN_FILE_POSTINGS", 2)
        patch.setattr(search_index, "COMMON_CHUNK_ENTRIES", 2)
        with serve_seed_site(root, extra=extra, keys=(key,)) as running:
            patch.undo()
            yield running


def test_common_words_are_read_from_their_chunks(chunked: Served, chromium_browser: Any) -> None:
    """A word in many papers is found in every paper through its chunk files, and a prefix of it too."""
    common = list((chunked.site / "search" / "common").rglob("*.json"))
    assert len(common) > 6  # several words, each in more than one chunk
    seen = visit(chromium_browser, chunked.mirror)
    status, titles = search(seen, "grace lattice")
    assert sorted(titles) == sorted(f"Gauge lattice study {n}" for n in range(1, 13)), status
    assert search(seen, "hopp")[0].startswith("12 papers match")
    assert seen.errors == [] and seen.foreign_requests(chunked.origin) == []


def _verdicts(seen: Visit) -> list[str]:
    return seen.page.locator("#search-results li .verdict").all_inner_texts()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stale", [SEED_TITLE]),  # a word's beginning: "staleness"
        ("3BA5", [SEED_TITLE, "Notes on 3BA52NFJ"]),  # the Pith number first, then a title word it begins
        ("2607.010", ["A neighbouring paper", SEED_TITLE]),  # arXiv ids 2607.010xx, newest first
        ("comput numb", ["Computable numbers revisited"]),  # every word by its beginning
    ],
)
def test_search_finds_papers_by_the_beginning_of_a_word_or_an_id(
    ranked: Served, chromium_browser: Any, query: str, expected: list[str]
) -> None:
    """Prefix queries: a word of three or more letters, four characters of a Pith number, part of an arXiv id."""
    seen = visit(chromium_browser, ranked.mirror)
    status, titles = search(seen, query)
    assert titles == expected, status
    assert seen.errors == [] and seen.foreign_requests(ranked.origin) == []


def test_results_rank_exact_ids_then_exact_title_words_then_prefixes_then_authors(
    ranked: Served, chromium_browser: Any
) -> None:
    """The exact identifier comes first, then papers with every word in the title exactly, then by a
    word's beginning, then papers that have a word only among their authors; each shows its verdict."""
    seen = visit(chromium_browser, ranked.mirror)
    assert search(seen, "3BA52NFJ")[1] == [SEED_TITLE, "Notes on 3BA52NFJ"]
    assert search(seen, "turing")[1] == ["Turing patterns in gels", "Computable numbers revisited"]
    status, titles = search(seen, "lattice")
    assert titles[:2] == ["Tampered gauge lattice", "Gauge lattice methods"] or titles[:2] == [
        "Gauge lattice methods",
        "Tampered gauge lattice",
    ]
    assert titles[2:] == ["Lattices of gauge fields"], status  # a prefix match after the exact ones
    verdicts = dict(zip(titles, _verdicts(seen), strict=True))
    assert verdicts["Tampered gauge lattice"] == "Failed" and verdicts["Gauge lattice methods"] == "Verified"
    assert status.startswith("3 papers match")


def test_browser_and_build_find_a_terms_shard_alike(ranked: Served, chromium_browser: Any) -> None:
    """search.js's shard lookup and code-point order agree with sitegen's for every term of the index,
    and for terms beyond the Basic Multilingual Plane."""
    meta = json.loads((ranked.site / "search" / "meta.json").read_text(encoding="utf-8"))
    firsts = [first for first, _ in meta["shards"]]
    terms = sorted({*firsts, "a", "zzz", "\U0001d49c", "\uffff", "\U0001f600x", "pith:3ba5"})
    got = seen_lookup(visit(chromium_browser, ranked.mirror), terms)
    assert got == [shard_of(term, firsts) for term in terms]
    order = visit(chromium_browser, ranked.mirror).page.evaluate(
        """async (terms) => {
            const search = await import(new URL('assets/search.js', document.baseURI));
            return [...terms].sort(search.compareTerms);
        }""",
        list(reversed(terms)),
    )
    assert order == terms


def seen_lookup(seen: Visit, terms: list[str]) -> list[int]:
    return list(
        seen.page.evaluate(
            """async (terms) => {
                const search = await import(new URL('assets/search.js', document.baseURI));
                const meta = await (await fetch(new URL('search/meta.json', document.baseURI))).json();
                return terms.map((t) => search.shardOf(t, meta.shards));
            }""",
            terms,
        )
    )

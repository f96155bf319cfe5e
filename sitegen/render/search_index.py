"""The static, sharded search index the index page's search box loads (layer 4, pure).

A query must stay fast with 100,000 papers on a plain static host, so nothing is
loaded until the visitor searches, and a query then loads only a few small files:

``search/meta.json``
    the layout: paper count, shard sizes, the stop words and the term-shard count.
``search/terms/<n>.json``
    ``{term: posting list}``; a term lives in shard ``fnv1a(term) % term_shards``.
    Posting lists are paper numbers (positions in index order, newest first),
    ascending and delta-encoded (first number, then gaps).
    A term found in more than ``OWN_FILE_POSTINGS`` papers is stored as a number
    ``k`` instead, naming ``search/common/<k>.json`` that holds its posting list.
``search/papers/<n>.json``
    the records shown as results, ``paper_shard_size`` papers per shard in index
    order, so paper ``i`` is record ``i % size`` of shard ``i // size``.

Terms are whole lower-case words of title and authors (letters and digits, at least
two characters, stop words dropped; the first ``MAX_WORD_TERMS`` distinct ones, title
first, each of at most ``MAX_TERM_CHARS`` characters) and prefixed identifiers: ``arxiv:<id>`` (the
id without its version, which a query drops too), ``doi:<doi>``, and
``pith:<first 8 of the suffix>`` (a longer Pith prefix is found through its first
8 characters, then filtered on the record's suffix). ``templates/assets/search.js`` implements the same
tokenizer and hash; the end-to-end tests hold the two together.

Work and output are linear in the number of papers, and the files are the same
bytes for the same papers. The postings held in memory grow with the number of papers
and not with their text: a paper adds at most ``MAX_WORD_TERMS`` words and three
identifiers, none longer than ``MAX_TERM_CHARS``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from array import array
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Protocol, Union

from sitegen.pith.report import Verdict
from sitegen.render.templates import compact_json

__all__ = [
    "MAX_TERM_CHARS",
    "MAX_WORD_TERMS",
    "PAPER_SHARD_SIZE",
    "RECORD_FIELDS",
    "SEARCH_SCHEMA",
    "STOP_WORDS",
    "TERM_SHARD_BYTES",
    "Searchable",
    "paper_terms",
    "search_files",
    "term_hash",
    "words",
]

SEARCH_SCHEMA = "pith-sitegen-search/1"
PAPER_SHARD_SIZE = 100
"""Result records (titles and authors) per file of ``papers/``."""
TERM_SHARD_BYTES = 24_000
"""Target size of a term shard; the shard count grows with the corpus so shards stay small."""
OWN_FILE_POSTINGS = 1000
"""A term in more papers than this gets a file of its own, so no shard is weighed down by it."""
MAX_AUTHORS_SHOWN = 8
"""Authors kept in a result record (more are searchable, up to ``MAX_WORD_TERMS`` words in all)."""
MAX_WORD_TERMS = 64
"""Distinct words of one paper that are indexed: its title's, then its authors', in order.

Real titles have 5 to 30 words, so every title word is found, and the first authors (at least
the first 17 after a 30-word title); the authors of a large collaboration beyond those are not.
Without a cap, one state's author list of 200,000 characters adds 17,000 terms to the
postings the build holds in memory; with it, a paper adds at most 64 words and 3 identifiers.
"""
MAX_TERM_CHARS = 64
"""A longer word or identifier is not indexed, so a term's bytes are bounded too (no real word
is that long; arXiv ids and their DOIs have under 40 characters). A query for one finds nothing."""
STOP_WORDS = (
    "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "of", "on",
    "or", "the", "to", "via", "with",
)  # fmt: skip
_STOP = frozenset(STOP_WORDS)
_WORD = re.compile(r"[^\W_]+")
_ARXIV_VERSION = re.compile(r"v[0-9]+$")
_MIN_WORD = 2


class Searchable(Protocol):
    """What the index needs of a paper; ``paper.PaperSummary`` has it (kept apart to stay in layer 4)."""

    @property
    def suffix(self) -> str: ...
    @property
    def pith_number(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def authors(self) -> tuple[str, ...]: ...
    @property
    def source_id(self) -> str: ...
    @property
    def aliases(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def verdict(self) -> Verdict: ...
    @property
    def submitted_at(self) -> str: ...


def words(text: str) -> list[str]:
    """Searchable words of a text: lower case, marks (accents) removed, letters and digits only.

    The same steps as ``words`` in ``search.js``: NFKD, drop every mark, lower-case,
    runs of letters and digits.

    >>> words("Staleness-Learning Rate Scaling Laws for Asynchronous RLHF")
    ['staleness', 'learning', 'rate', 'scaling', 'laws', 'asynchronous', 'rlhf']
    >>> words("Jürgen Müller, J. Doe")
    ['jurgen', 'muller', 'doe']
    """
    if text.isascii():
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(c for c in decomposed if unicodedata.category(c)[0] != "M").lower()
    return [w for w in _WORD.findall(plain) if len(w) >= _MIN_WORD and w not in _STOP]


def _first_words(texts: Sequence[str]) -> set[str]:
    """The first ``MAX_WORD_TERMS`` distinct ``words`` of ``texts`` (in order) of at most ``MAX_TERM_CHARS``."""
    found: set[str] = set()
    for text in texts:
        for word in words(text):
            if len(word) <= MAX_TERM_CHARS:
                found.add(word)
                if len(found) == MAX_WORD_TERMS:
                    return found
    return found


def term_hash(term: str) -> int:
    """32-bit FNV-1a of the term's UTF-8: picks the term's shard (``search.js`` has the twin).

    >>> hex(term_hash("foobar"))  # the published FNV-1a test vector
    '0xbf9cf968'
    """
    value = 0x811C9DC5
    for byte in term.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _doi(summary: Searchable) -> str:
    return next((v for k, v in summary.aliases if k == "doi"), "")


def paper_terms(summary: Searchable) -> set[str]:
    """Every term a paper is found by: the first ``MAX_WORD_TERMS`` title and author words, and its
    identifiers (those of at most ``MAX_TERM_CHARS`` characters)."""
    terms = _first_words((summary.title, "\n".join(summary.authors)))  # no word spans a line break
    identifiers = {"pith:" + summary.suffix[:8].lower()}
    for kind, value in summary.aliases:
        if kind in ("arxiv", "arxiv_version"):
            identifiers.add("arxiv:" + _ARXIV_VERSION.sub("", value.lower()))
        elif kind == "doi":
            identifiers.add("doi:" + value.lower())
    terms.update(term for term in identifiers if len(term) <= MAX_TERM_CHARS)
    return terms


RECORD_FIELDS = (
    "suffix",
    "pith_number",
    "title",
    "authors",
    "more_authors",
    "source_id",
    "doi",
    "verdict",
    "submitted",
)
"""What each place of a result record in ``search/papers/<n>.json`` holds (``_record``), for readers
of the index such as ``sitegen check``."""


def _record(summary: Searchable) -> list[object]:
    authors = list(summary.authors[:MAX_AUTHORS_SHOWN])
    return [
        summary.suffix,
        summary.pith_number,
        summary.title,
        authors,
        len(summary.authors) - len(authors),
        summary.source_id,
        _doi(summary),
        summary.verdict.value,
        summary.submitted_at[:10],
    ]


Postings = Union[int, "array[int]"]
"""A term's paper numbers, ascending: most terms (identifiers, rare names) are in one paper,
held as that number; an ``array`` of 4-byte numbers once there are more, not a list of ints."""


def _count(numbers: Postings) -> int:
    return 1 if isinstance(numbers, int) else len(numbers)


def _deltas(ascending: Postings) -> list[int]:
    if isinstance(ascending, int):
        return [ascending]
    return [ascending[0]] + [b - a for a, b in itertools.pairwise(ascending)]


def _estimated_bytes(postings: dict[str, Postings]) -> int:
    """About how many bytes the term shards take: quoted keys, and a few digits per posting kept inline."""
    size = 0
    for term, numbers in postings.items():
        size += len(term) + 6
        if _count(numbers) <= OWN_FILE_POSTINGS:
            size += 4 * _count(numbers)
    return size


def _file(*parts: str) -> PurePosixPath:
    return PurePosixPath("search", *parts)


def search_files(ordered: Sequence[Searchable]) -> Iterator[tuple[PurePosixPath, bytes]]:
    """Yield the search index files for papers in index order (see the module docstring).

    ``ordered`` is read twice, in order, and a result file's worth at a time; what stays
    in memory is the postings, a few bytes per term and paper.
    """
    postings: dict[str, Postings] = {}
    find = postings.get
    for number, summary in enumerate(ordered):
        for term in paper_terms(summary):  # inline: a call per term and paper cost a fifth of the step
            found = find(term)
            if found is None:
                postings[term] = number
            elif isinstance(found, int):
                postings[term] = array("I", (found, number))
            else:
                found.append(number)
    term_shards = max(1, -(-_estimated_bytes(postings) // TERM_SHARD_BYTES))
    paper_shards = max(1, -(-len(ordered) // PAPER_SHARD_SIZE))
    yield (
        _file("meta.json"),
        compact_json(
            {
                "schema": SEARCH_SCHEMA,
                "papers": len(ordered),
                "paper_shard_size": PAPER_SHARD_SIZE,
                "paper_shards": paper_shards,
                "term_shards": term_shards,
                "min_word_length": _MIN_WORD,
                "stop_words": list(STOP_WORDS),
                "id_prefix_length": 8,
            }
        )
        + b"\n",
    )
    for shard in range(paper_shards):
        chunk = ordered[shard * PAPER_SHARD_SIZE : (shard + 1) * PAPER_SHARD_SIZE]
        records = [_record(s) for s in chunk]  # strings, lists of strings and ints: plain JSON
        yield _file("papers", f"{shard}.json"), compact_json(records, plain=True) + b"\n"
    common = sorted(term for term, numbers in postings.items() if _count(numbers) > OWN_FILE_POSTINGS)
    common_file = {term: number for number, term in enumerate(common)}
    shard_terms: list[list[str]] = [[] for _ in range(term_shards)]
    for term in postings:
        shard_terms[term_hash(term) % term_shards].append(term)
    for shard, terms in enumerate(shard_terms):
        bucket = {t: common_file[t] if t in common_file else _deltas(postings[t]) for t in terms}
        yield _file("terms", f"{shard}.json"), compact_json(bucket, plain=True) + b"\n"
    for number, term in enumerate(common):
        yield _file("common", f"{number}.json"), compact_json(_deltas(postings[term]), plain=True) + b"\n"

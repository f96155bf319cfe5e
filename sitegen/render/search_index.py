"""The static, sharded search index the index page's search box loads (layer 3, pure).

A query must stay fast with millions of papers on a plain static host, and a daily update
must rewrite only what its papers change, so nothing names a paper by its position:

``search/meta.json``
    the layout: the tokenizer's settings, the record files' prefix length and the list of
    term shards as ``[first term, file name]`` in term order. It holds no count, so a new
    paper changes it only when one of its terms starts a new shard.
``search/terms/<name>.json``
    ``{term: [title entries, other entries]}`` for a run of terms in code-point order. An
    *entry* is a paper's stable id: the ``YYYYMM`` of its submission (``000000`` when the
    date is not one) and the first ``ID_LENGTH`` characters of its Pith suffix, so posting
    lists sorted descending are newest first and merge by plain string comparison. Title
    words go in the first list, author words in the second (a word in both, in the first),
    identifiers in the first. A term whose lists hold more than ``OWN_FILE_POSTINGS``
    entries is stored as ``{"common": name, "title": [...], "other": [...]}``: its lists
    are cut into chunks, each ``search/common/<name>/<t|o><last entry>.json`` (a list of
    entries, newest first), named in the two lists by their last entry.
``search/papers/<P>.json``
    the result records (``RECORD_FIELDS``) of the papers whose suffix starts with ``P``,
    ``P`` as long as the manifest bins' prefix (``manifest_bins.prefix_length``), sorted by
    suffix. An entry names the records whose suffix starts with its id.

Term shards are cut where content decides, not where counts do: a term starts a new shard
when ``term_hash(term) % M == 0``, ``M`` the largest power of two that keeps shards near
``TERM_SHARD_BYTES`` on average (and a shard over ``MAX_SHARD_BYTES`` is cut there). Adding
a paper adds entries only to its own terms' shards; a new term moves no boundary but its
own; and because every boundary at ``2M`` is one at ``M``, a corpus grown past a step only
splits shards. Shard and common directory names are the FNV-1a of their first term (of their
term), with ``-2``, ``-3`` ... in term order when two collide.

A common term's lists are cut the same way: a chunk starts at an entry whose hash is a
multiple of ``COMMON_CHUNK_ENTRIES`` (or after ``4 *`` that many). A new paper is the newest
entry, so it joins the first chunk, whose last entry (its name) stays: a daily update rewrites
one chunk of each common word it has, and no shard.

Terms are whole lower-case words of title and authors (letters and digits, at least two
characters, stop words dropped; the first ``MAX_WORD_TERMS`` distinct ones, title first,
each of at most ``MAX_TERM_CHARS`` characters) and prefixed identifiers: ``arxiv:<id>``
(the id without its version, which a query drops too), ``doi:<doi>``, and ``pith:<first 8
of the suffix>``. ``templates/assets/search.js`` implements the same tokenizer, hash and
shard lookup, and matches a word of three or more characters as a prefix of terms; the
end-to-end tests hold the two together.

What stays in memory is the postings (a few bytes per term and paper) and one record
file; a paper adds at most ``MAX_WORD_TERMS`` words and three identifiers.

Because every cut is decided by content, a rebuild need not make the index whole:
``search_update.update_index`` patches the files a change reaches from the previous ones and
the ``IndexState`` that ``search_files`` returns (the counts that decide ``M``, which no file
holds), giving the same bytes.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Protocol, Union

from sitegen.pith.report import Verdict
from sitegen.render.templates import compact_json
from sitegen.site.manifest_bins import prefix_length

__all__ = [
    "COMMON_CHUNK_ENTRIES",
    "ID_LENGTH",
    "MAX_SHARD_BYTES",
    "MAX_TERM_CHARS",
    "MAX_WORD_TERMS",
    "OWN_FILE_POSTINGS",
    "PITH_TERM_CHARS",
    "RECORD_FIELDS",
    "SEARCH_SCHEMA",
    "STOP_WORDS",
    "TERM_SHARD_BYTES",
    "SearchKeys",
    "Searchable",
    "entry",
    "paper_terms",
    "search_files",
    "search_keys",
    "shard_of",
    "term_hash",
    "words",
]

SEARCH_SCHEMA = "pith-sitegen-search/2"
ID_LENGTH = 10
PITH_TERM_CHARS = 8
"""Suffix characters in a paper's ``pith:`` term: a short Pith number's length."""
"""Suffix characters in an entry: 50 bits, so real papers do not share one; papers that do (a
copy of a paper, or a made-up suffix) are each shown, with their own verdict."""
TERM_SHARD_BYTES = 24_000
"""The average size of a term shard that ``M`` aims at."""
MAX_SHARD_BYTES = 4 * TERM_SHARD_BYTES
"""A shard is cut before a term that would take it over this, whatever the hashes say."""
OWN_FILE_POSTINGS = 1000
"""A term in more papers than this gets files of its own, so no shard is weighed down by it."""
COMMON_CHUNK_ENTRIES = 1024
"""The average number of entries in a chunk of a common term's list: about 19 KB."""
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


@dataclass(frozen=True, slots=True)
class SearchKeys:
    """What the index takes of one paper, derived once by ``search_keys``: in the paper's own job
    (in a worker, and kept with its summary in the incremental cache), so the site-wide step
    neither tokenizes nor hashes a paper it has seen before."""

    title_terms: tuple[str, ...]
    """Its title words and identifiers, sorted: the terms whose first list holds its entry."""
    other_terms: tuple[str, ...]
    """Its other (author) words, sorted: the terms whose second list holds its entry."""
    term_hashes: tuple[int, ...]
    """``term_hash`` of each of ``title_terms``, then of each of ``other_terms``."""
    entry: str
    """Its ``entry``."""
    entry_hash: int
    """``term_hash`` of its entry: where a common term's chunks are cut."""


class Searchable(Protocol):
    """What the index needs of a paper; ``build.paper_job.PaperSummary`` has it (named here so this
    layer imports nothing from the build's)."""

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
    @property
    def search(self) -> SearchKeys: ...


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
    """Every term a paper is found by (``paper_term_lists``, both lists)."""
    first, second = paper_term_lists(summary)
    return first | second


def paper_term_lists(summary: Searchable) -> tuple[set[str], set[str]]:
    """A paper's terms by the list its entry goes in: (its title words and identifiers, its other
    words). Of the first ``MAX_WORD_TERMS`` title and author words, those of the title go first;
    identifiers of more than ``MAX_TERM_CHARS`` characters are not indexed."""
    return _term_lists(summary.title, summary.authors, summary.suffix, summary.aliases)


def _term_lists(
    title: str, authors: Sequence[str], suffix: str, aliases: Iterable[tuple[str, str]]
) -> tuple[set[str], set[str]]:
    found = _first_words((title, "\n".join(authors)))  # no word spans a line break
    title_terms = found.intersection(words(title))
    identifiers = {"pith:" + suffix[:PITH_TERM_CHARS].lower()}
    for kind, value in aliases:
        if kind in ("arxiv", "arxiv_version"):
            identifiers.add("arxiv:" + _ARXIV_VERSION.sub("", value.lower()))
        elif kind == "doi":
            identifiers.add("doi:" + value.lower())
    title_terms.update(term for term in identifiers if len(term) <= MAX_TERM_CHARS)
    return title_terms, found - title_terms


def search_keys(
    *, title: str, authors: Sequence[str], suffix: str, submitted_at: str, aliases: Iterable[tuple[str, str]]
) -> SearchKeys:
    """The ``SearchKeys`` of a paper with these fields (``paper_term_lists`` and ``entry``, hashed)."""
    first, second = _term_lists(title, authors, suffix, aliases)
    title_terms, other_terms = tuple(sorted(first)), tuple(sorted(second))
    paper_entry = _entry(suffix, submitted_at)
    return SearchKeys(
        title_terms=title_terms,
        other_terms=other_terms,
        term_hashes=tuple(term_hash(t) for t in (*title_terms, *other_terms)),
        entry=paper_entry,
        entry_hash=term_hash(paper_entry),
    )


def entry(summary: Searchable) -> str:
    """The paper's stable id in posting lists: its submission's ``YYYYMM`` and suffix prefix.

    >>> from types import SimpleNamespace as Paper
    >>> entry(Paper(suffix="3BA52NFJTLFMVFHQMNWVXCSHM7", submitted_at="2026-07-01T15:40:12Z"))
    '2026073BA52NFJTL'
    >>> entry(Paper(suffix="3BA52NFJTLFMVFHQMNWVXCSHM7", submitted_at="July 2026"))
    '0000003BA52NFJTL'
    """
    return _entry(summary.suffix, summary.submitted_at)


def _entry(suffix: str, submitted_at: str) -> str:
    month = submitted_at[:4] + submitted_at[5:7]
    dated = _MONTH.fullmatch(submitted_at[:7]) is not None
    return (month if dated else "000000") + suffix[:ID_LENGTH]


_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


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
"""What each place of a result record in ``search/papers/<P>.json`` holds (``_record``), for readers
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


SearchFile = tuple[PurePosixPath, bytes]
"""One file of the index: its path under the site and its bytes."""


Postings = Union[int, "array[int]"]
"""A term's papers (numbers in suffix order): most terms (identifiers, rare names) are in one
paper, held as that number; an ``array`` of 4-byte numbers once there are more."""


def _add(postings: dict[str, Postings], term: str, number: int) -> None:
    found = postings.get(term)
    if found is None:
        postings[term] = number
    elif isinstance(found, int):
        postings[term] = array("I", (found, number))
    else:
        found.append(number)


def _count(numbers: Postings | None) -> int:
    return 0 if numbers is None else 1 if isinstance(numbers, int) else len(numbers)


_ENTRY_BYTES = len('"yyyymm0123456789",')


def _entries(numbers: Postings | None, ids: Sequence[str]) -> list[str]:
    """The distinct entries of ``numbers``, newest first."""
    if numbers is None:
        return []
    if isinstance(numbers, int):
        return [ids[numbers]]
    return sorted({ids[n] for n in numbers}, reverse=True)


def shard_of(term: str, firsts: Sequence[str]) -> int:
    """The shard a term is in: the last whose first term is at or before it (``firsts`` sorted,
    ``firsts[0] == ""``); ``search.js`` looks terms up the same way.

    >>> [shard_of(t, ["", "gauge", "pith:"]) for t in ("arxiv:2607.01083", "gauge", "lattice", "pith:3ba5")]
    [0, 1, 1, 2]
    """
    return bisect.bisect_right(firsts, term) - 1


def _unique_names(names: Iterable[str]) -> list[str]:
    """``names`` with ``-2``, ``-3`` ... added, in order, to a name already taken."""
    taken: set[str] = set()
    unique: list[str] = []
    for name in names:
        candidate, number = name, 1
        while candidate in taken:
            number += 1
            candidate = f"{name}-{number}"
        taken.add(candidate)
        unique.append(candidate)
    return unique


def content_cuts(hashes: Sequence[int], modulus: int, weights: Sequence[int], cap: int) -> list[int]:
    """Where each run of items starts (the first at 0): at an item whose ``term_hash`` (in
    ``hashes``) is a multiple of ``modulus``, or before one that would take its run's ``weights``
    over ``cap``. The content picks the cuts, so items added in one run move no other run's boundaries."""
    starts = [0]
    held = 0
    for index in range(1, len(hashes)):
        held += weights[index - 1]
        if hashes[index] % modulus == 0 or held + weights[index] > cap:
            starts.append(index)
            held = 0
    return starts


def shard_modulus(total: int, terms: int) -> int:
    """``M``: the largest power of two that keeps term shards near ``TERM_SHARD_BYTES`` on average,
    for ``terms`` terms whose ``term_size``s add up to ``total``."""
    modulus = 1
    while total and 2 * modulus * total <= TERM_SHARD_BYTES * terms:
        modulus *= 2
    return modulus


def term_size(term: str, count: int) -> int:
    """About the bytes a term with ``count`` postings takes in its shard: those of
    ``"term":[[...],[...]],``, or about those of a common term's chunk names."""
    if count <= OWN_FILE_POSTINGS:
        return len(compact_json(term)) + 9 + _ENTRY_BYTES * count
    return len(compact_json(term)) + 60 + _ENTRY_BYTES * (count // 512)


def shard_cuts(hashes: Sequence[int], sizes: Sequence[int], modulus: int) -> list[int]:
    """Where each shard starts among sorted terms (``hashes`` and ``sizes``: theirs; ``modulus``: the
    index's ``shard_modulus``), each shard at most ``MAX_SHARD_BYTES``."""
    return content_cuts(hashes, modulus, sizes, MAX_SHARD_BYTES)


def chunks(entries: Sequence[str], hashes: Sequence[int]) -> list[Sequence[str]]:
    """``entries`` (newest first; ``hashes``: theirs) cut where an entry's hash is a multiple of
    ``COMMON_CHUNK_ENTRIES``, each chunk at most ``4 *`` that many: entries added at the front
    change only the first chunk, and its last entry stays."""
    if not entries:
        return []
    cuts = content_cuts(hashes, COMMON_CHUNK_ENTRIES, [1] * len(entries), 4 * COMMON_CHUNK_ENTRIES)
    return [entries[begin:end] for begin, end in itertools.pairwise([*cuts, len(entries)])]


LIST_KINDS = (("t", "title"), ("o", "other"))
"""A common term's two lists: the letter its chunk files' names start with, and its field in the shard."""


def common_value(
    name: str, lists: Sequence[Sequence[str]], entry_hashes: Mapping[str, int]
) -> tuple[dict[str, object], list[SearchFile]]:
    """A common term's value in its shard (its directory and the last entry of each chunk of its
    [title, other] lists) and the chunk files (``entry_hashes``: each entry's ``term_hash``)."""
    value: dict[str, object] = {"common": name}
    files: list[SearchFile] = []
    for (kind, field), entries in zip(LIST_KINDS, lists, strict=True):
        cut = chunks(entries, [entry_hashes[e] for e in entries])
        value[field] = [chunk[-1] for chunk in cut]
        files += [chunk_file(name, kind, chunk) for chunk in cut]
    return value, files


def _file(*parts: str) -> PurePosixPath:
    return PurePosixPath("search", *parts)


def chunk_path(name: str, kind: str, last: str) -> PurePosixPath:
    """The file of a chunk of common term ``name``'s list ``kind`` (``LIST_KINDS``) whose last entry is ``last``."""
    return _file("common", name, f"{kind}{last}.json")


def chunk_file(name: str, kind: str, chunk: Sequence[str]) -> SearchFile:
    """A chunk of common term ``name``'s list ``kind``, as its file."""
    return chunk_path(name, kind, chunk[-1]), compact_json(list(chunk), plain=True) + b"\n"


def shard_path(name: str) -> PurePosixPath:
    """The file of the term shard ``name``."""
    return _file("terms", f"{name}.json")


def shard_file(name: str, bucket: Mapping[str, object]) -> SearchFile:
    """A term shard (``bucket``: its terms' values), as its file."""
    return shard_path(name), compact_json(bucket, plain=True) + b"\n"


def record_path(prefix: str) -> PurePosixPath:
    """The file of the result records of the papers whose suffix starts with ``prefix``."""
    return _file("papers", f"{prefix}.json")


def record_file(prefix: str, papers: Iterable[Searchable]) -> SearchFile:
    """The record file of ``prefix`` for its papers (in suffix order)."""
    # strings, lists of strings and ints: plain JSON
    return record_path(prefix), compact_json([_record(p) for p in papers], plain=True) + b"\n"


META_PATH = PurePosixPath("search", "meta.json")


def meta_file(record_prefix_length: int, shards: Iterable[tuple[str, str]]) -> SearchFile:
    """``search/meta.json`` for these ``(first term, name)`` shards."""
    meta = {
        "schema": SEARCH_SCHEMA,
        "min_word_length": _MIN_WORD,
        "stop_words": list(STOP_WORDS),
        "id_prefix_length": PITH_TERM_CHARS,
        "id_length": ID_LENGTH,
        "date_length": len("YYYYMM"),
        "record_prefix_length": record_prefix_length,
        "shards": [list(pair) for pair in shards],
    }
    return META_PATH, compact_json(meta) + b"\n"


def name_base(name: str) -> str:
    """A shard's or common directory's name without the ``-2``, ``-3`` ... of a collision."""
    return name.partition("-")[0]


@dataclass(frozen=True, slots=True)
class CommonTerm:
    """A common term as the index holds it: its directory and how many postings each list has."""

    name: str
    title: int
    other: int


@dataclass(frozen=True, slots=True)
class IndexState:
    """What patching an index needs besides its files (``search_update.update_index``): the counts
    that decide its cuts, which no file holds, so that a new paper does not change every file."""

    record_prefix_length: int
    terms: int
    """How many terms the index has."""
    total_size: int
    """The sum of every term's ``term_size``: with ``terms``, it decides ``shard_modulus``."""
    common: Mapping[str, CommonTerm]
    """Every common term."""
    shared: frozenset[str]
    """Entries that more than one paper has (copies, made-up suffixes): a list holds such an entry
    once, so it has fewer entries than its term's postings."""

    def to_json(self) -> dict[str, object]:
        """The state as JSON (the incremental cache keeps it)."""
        return {
            "schema": SEARCH_SCHEMA,
            "record_prefix_length": self.record_prefix_length,
            "terms": self.terms,
            "total_size": self.total_size,
            "common": {t: [c.name, c.title, c.other] for t, c in sorted(self.common.items())},
            "shared": sorted(self.shared),
        }

    @classmethod
    def from_json(cls, value: Any) -> IndexState:
        """The inverse of ``to_json``.

        Raises:
            ValueError, TypeError, KeyError: ``value`` is not a state of this index's schema.
        """
        if value["schema"] != SEARCH_SCHEMA:
            raise ValueError(f"an index state of schema {value['schema']!r}")
        return cls(
            record_prefix_length=int(value["record_prefix_length"]),
            terms=int(value["terms"]),
            total_size=int(value["total_size"]),
            common={str(t): CommonTerm(str(n), int(a), int(b)) for t, (n, a, b) in value["common"].items()},
            shared=frozenset(map(str, value["shared"])),
        )


def search_files(by_suffix: Sequence[Searchable]) -> Generator[SearchFile, None, IndexState]:
    """Yield the search index files for the papers in suffix order (see the module docstring);
    return the ``IndexState`` to patch the index from (``search_update.update_index``).

    ``by_suffix`` is read once, in order; a record file is yielded as soon as its prefix is
    done, so one is in memory at a time beside the postings.
    """
    length = prefix_length(len(by_suffix))
    title_postings: dict[str, Postings] = {}
    other_postings: dict[str, Postings] = {}
    ids: list[str] = []
    entry_hashes: dict[str, int] = {}
    term_hashes: dict[str, int] = {}
    in_prefix: list[Searchable] = []
    for number, summary in enumerate(by_suffix):
        if in_prefix and summary.suffix[:length] != in_prefix[0].suffix[:length]:
            yield record_file(in_prefix[0].suffix[:length], in_prefix)
            in_prefix = []
        in_prefix.append(summary)
        keys = summary.search
        ids.append(keys.entry)
        entry_hashes[keys.entry] = keys.entry_hash
        for term in keys.title_terms:
            _add(title_postings, term, number)
        for term in keys.other_terms:
            _add(other_postings, term, number)
        term_hashes.update(zip((*keys.title_terms, *keys.other_terms), keys.term_hashes, strict=True))
    if in_prefix:
        yield record_file(in_prefix[0].suffix[:length], in_prefix)
    del in_prefix
    shared = frozenset(e for e, n in Counter(ids).items() if n > 1)

    terms = sorted(title_postings.keys() | other_postings.keys())
    counts = [(_count(title_postings.get(t)), _count(other_postings.get(t))) for t in terms]
    sizes = [term_size(t, a + b) for t, (a, b) in zip(terms, counts, strict=True)]
    hashes = array("I", map(term_hashes.__getitem__, terms))
    del term_hashes
    starts = shard_cuts(hashes, sizes, shard_modulus(sum(sizes), len(terms)))
    # a corpus without terms still has its one (empty) shard, named as the empty term hashes
    shard_names = _unique_names(f"{hashes[i] if terms else term_hash(''):08x}" for i in starts)
    common = [i for i, (a, b) in enumerate(counts) if a + b > OWN_FILE_POSTINGS]
    common_names = dict(
        zip((terms[i] for i in common), _unique_names(f"{hashes[i]:08x}" for i in common), strict=True)
    )
    firsts = ["", *(terms[i] for i in starts[1:])]
    yield meta_file(length, zip(firsts, shard_names, strict=True))
    for shard, (begin, end) in enumerate(itertools.pairwise([*starts, len(terms)])):
        bucket: dict[str, object] = {}
        for term in terms[begin:end]:
            lists = [_entries(title_postings.get(term), ids), _entries(other_postings.get(term), ids)]
            if term in common_names:
                bucket[term], chunk_files = common_value(common_names[term], lists, entry_hashes)
                yield from chunk_files
            else:
                bucket[term] = lists
        yield shard_file(shard_names[shard], bucket)
    return IndexState(
        record_prefix_length=length,
        terms=len(terms),
        total_size=sum(sizes),
        common={terms[i]: CommonTerm(common_names[terms[i]], *counts[i]) for i in common},
        shared=shared,
    )

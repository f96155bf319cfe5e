"""Patching the search index for a change of a few papers (layer 3, pure).

The index is cut where content decides (``search_index``), so adding, changing or removing a
few papers changes only the shards of their terms, the chunks of their common words, their
record files and, when a shard is cut or joined, ``meta.json``. ``update_index`` reads just
those files of the previous index and returns the files they become and the files that are
gone, with the new ``IndexState``.

It gives the bytes a whole rebuild gives, or nothing: when a change reaches what it does not
patch (the record files' prefix grows, the shard modulus steps, a shard or common word it
names has a name's hash in common with another, an entry it touches is shared by two papers,
or a file is missing or not the index its state describes), it returns None, and the caller
builds the whole index.

Why a region is enough: a run of terms (of entries, in a chunked list) is cut at each one
whose hash is a multiple of the modulus, wherever it is, and the running size that adds a
cut at the cap restarts at every cut; so the terms from one such cut to the next are cut the
same whatever lies outside them. A change is cut again from the hash cut at or before it to
the next one after it that the change leaves in place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import orjson

from sitegen.render import search_index as index
from sitegen.render.search_index import (
    LIST_KINDS,
    META_PATH,
    CommonTerm,
    IndexState,
    Searchable,
    SearchFile,
    chunk_file,
    chunk_path,
    chunks,
    common_value,
    meta_file,
    name_base,
    record_file,
    record_path,
    shard_cuts,
    shard_file,
    shard_modulus,
    shard_of,
    shard_path,
    term_hash,
    term_size,
)
from sitegen.site.manifest_bins import prefix_length

__all__ = ["IndexUpdate", "ReadFile", "update_index"]


@dataclass(frozen=True, slots=True)
class IndexUpdate:
    """What a change makes of the index: the files it writes (whole; some may keep the bytes they
    had), the previous files it no longer has, and its new state. Every other file of the
    previous index stays as it is."""

    files: tuple[SearchFile, ...]
    gone: frozenset[PurePosixPath]
    state: IndexState


ReadFile = Callable[[PurePosixPath], "bytes | None"]
"""The bytes of a file of the previous index, or None when it is not the file that index wrote."""


class _Unpatchable(Exception):
    """Only a whole rebuild gives this change's bytes."""


def update_index(
    state: IndexState,
    removed: Sequence[Searchable],
    added: Sequence[Searchable],
    *,
    papers: int,
    listed_with_prefix: Callable[[str], Sequence[Searchable]],
    read: ReadFile,
) -> IndexUpdate | None:
    """Patch the index that ``state`` and the files ``read`` gives describe: the papers ``removed``
    (as that index has them) go and the papers ``added`` come (a changed paper is in both).

    ``papers``: how many papers the new index lists; ``listed_with_prefix(prefix)``: those whose
    suffix starts with ``prefix`` (a record file's), in suffix order. None: build the whole index.
    """
    try:
        return _Patch(state, read).apply(removed, added, papers, listed_with_prefix)
    except _Unpatchable:
        return None


@dataclass(slots=True)
class _Change:
    """The entries a term's two lists (title, other) lose and gain."""

    out: tuple[set[str], set[str]] = field(default_factory=lambda: (set(), set()))
    into: tuple[set[str], set[str]] = field(default_factory=lambda: (set(), set()))

    def count(self, kind: int, before: int) -> int:
        """The length of list ``kind`` that had ``before`` entries, once changed."""
        return before - len(self.out[kind]) + len(self.into[kind])

    def apply(
        self, kind: int, entries: Iterable[str], within: Callable[[str], bool] = lambda _: True
    ) -> list[str]:
        """List ``kind`` made of ``entries`` and changed where ``within`` (an entry) holds; newest first."""
        kept = set(entries)
        out = {e for e in self.out[kind] if within(e)}
        into = {e for e in self.into[kind] if within(e)}
        if not out <= kept or kept - out & into:
            raise _Unpatchable("the change does not fit the list")
        return sorted((kept - out) | into, reverse=True)


def _changes(
    removed: Sequence[Searchable], added: Sequence[Searchable]
) -> tuple[dict[str, _Change], dict[str, int]]:
    """Each changed term's change, and its hash."""
    changes: dict[str, _Change] = {}
    hashes: dict[str, int] = {}
    for papers, into in ((removed, False), (added, True)):
        for paper in papers:
            keys = paper.search
            for kind, terms in enumerate((keys.title_terms, keys.other_terms)):
                for term in terms:
                    change = changes.setdefault(term, _Change())
                    (change.into if into else change.out)[kind].add(keys.entry)
            hashes.update(zip((*keys.title_terms, *keys.other_terms), keys.term_hashes, strict=True))
    return changes, hashes


def _regions(affected: Iterable[int], count: int, cut_at: Callable[[int], bool]) -> list[tuple[int, int]]:
    """The runs ``[begin, end)`` of ``count`` runs from a cut at or before each of ``affected`` to the
    next cut after it (``cut_at(n)``: whether run ``n`` starts at a cut the change leaves), joined
    where they meet."""
    regions: list[tuple[int, int]] = []
    for number in sorted(set(affected)):
        begin = number
        while not cut_at(begin):
            begin -= 1
        end = number + 1
        while end < count and not cut_at(end):
            end += 1
        if regions and begin <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(end, regions[-1][1]))
        else:
            regions.append((begin, end))
    return regions


class _Patch:
    """One patch of an index: the counts it keeps up to date and the files it writes."""

    def __init__(self, state: IndexState, read: ReadFile) -> None:
        self._state = state
        self._read = read
        self._files: dict[PurePosixPath, bytes] = {}
        self._gone: set[PurePosixPath] = set()
        self._common = dict(state.common)
        self._terms = state.terms
        self._total = state.total_size

    def _load(self, rel: PurePosixPath) -> Any:
        data = self._read(rel)
        if data is None:
            raise _Unpatchable(f"{rel} is not the previous index's")
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise _Unpatchable(f"{rel} is not JSON") from exc

    def _write(self, file: SearchFile) -> None:
        self._files[file[0]] = file[1]
        self._gone.discard(file[0])

    def _drop(self, rel: PurePosixPath) -> None:
        if rel not in self._files:
            self._gone.add(rel)

    def apply(
        self,
        removed: Sequence[Searchable],
        added: Sequence[Searchable],
        papers: int,
        listed_with_prefix: Callable[[str], Sequence[Searchable]],
    ) -> IndexUpdate:
        length = self._state.record_prefix_length
        if papers == 0 or prefix_length(papers) != length:
            raise _Unpatchable("the record files' prefix changes")
        self._records(removed, added, length, listed_with_prefix)
        changes, hashes = _changes(removed, added)
        meta = self._load(META_PATH)
        if not isinstance(meta, dict) or meta.get("record_prefix_length") != length:
            raise _Unpatchable("meta.json is not the state's")
        shards = [(str(first), str(name)) for first, name in meta["shards"]]
        modulus = shard_modulus(self._state.total_size, self._state.terms)
        shards = self._shards(shards, changes, hashes, modulus)
        if shard_modulus(self._total, self._terms) != modulus:
            raise _Unpatchable("the shard modulus steps")
        self._write(meta_file(length, shards))
        state = IndexState(
            record_prefix_length=length,
            terms=self._terms,
            total_size=self._total,
            common=self._common,
            shared=self._state.shared,
        )
        return IndexUpdate(files=tuple(sorted(self._files.items())), gone=frozenset(self._gone), state=state)

    def _records(
        self,
        removed: Sequence[Searchable],
        added: Sequence[Searchable],
        length: int,
        listed_with_prefix: Callable[[str], Sequence[Searchable]],
    ) -> None:
        """Write the record files of the changed papers' prefixes; refuse an entry two papers share."""
        touched = {p.search.entry for p in (*removed, *added)}
        now: Counter[str] = Counter()
        for prefix in sorted({p.suffix[:length] for p in (*removed, *added)}):
            listed = listed_with_prefix(prefix)
            now.update(p.search.entry for p in listed)  # papers that share an entry share its prefix
            if listed:
                self._write(record_file(prefix, listed))
            else:
                self._drop(record_path(prefix))
        before = now.copy()
        before.subtract(p.search.entry for p in added)
        before.update(p.search.entry for p in removed)
        if touched & self._state.shared or any(now[e] > 1 or before[e] > 1 for e in touched):
            raise _Unpatchable("an entry of a changed paper is shared")

    def _account(self, term: str, before: int, after: int) -> None:
        """Keep the term count and total size up to date for a term whose postings go from ``before`` to ``after``."""
        if before:
            self._total -= term_size(term, before)
        else:
            self._terms += 1
        if after:
            self._total += term_size(term, after)
        else:
            self._terms -= 1

    # -- shards --------------------------------------------------------------------------

    def _shards(
        self,
        shards: list[tuple[str, str]],
        changes: Mapping[str, _Change],
        hashes: dict[str, int],
        modulus: int,
    ) -> list[tuple[str, str]]:
        """The index's shards once each region that holds a changed term is cut again."""
        firsts = [first for first, _ in shards]
        loaded: dict[int, dict[str, Any]] = {}

        def shard(number: int) -> dict[str, Any]:
            if number not in loaded:
                value = self._load(shard_path(shards[number][1]))
                if not isinstance(value, dict) or (number and firsts[number] not in value):
                    raise _Unpatchable(f"shard {shards[number][1]} is not the one meta.json names")
                loaded[number] = value
            return loaded[number]

        changed: dict[str, Any] = {}
        for term, change in changes.items():
            changed[term] = self._term(term, shard(shard_of(term, firsts)).get(term), change)
        gone = {term for term, value in changed.items() if value is None}

        def cut_at(number: int) -> bool:
            first = firsts[number]
            return number == 0 or (term_hash(first) % modulus == 0 and first not in gone)

        regions = _regions((shard_of(t, firsts) for t in changes), len(shards), cut_at)
        within = {n for begin, end in regions for n in range(begin, end)}
        outside = {name_base(name) for n, (_, name) in enumerate(shards) if n not in within}
        if any(name_base(shards[n][1]) != shards[n][1] or shards[n][1] in outside for n in within):
            raise _Unpatchable("a shard of a region has a name's hash in common with another")
        cut: list[tuple[str, str]] = []
        at = 0
        taken = set(outside)
        for begin, end in regions:
            cut += shards[at:begin]
            values = {t: v for n in range(begin, end) for t, v in shard(n).items()}
            values.update((t, v) for t, v in changed.items() if begin <= shard_of(t, firsts) < end)
            for n in range(begin, end):
                self._drop(shard_path(shards[n][1]))
            cut += self._cut(
                begin == 0, {t: v for t, v in values.items() if v is not None}, hashes, modulus, taken
            )
            at = end
        return [*cut, *shards[at:]]

    def _cut(
        self, first: bool, values: dict[str, Any], hashes: dict[str, int], modulus: int, taken: set[str]
    ) -> list[tuple[str, str]]:
        """The shards of a region's terms (``first``: the index's first region), written."""
        if not values:
            raise _Unpatchable("the index's first region is left without terms")
        terms = sorted(values)
        term_hashes = [hashes[t] if t in hashes else term_hash(t) for t in terms]
        sizes = [term_size(t, self._count(t, values[t])) for t in terms]
        shards: list[tuple[str, str]] = []
        starts = shard_cuts(term_hashes, sizes, modulus)
        for number, (begin, end) in enumerate(zip(starts, [*starts[1:], len(terms)], strict=True)):
            name = f"{term_hashes[begin]:08x}"
            if name in taken:
                raise _Unpatchable("a new shard's name is another's")
            taken.add(name)
            self._write(shard_file(name, {t: values[t] for t in terms[begin:end]}))
            shards.append(("" if first and number == 0 else terms[begin], name))
        return shards

    def _count(self, term: str, value: Any) -> int:
        """The postings of a term whose value (in its shard) is ``value``."""
        if isinstance(value, dict):
            common = self._common.get(term)
            if common is None or value.get("common") != common.name:
                raise _Unpatchable(f"{term!r} is not the common term the state names")
            return common.title + common.other
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, list) for v in value)):
            raise _Unpatchable(f"{term!r} has no lists")
        if not self._state.shared.isdisjoint([*value[0], *value[1]]):
            raise _Unpatchable(f"{term!r} lists an entry once for two papers")
        return len(value[0]) + len(value[1])

    # -- terms ---------------------------------------------------------------------------

    def _term(self, term: str, value: Any, change: _Change) -> Any:
        """A changed term's new value in its shard (None: it has no postings left), its chunks written."""
        if isinstance(value, dict):
            return self._common_term(term, value, change)
        old = [[], []] if value is None else value
        before = 0 if value is None else self._count(term, value)
        lists = [change.apply(kind, old[kind]) for kind in (0, 1)]
        after = self._count(term, lists)
        self._account(term, before, after)
        if after == 0:
            return None
        if after <= index.OWN_FILE_POSTINGS:
            return lists
        name = f"{term_hash(term):08x}"
        if name in {name_base(common.name) for common in self._common.values()}:
            raise _Unpatchable(f"{term!r} would share a common directory's name")
        made, files = common_value(name, lists, {e: term_hash(e) for e in (*lists[0], *lists[1])})
        for file in files:
            self._write(file)
        self._common[term] = CommonTerm(name, len(lists[0]), len(lists[1]))
        return made

    def _common_term(self, term: str, value: dict[str, Any], change: _Change) -> Any:
        before_counts = self._common.get(term)
        before = self._count(term, value)
        assert before_counts is not None  # _count checked it
        name = before_counts.name
        counts = (change.count(0, before_counts.title), change.count(1, before_counts.other))
        self._account(term, before, sum(counts))
        lasts: list[list[str]] = []
        for _, field_name in LIST_KINDS:
            names = value.get(field_name)
            if not isinstance(names, list):
                raise _Unpatchable(f"{term!r} has no chunk names")
            lasts.append(names)
        if sum(counts) <= index.OWN_FILE_POSTINGS:  # its lists go back into its shard
            if name_base(name) != name or any(
                name_base(c.name) == name for t, c in self._common.items() if t != term
            ):
                raise _Unpatchable(f"{term!r} has a common directory's name in common with another")
            lists = []
            for kind_number, ((kind, _), names) in enumerate(zip(LIST_KINDS, lasts, strict=True)):
                entries = [e for last in names for e in self._chunk(name, kind, last)]
                lists.append(change.apply(kind_number, entries))
                for last in names:
                    self._drop(chunk_path(name, kind, last))
            del self._common[term]
            return lists if sum(counts) else None
        made: dict[str, Any] = {"common": name}
        for kind_number, ((kind, field_name), names) in enumerate(zip(LIST_KINDS, lasts, strict=True)):
            made[field_name] = self._chunked(name, kind, kind_number, names, change)
        self._common[term] = CommonTerm(name, *counts)
        return made

    def _chunk(self, name: str, kind: str, last: str) -> list[str]:
        entries = self._load(chunk_path(name, kind, last))
        if not (isinstance(entries, list) and entries and entries[-1] == last):
            raise _Unpatchable(f"chunk {kind}{last} of {name} is not the one its shard names")
        return entries

    def _chunked(
        self, name: str, kind: str, kind_number: int, lasts: list[str], change: _Change
    ) -> list[str]:
        """A common term's list ``kind`` cut again where the change falls; the names of its chunks."""
        touched = change.out[kind_number] | change.into[kind_number]
        if not touched:
            return lasts
        loaded: dict[int, list[str]] = {}

        def entries(number: int) -> list[str]:
            if number not in loaded:
                loaded[number] = self._chunk(name, kind, lasts[number])
            return loaded[number]

        def chunk_of(entry: str) -> int:  # the first chunk whose last entry is at or before it
            low, high = 0, len(lasts)
            while low < high:
                middle = (low + high) // 2
                if lasts[middle] <= entry:
                    high = middle
                else:
                    low = middle + 1
            return min(low, len(lasts) - 1)

        def cut_at(number: int) -> bool:
            if number == 0:
                return True
            first = entries(number)[0]
            return term_hash(first) % index.COMMON_CHUNK_ENTRIES == 0 and first not in change.out[kind_number]

        if not lasts:
            return self._write_chunks(name, kind, change.apply(kind_number, []))
        # an entry between two chunks may end the newer one: both are cut again
        affected = {n for entry in touched for n in (chunk_of(entry) - 1, chunk_of(entry)) if n >= 0}
        regions = _regions(affected, len(lasts), cut_at)
        cut: list[str] = []
        at = 0
        for begin, end in regions:
            cut += lasts[at:begin]
            old = [e for n in range(begin, end) for e in entries(n)]
            region = range(begin, end)
            new = change.apply(kind_number, old, lambda entry: chunk_of(entry) in region)  # noqa: B023 (used at once)
            for n in range(begin, end):
                self._drop(chunk_path(name, kind, lasts[n]))
            cut += self._write_chunks(name, kind, new)
            at = end
        return [*cut, *lasts[at:]]

    def _write_chunks(self, name: str, kind: str, entries: list[str]) -> list[str]:
        made = chunks(entries, [term_hash(e) for e in entries])
        for chunk in made:
            self._write(chunk_file(name, kind, chunk))
        return [chunk[-1] for chunk in made]

"""The alias map: every alias of every paper, its Pith number, verdict and page, in bins (layer 5).

``aliases/<H>.json`` lists the aliases whose ``alias_bin`` is ``H`` (papers in suffix order, each
one's aliases in its order), so a new paper rewrites only the bins of its own aliases;
``aliases.json`` lists the bins' name length and the collisions (an alias path claimed by more
than one paper is listed there and not as an alias). Each file is the bytes ``json_bytes`` gives
for it: the entries are formatted here as it would indent them, which a golden site checks.

A bin notes what it is made of (``StagedSite.write_made``): for each alias, its paper's
``SiteOrders.head_digests`` (a record's head holds every field an entry shows), its place among the
paper's aliases and whether it is routed. Made whole, a bin's entries are made from its papers'
heads. Patched (orders patched, no path contested in either build), only the bins of the changed
aliases are looked at, and each is the live bin spliced: the entries of the papers that are
neither gone nor fresh are kept as the live file has them (a reused record is byte for byte the
last build's), the fresh papers' entries are made and put in their places. A 1 % change touches
most bins, so this spares reading and decoding every other paper's head once per alias.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sitegen.build.orders import SiteOrders
from sitegen.build.spill import HEAD_DIGEST_SIZE, SummarySpill, head_fields
from sitegen.fs.staging import StagedSite
from sitegen.pith.numbers import SUFFIX_LENGTH
from sitegen.render.templates import json_bytes
from sitegen.site.manifest_bins import ALIAS_DIR, ALIAS_LOOKUP, alias_bin, alias_bin_length

__all__ = ["ALIASES_SCHEMA", "write_alias_map"]

ALIASES_SCHEMA = "pith-sitegen/aliases/v2"

_ENCODE = json.encoder.encode_basestring
"""``json``'s string encoder for ``ensure_ascii=False``: the bytes ``render.json_bytes`` writes for a string (orjson's are the same)."""

_ENTRY_FIELDS = ("aliases", "alias_paths", "input", "pith_number", "verdict")
"""What an alias bin's entry says of its alias's paper."""

_FILE_START = b'{\n  "aliases": [\n    {\n'
_ENTRY_BREAK = b"\n    },\n    {\n"
_FILE_END = f'\n    }}\n  ],\n  "schema": {_ENCODE(ALIASES_SCHEMA)}\n}}\n'.encode()
"""A bin's file is ``_FILE_START``, its entries' lines joined by ``_ENTRY_BREAK``, then ``_FILE_END``
(no string holds a raw newline, so the break is found only between entries)."""

_ENTRY_SUFFIX = re.compile(rb'\n      "pith_number": "pith:[0-9]{4}:([A-Z2-7]{%d})",\n' % SUFFIX_LENGTH)
"""An entry's Pith number line, which names its paper by suffix."""


@dataclass(frozen=True, slots=True)
class _Member:
    """An alias in a bin: its paper's record, its place among that paper's aliases, and whether
    its path is routed (so written in the entry)."""

    record: int
    place: int
    routed: bool

    def noted(self, orders: SiteOrders) -> bytes:
        """What the alias adds to its bin's note: its paper's head digest, place and routing."""
        at = self.record * HEAD_DIGEST_SIZE
        return orders.head_digests[at : at + HEAD_DIGEST_SIZE] + bytes((self.place, self.routed))


def write_alias_map(
    site: StagedSite,
    spill: SummarySpill,
    orders: SiteOrders,
    *,
    contested: bool,
    routed: Callable[[int, str], bool],
    collisions: list[dict[str, object]],
) -> None:
    """Write ``aliases.json`` and every alias bin of the papers ``orders.by_suffix`` lists.

    ``contested``: whether settling found a path two or more papers claim; ``routed(record,
    path)``: whether a paper got the page directory it claims; ``collisions``: the contested
    paths' entries of ``aliases.json``. With no path contested and the orders patched, only the
    bins of ``SiteOrders.changed_aliases`` are made (``_patch_bins``).
    """
    if not contested and _patch_bins(site, spill, orders):
        site.write(PurePosixPath("aliases.json"), json_bytes(_top(len(orders.alias_hashes), [])))
        return
    by_suffix = orders.by_suffix
    hashes = array("Q")
    owners = array("I")
    """Per alias: its paper's record number..."""
    places = bytearray()
    """...its place among its paper's aliases, and whether it is routed (two bytes)."""
    papers = spill.view(by_suffix).fields("alias_hashes", "alias_paths")
    for number, (alias_hashes, alias_paths) in zip(by_suffix, papers, strict=True):
        for place, (hashed, path) in enumerate(zip(alias_hashes, alias_paths, strict=True)):
            hashes.append(hashed)
            owners.append(number)
            places += bytes((place, path is not None and routed(number, path)))
    length = alias_bin_length(len(hashes))
    shift = 64 - 4 * length
    order = array("Q", sorted((h >> shift) << 32 | i for i, h in enumerate(hashes)))  # bin, then suffix order
    for number, run in itertools.groupby(order, key=lambda key: key >> 32):  # the bin's number
        members = [
            _Member(owners[alias], places[2 * alias], bool(places[2 * alias + 1]))
            for alias in (key & 0xFFFFFFFF for key in run)
        ]
        _write_bin(
            site,
            alias_bin(number << shift, length),
            members,
            orders,
            functools.partial(_made, spill, members),
        )
    site.write(PurePosixPath("aliases.json"), json_bytes(_top(len(hashes), collisions)))


def _top(aliases: int, collisions: list[dict[str, object]]) -> dict[str, object]:
    """``aliases.json``: the bins' name length for ``aliases`` aliases, and the collisions."""
    return {
        "bin_length": alias_bin_length(aliases),
        "collisions": collisions,
        "lookup": ALIAS_LOOKUP,
        "schema": ALIASES_SCHEMA,
    }


def _write_bin(
    site: StagedSite, name: str, members: Sequence[_Member], orders: SiteOrders, make: Callable[[], bytes]
) -> None:
    digest = hashlib.blake2b(digest_size=20)
    for member in members:
        digest.update(member.noted(orders))
    site.write_made(name, digest.hexdigest(), make)


def _patch_bins(site: StagedSite, spill: SummarySpill, orders: SiteOrders) -> bool:
    """The alias bins from the last build's, when its orders were patched and no path is contested:
    the live bins of unchanged aliases kept as they are, the bins of ``SiteOrders.changed_aliases``
    spliced (``_spliced``; every alias with a path is routed). False, with nothing written, when
    the orders were made whole or the bins' names change length."""
    if orders.changed_aliases is None or orders.changed_suffixes is None:
        return False
    length = alias_bin_length(len(orders.alias_hashes))
    if length != alias_bin_length(orders.aliases_before):
        return False
    shift = 64 - 4 * length
    dirty = {hashed >> shift for hashed in orders.changed_aliases}
    live = {}
    for name in site.made_before(f"{ALIAS_DIR}/"):
        digits = name[len(ALIAS_DIR) + 1 : -len(".json")].replace("/", "")
        if (
            len(digits) != length
            or digits.strip("0123456789abcdef")
            or alias_bin(int(digits, 16) << shift, length) != name
        ):
            return False  # not a bin of this length
        live[int(digits, 16)] = name
    for number, name in live.items():
        if number not in dirty and not site.keep_made(name):
            dirty.add(number)  # not in the live site as the last build made it: made again
    position = array("I", [0]) * len(spill)
    for at, record in enumerate(orders.by_suffix):
        position[record] = at
    keys: dict[int, list[int]] = {}
    """Per bin to make: its aliases, each as its paper's place in suffix order, its own place and
    whether it has a path, in one sortable number."""
    places = orders.alias_places
    for index, (hashed, owner) in enumerate(zip(orders.alias_hashes, orders.alias_owners, strict=True)):
        if (hashed >> shift) in dirty:
            keys.setdefault(hashed >> shift, []).append(
                position[owner] << 9 | places[2 * index] << 1 | places[2 * index + 1]
            )
    changed = frozenset(suffix.encode("ascii") for suffix in orders.changed_suffixes)
    by_suffix = orders.by_suffix
    for number, in_bin in sorted(keys.items()):
        in_bin.sort()  # papers in suffix order, each one's aliases in its order
        members = [_Member(by_suffix[key >> 9], (key >> 1) & 0xFF, bool(key & 1)) for key in in_bin]
        name = alias_bin(number << shift, length)

        def make(name: str = name, members: list[_Member] = members) -> bytes:
            return _spliced(site.live_made(name), members, spill, orders, changed)

        _write_bin(site, name, members, orders, make)
    return True


def _spliced(
    live: bytes | None,
    members: list[_Member],
    spill: SummarySpill,
    orders: SiteOrders,
    changed: frozenset[bytes],
) -> bytes:
    """A bin of ``members`` from ``live``, the last build's file of it: its entries of papers whose
    suffix is not ``changed`` (neither gone nor fresh) kept, each fresh paper's made. Made whole
    when there is no such live file, or its entries are not the kept members' in order."""
    kept = _kept_entries(live, changed) if live is not None else None
    if kept is None:
        return _made(spill, members)
    suffixes = orders.suffixes
    entries: list[bytes] = []
    for member in members:
        suffix = suffixes[member.record * SUFFIX_LENGTH : (member.record + 1) * SUFFIX_LENGTH]
        if suffix in changed:
            entries.append(_entry(head_fields(spill.head(member.record), *_ENTRY_FIELDS), member).encode())
        elif next(kept, None) == suffix:
            entries.append(next(kept))
        else:
            return _made(spill, members)
    if next(kept, None) is not None:
        return _made(spill, members)
    return _FILE_START + _ENTRY_BREAK.join(entries) + _FILE_END


def _kept_entries(live: bytes, changed: frozenset[bytes]) -> Iterator[bytes] | None:
    """The entries of ``live`` (a bin's file) whose papers' suffixes are not ``changed``, each
    after its suffix, in the file's order; None when ``live`` is not laid out as a bin."""
    if not (live.startswith(_FILE_START) and live.endswith(_FILE_END)):
        return None
    entries = live[len(_FILE_START) : -len(_FILE_END)].split(_ENTRY_BREAK)
    suffixes = _ENTRY_SUFFIX.findall(live)
    if len(suffixes) != len(entries):
        return None
    return itertools.chain.from_iterable(
        (suffix, entry) for suffix, entry in zip(suffixes, entries, strict=True) if suffix not in changed
    )


def _made(spill: SummarySpill, members: Sequence[_Member]) -> bytes:
    """A bin's file made from its members' papers' heads."""
    entries = [_entry(head_fields(spill.head(m.record), *_ENTRY_FIELDS), m) for m in members]
    return _FILE_START + _ENTRY_BREAK.join(entry.encode() for entry in entries) + _FILE_END


def _entry(paper: tuple[Any, ...], member: _Member) -> str:
    """The lines of ``member``'s entry (between its braces), from its paper's ``_ENTRY_FIELDS``, as
    ``json_bytes`` indents them."""
    aliases, alias_paths, name, pith_number, verdict = paper
    (kind, value), path = aliases[member.place], alias_paths[member.place]
    return (
        f'      "alias_kind": {_ENCODE(kind)},\n'
        f'      "alias_value": {_ENCODE(value)},\n'
        f'      "input": {_ENCODE(name)},\n'
        f'      "path": {_ENCODE(f"{path}/") if member.routed else "null"},\n'
        f'      "pith_number": {_ENCODE(pith_number)},\n'
        f'      "status": {_ENCODE(verdict)}'
    )

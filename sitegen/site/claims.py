"""Which papers claim which page paths, without a map of every path (layer 2, pure).

Every paper claims its own directory and one per alias, about seven paths; two papers
claiming one path (or two paths that differ only in case, which are one path on a
case-insensitive file system) is a collision. A dict from every path to its
claimants costs a few kilobytes a paper, so ``PathClaims`` keeps only a 64-bit hash
of each case-folded path and the number of the paper claiming it (12 bytes a path).
Finding what is shared then takes two passes over those arrays: a bit table marks
every hash seen, and the hashes seen again are the candidates; a second pass collects
the papers behind each candidate. Only then are real paths compared, those of the
few papers involved (``paths_of``), so a hash coincidence never makes a collision.

Hashes are the first 8 bytes of a path's BLAKE2b, the same in every run, so a build can keep
the arrays for the next one (``sitegen.build.orders``, sorted by hash: ``sorted_arrays``); a hash
coincidence only makes a candidate. A rebuild that contests no path starts from the claims of the
papers it reuses, which the last build settled (no two of them claim one path), and adds the
few fresh papers': a shared path then involves a fresh paper, and each question is a binary search
of the sorted part for the fresh hashes instead of a pass over every path.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import operator
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Claimant", "Collision", "PathClaims", "Settlement", "fold", "path_order", "settle"]

_BITS_PER_PATH = 64
"""Size of the bit table: with 64 bits a path, about 1 in 64 unshared paths is a candidate."""
_SIGN = 1 << 63
"""Added to a (signed) hash, it sorts as an unsigned number does."""
_FEW_FRESH = 4096
"""Claims past the settled ones up to which each question searches the settled part for them."""


def _blake2b_64(folded: str) -> int:
    digest = hashlib.blake2b(folded.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


_path_hash: Callable[[str], int] = _blake2b_64
"""The 64-bit hash of a case-folded path (a name of its own so a test can make every hash collide)."""

PathsOf = Callable[[int], Collection[str]]
"""The paths (``/``-separated, relative) a paper claims, by its number."""


def fold(path: str) -> str:
    """The form two spellings of one path share on a case-insensitive file system."""
    return path.casefold()


def path_order(path: str) -> list[str]:
    """Sort key that orders ``/``-separated paths as ``PurePosixPath`` does: part by part."""
    return path.split("/")


@dataclass(frozen=True, slots=True)
class Collision:
    """Paths that are one path on a case-insensitive file system, claimed by two or more papers."""

    spellings: tuple[str, ...]
    """Every spelling some paper claims, in ``path_order``."""
    claimants: tuple[int, ...]
    """The papers claiming any of them: by spelling, then in paper order, each once."""


class PathClaims:
    """The paths claimed by papers numbered 0, 1, ... (in any order), as hashes.

    ``hashes`` and ``owners``: arrays another ``PathClaims`` gave (``sorted_arrays``), renumbered;
    ``settled``: that they are sorted by hash and that no two of their papers claim one path (a
    build that contested none kept them), so that only the claims added since need a look.
    """

    def __init__(
        self, hashes: array[int] | None = None, owners: array[int] | None = None, *, settled: bool = False
    ) -> None:
        self._hashes = array("q") if hashes is None else hashes
        self._owners = array("I") if owners is None else owners
        self._settled = len(self._hashes) if settled and _ascending(self._hashes) else 0
        """How many of the first claims are sorted by hash and shared by no two papers."""
        self._seen: bytearray | None = None
        self._seen_mask = 0
        """The ``_mask`` that ``_seen`` was built with."""

    def add(self, number: int, paths: Iterable[str]) -> None:
        """Record the paths paper ``number`` claims."""
        for folded in {fold(p) for p in paths}:
            self._hashes.append(_path_hash(folded))
            self._owners.append(number)
        self._seen = None

    def arrays(self) -> tuple[array[int], array[int]]:
        """Each claimed path's hash, and the number of the paper claiming it."""
        return self._hashes, self._owners

    def sorted_arrays(self) -> tuple[array[int], array[int]]:
        """``arrays`` sorted by hash, then paper: what a next build keeps (``settled``). The claims
        added after settled ones are put in their places; others are sorted whole."""
        hashes, owners = self._hashes, self._owners
        if not self._few_fresh():  # one int a claim (not a tuple): a third of the memory
            keys = sorted((value + _SIGN) << 32 | owner for value, owner in zip(hashes, owners, strict=True))
            return array("q", ((key >> 32) - _SIGN for key in keys)), array(
                "I", (key & 0xFFFFFFFF for key in keys)
            )
        fresh = sorted(zip(hashes[self._settled :], owners[self._settled :], strict=True))
        merged_hashes, merged_owners, start = array("q"), array("I"), 0
        for value, owner in fresh:
            place = bisect.bisect_right(hashes, value, 0, self._settled)
            while place > start and hashes[place - 1] == value and owners[place - 1] > owner:
                place -= 1  # among equal hashes, by paper
            merged_hashes += hashes[start:place]
            merged_owners += owners[start:place]
            merged_hashes.append(value)
            merged_owners.append(owner)
            start = place
        merged_hashes += hashes[start : self._settled]
        merged_owners += owners[start : self._settled]
        return merged_hashes, merged_owners

    def _few_fresh(self) -> bool:
        """Whether the claims are settled ones and few more (``settled``)."""
        return self._settled > 0 and len(self._hashes) - self._settled <= _FEW_FRESH

    def _settled_range(self, value: int) -> tuple[int, int]:
        """Where the settled claims with hash ``value`` are."""
        low = bisect.bisect_left(self._hashes, value, 0, self._settled)
        return low, bisect.bisect_right(self._hashes, value, low, self._settled)

    def _mask(self) -> int:
        """One less than the table's size in bits: the least power of two, at least 64, holding them all."""
        needed = _BITS_PER_PATH * len(self._hashes)
        return max(64, 1 << max(0, needed - 1).bit_length()) - 1

    def _table(self) -> bytearray:
        """The bit table of every hash, built on first use (and the hashes seen twice on the way)."""
        if self._seen is None:
            self._seen, _ = self._build_table()
        return self._seen

    def _build_table(self) -> tuple[bytearray, set[int]]:
        mask = self._seen_mask = self._mask()
        seen = bytearray((mask >> 3) + 1)
        again: set[int] = set()
        for value in self._hashes:
            slot = value & mask
            bit = 1 << (slot & 7)
            if seen[slot >> 3] & bit:
                again.add(value)
            else:
                seen[slot >> 3] |= bit
        return seen, again

    def maybe_claimed(self, folded_path: str) -> bool:
        """False when no paper claims this case-folded path; True when one may (``claimed`` says)."""
        if self._few_fresh():
            value = _path_hash(folded_path)
            low, high = self._settled_range(value)
            return low < high or value in self._hashes[self._settled :]
        table = self._table()
        slot = _path_hash(folded_path) & self._seen_mask
        return bool(table[slot >> 3] & (1 << (slot & 7)))

    def _owners_of(self, values: set[int]) -> dict[int, list[int]]:
        """The papers that claim a path with each of these hashes, in paper order."""
        owners: dict[int, list[int]] = {value: [] for value in values}
        first = 0
        if self._few_fresh():
            for value, claimants in owners.items():
                low, high = self._settled_range(value)
                claimants.extend(self._owners[low:high])
            first = self._settled
        for value, number in zip(self._hashes[first:], self._owners[first:], strict=True):
            found = owners.get(value)
            if found is not None:
                found.append(number)
        if first:
            for claimants in owners.values():
                claimants.sort()
        return owners

    def _shared_fresh(self) -> set[int]:
        """The hashes of the claims added after the settled ones that some other claim has too."""
        shared = set()
        for value, count in Counter(self._hashes[self._settled :]).items():
            low, high = self._settled_range(value)
            if count > 1 or low < high:
                shared.add(value)
        return shared

    def collisions(self, paths_of: PathsOf) -> list[Collision]:
        """Every collision, in ``path_order`` of its first spelling."""
        if self._few_fresh():
            again = self._shared_fresh()
        else:
            self._seen, again = self._build_table()
        claimed: dict[str, dict[str, list[int]]] = {}
        for value, numbers in self._owners_of(again).items():
            papers = sorted(set(numbers))  # one paper may have two paths with one hash
            if len(papers) < 2:
                continue
            for number in papers:
                for path in paths_of(number):
                    folded = fold(path)
                    if _path_hash(folded) == value:
                        claimed.setdefault(folded, {}).setdefault(path, []).append(number)
        found: list[Collision] = []
        for by_spelling in claimed.values():
            spellings = sorted(by_spelling, key=path_order)
            everyone = [n for path in spellings for n in by_spelling[path]]
            claimants = tuple(dict.fromkeys(everyone))
            if len(claimants) > 1:
                found.append(Collision(spellings=tuple(spellings), claimants=claimants))
        return sorted(found, key=lambda c: path_order(c.spellings[0]))

    def claimed(self, folded_paths: Iterable[str], paths_of: PathsOf) -> set[str]:
        """Those of ``folded_paths`` (case-folded) that some paper claims: one pass over every path,
        so ask for all doubtful paths at once (those ``maybe_claimed`` did not rule out)."""
        maybe = {p for p in folded_paths if self.maybe_claimed(p)}
        if not maybe:
            return set()
        owners = self._owners_of({_path_hash(p) for p in maybe})
        found: set[str] = set()
        for numbers in owners.values():
            for number in numbers:
                found.update(folded for path in paths_of(number) if (folded := fold(path)) in maybe)
        return found


def _ascending(values: array[int]) -> bool:
    """Whether ``values`` never decrease (compared in C, a pair at a time)."""
    return all(map(operator.le, values, itertools.islice(values, 1, None)))


@dataclass(frozen=True, slots=True)
class Claimant:
    """One paper claiming a contested path."""

    number: int
    """The paper's record number (input order)."""
    verified: bool
    identity: str
    """What makes two inputs one paper: the signed record's SHA-256 when the paper verified (two
    verified states of one record are one paper, whatever their unsigned fields say), else the
    input file's SHA-256 (only byte-identical copies of an unverified input are one paper)."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """Who gets a contested path (``settle``)."""

    keeper: int | None
    """The one paper that keeps the path, or None when nobody does."""
    collision: tuple[int, ...]
    """The papers a collision page at the path lists (empty: no collision page)."""
    losers: tuple[int, ...]
    """Papers that are not verified and get nothing at the path (they keep their report entries)."""
    duplicates: tuple[int, ...]
    """Papers that are one paper with an earlier claimant (same ``identity``): listed nowhere of their own."""


def settle(claimants: Sequence[Claimant]) -> Settlement:
    """The one claim policy: who gets a path that several papers claim (given in input order).

    Claimants of one ``identity`` (and verdict) are one paper, the first of them. Then a verified claimant
    keeps the path, and claimants that are not verified get nothing there, so no stranger's
    file can take a verified paper's path. Two or more verified papers (a registry
    inconsistency: two records naming one alias) get a collision page listing them; so do
    claimants of which none verified.

    >>> settle([Claimant(0, True, "a"), Claimant(1, False, "b")])
    Settlement(keeper=0, collision=(), losers=(1,), duplicates=())
    >>> settle([Claimant(0, True, "a"), Claimant(1, True, "a")])
    Settlement(keeper=0, collision=(), losers=(), duplicates=(1,))
    >>> settle([Claimant(0, True, "a"), Claimant(1, True, "b"), Claimant(2, False, "c")])
    Settlement(keeper=None, collision=(0, 1), losers=(2,), duplicates=())
    >>> settle([Claimant(0, False, "a"), Claimant(1, False, "b")])
    Settlement(keeper=None, collision=(0, 1), losers=(), duplicates=())
    """
    seen: set[tuple[bool, str]] = set()  # a verified paper is never one with one that is not
    distinct: list[Claimant] = []
    duplicates: list[int] = []
    for claimant in claimants:
        key = (claimant.verified, claimant.identity)
        if key in seen:
            duplicates.append(claimant.number)
        else:
            seen.add(key)
            distinct.append(claimant)
    verified = tuple(c.number for c in distinct if c.verified)
    if verified:
        losers = tuple(c.number for c in distinct if not c.verified)
        keeper = verified[0] if len(verified) == 1 else None
        collision = () if keeper is not None else verified
    else:
        losers = ()
        keeper = distinct[0].number if len(distinct) == 1 else None
        collision = () if keeper is not None else tuple(c.number for c in distinct)
    return Settlement(keeper=keeper, collision=collision, losers=losers, duplicates=tuple(duplicates))

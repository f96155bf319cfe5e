"""The site plan's per-paper parts: made from every summary, or patched from the last build's (layer 5).

The site-wide step orders every paper three ways (newest first for the front page and feed, by
suffix for the alias map, sitemap and search, by month for the listings), notes every page
path each one claims (``PathClaims``) and every alias, and serves integrity endpoints. Made
whole, that is a pass over every summary. A whole build keeps all of it in its incremental
cache (``orders_file``: arrays of record numbers, hashes and suffixes, and the endpoints it
served, about 300 bytes a paper), and the next build that reuses most papers patches it
instead (``patched_orders``): the kept arrays are renumbered for this build's records (a
reused paper's record is byte for byte the one it had, so its place among the others is the
same), the papers gone or changed drop out, and each freshly rendered one is put in its place
by a binary search that reads the heads of the few records it compares with. A patched
``SiteOrders`` also says what changed since (months, alias hashes, suffixes), so the listings,
alias bins and manifest bins that no changed paper is in are kept as the live site has them.
Either way the arrays are the same, which a property test checks against a whole pass and
the incremental tests through the site they make.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, overload

import orjson

from sitegen.build.spill import (
    HEAD_DIGEST_SIZE,
    LAST_RECORD,
    SummarySpill,
    head_digest,
    head_fields,
    order_key,
    record_numbers,
)
from sitegen.errors import OutputError
from sitegen.pith.numbers import SUFFIX_LENGTH
from sitegen.pith.report import Verdict
from sitegen.site.claims import PathClaims
from sitegen.site.listings import ListingPlan, listing_key, listing_plan
from sitegen.site.urls import paper_dir_text

__all__ = [
    "GONE",
    "ORDERS_SCHEMA",
    "KeptOrders",
    "ServedEndpoints",
    "SiteOrders",
    "claimed_paths",
    "claims_of",
    "kept_orders",
    "orders_file",
    "patched_orders",
    "site_orders",
    "without",
]

ORDERS_SCHEMA = "pith-sitegen/site-orders/4"
GONE = LAST_RECORD
"""The renumbering of a record this build does not have (``KeptOrders.renumber``)."""
PATCHED_SHARE = 8
"""Orders are patched when at most one record in this many (and 64 more) is fresh: each fresh
record costs two binary searches of a few dozen head reads, so beyond that a whole pass is cheaper."""


def claimed_paths(suffix: str, alias_paths: Iterable[str | None]) -> set[str]:
    """The page directories a paper claims: its own and its aliases' (``PaperSummary.alias_paths``)."""
    paths = {paper_dir_text(suffix)}
    paths.update(path for path in alias_paths if path is not None)
    return paths


def claims_of(spill: SummarySpill, number: int) -> set[str]:
    """The page directories summary ``number`` claims."""
    suffix, alias_paths = spill.fields_of(number, "suffix", "alias_paths")
    return claimed_paths(suffix, alias_paths)


@dataclass(frozen=True, slots=True)
class SiteOrders:
    """What the site-wide pages need of every paper's place: its orders, claims and verdict counts."""

    claims: PathClaims
    newest_first: array[int]
    """Record numbers in index order: newest ``submitted_at`` first, then greater suffix, then input order."""
    by_suffix: array[int]
    """Record numbers by suffix, then input path: the alias map's order (and the sitemap's)."""
    counts: dict[str, int]
    """Papers by verdict."""
    listing: array[int]
    """Record numbers by ``listings.listing_key``: the monthly listings' order."""
    months: array[int]
    """Per record: its listing's month code (``listings.listing_key``)."""
    verdicts: bytes
    """Per record: its verdict, as an index in ``Verdict``."""
    suffixes: bytes
    """Per record: its Pith suffix (``SUFFIX_LENGTH`` ASCII bytes; a summary's suffix is validated)."""
    head_digests: bytes
    """Per record: the ``head_digest`` of its head (``HEAD_DIGEST_SIZE`` bytes), what the alias bins
    note they are made of."""
    alias_hashes: array[int]
    """Every alias of every record (``PaperSummary.alias_hashes``): its hash..."""
    alias_owners: array[int]
    """...its record's number..."""
    alias_places: bytes
    """...and two bytes: its place among its record's aliases, and whether it has a page path."""
    changed_months: frozenset[int] | None
    """The month codes of the listings whose papers are not the last build's (patched orders, when
    that build listed every paper); None: any may be."""
    changed_aliases: frozenset[int] | None
    """The hashes of the aliases of the records gone or fresh since the last build (patched orders,
    when that build listed every paper and settled no contested path); None: any may have changed."""
    aliases_before: int
    """How many aliases the last build's records had (patched orders)."""
    changed_suffixes: frozenset[str] | None
    """The suffixes of the records gone or fresh since the last build (patched orders); None: any may have changed."""
    records_before: int
    """How many records the last build had (patched orders)."""
    served_before: ServedEndpoints | None
    """The integrity endpoints the last build served, renumbered, without those of records gone
    (patched orders, when that build served every endpoint named, each named once); else None."""

    def verified_suffixes(self) -> Iterator[str]:
        """The suffixes of the verified papers, in ``by_suffix`` order."""
        verdicts, suffixes, verified = self.verdicts, self.suffixes, _VERDICT_INDEX[Verdict.VERIFIED.value]
        for number in self.by_suffix:
            if verdicts[number] == verified:
                at = number * SUFFIX_LENGTH
                yield suffixes[at : at + SUFFIX_LENGTH].decode("ascii")

    def listing_plan(self, per_page: int) -> ListingPlan:
        """The monthly listings of the papers ``listing`` holds."""
        words = [v.value for v in Verdict]
        verdicts = self.verdicts
        return listing_plan(self.listing, self.months.__getitem__, lambda n: words[verdicts[n]], per_page)


_VERDICT_INDEX = {v.value: index for index, v in enumerate(Verdict)}


def _newest_key(submitted_at: str, suffix: str, number: int) -> bytes:
    """Sorted in reverse, the index order: equal instants and suffixes keep input order (the
    greater the last 4 bytes, the earlier the record)."""
    return order_key(submitted_at, suffix) + (LAST_RECORD - number).to_bytes(4, "big")


def _suffix_bytes(suffix: str) -> bytes:
    """Raises:
    OutputError: not a Pith suffix's length (a summary's suffix is validated when it is made)."""
    data = suffix.encode("ascii", "replace")
    if len(data) != SUFFIX_LENGTH:
        raise OutputError(f"a paper summary's suffix is not a Pith suffix: {suffix[:40]!r}")
    return data


def _suffix_key(suffix: str, name: str, number: int) -> bytes:
    return order_key(suffix, name) + number.to_bytes(4, "big")


def site_orders(spill: SummarySpill) -> SiteOrders:
    """The orders made whole: one pass over every summary's head."""
    claims = PathClaims()
    newest: list[bytes] = []
    by_suffix: list[bytes] = []
    listing: list[bytes] = []
    months = array("I")
    verdicts = bytearray()
    suffixes = bytearray()
    head_digests = bytearray()
    counts = {v.value: 0 for v in Verdict}
    alias_hashes, alias_owners, alias_places = array("Q"), array("I"), bytearray()
    papers = spill.heads_and_fields(
        "submitted_at", "suffix", "input", "verdict", "alias_paths", "alias_hashes"
    )
    for number, (head, (submitted_at, suffix, name, verdict, alias_paths, hashes)) in enumerate(papers):
        claims.add(number, claimed_paths(suffix, alias_paths))
        _add_aliases(number, hashes, alias_paths, alias_hashes, alias_owners, alias_places)
        newest.append(_newest_key(submitted_at, suffix, number))
        by_suffix.append(_suffix_key(suffix, name, number))
        key, month = listing_key(submitted_at, suffix, number)
        listing.append(key)
        months.append(month)
        verdicts.append(_VERDICT_INDEX[verdict])
        suffixes += _suffix_bytes(suffix)
        head_digests += head_digest(head)
        counts[verdict] += 1
    newest.sort(reverse=True)
    newest_first = array("I", (LAST_RECORD - n for n in record_numbers(newest)))
    del newest
    by_suffix.sort()
    listing.sort()
    return SiteOrders(
        claims=claims,
        newest_first=newest_first,
        by_suffix=record_numbers(by_suffix),
        counts=counts,
        listing=record_numbers(listing),
        months=months,
        verdicts=bytes(verdicts),
        suffixes=bytes(suffixes),
        head_digests=bytes(head_digests),
        alias_hashes=alias_hashes,
        alias_owners=alias_owners,
        alias_places=bytes(alias_places),
        changed_months=None,
        changed_aliases=None,
        aliases_before=0,
        changed_suffixes=None,
        records_before=0,
        served_before=None,
    )


def _add_aliases(
    number: int,
    hashes: Sequence[int],
    paths: Sequence[str | None],
    alias_hashes: array[int],
    alias_owners: array[int],
    alias_places: bytearray,
) -> None:
    for place, (hashed, path) in enumerate(zip(hashes, paths, strict=True)):
        alias_hashes.append(hashed)
        alias_owners.append(number)
        alias_places += bytes((place, path is not None))


def without(orders: SiteOrders, numbers: Collection[int], spill: SummarySpill) -> SiteOrders:
    """The orders without the papers ``numbers`` (those the listings leave out)."""
    counts = dict(orders.counts)
    for number in numbers:
        counts[spill.fields_of(number, "verdict")[0]] -= 1
    return replace(
        orders,
        newest_first=array("I", (n for n in orders.newest_first if n not in numbers)),
        by_suffix=array("I", (n for n in orders.by_suffix if n not in numbers)),
        listing=array("I", (n for n in orders.listing if n not in numbers)),
        counts=counts,
        changed_months=None,  # a month may list papers left out last time, or not list one it did
        changed_aliases=None,  # the alias map leaves them out
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ServedEndpoints:
    """The integrity endpoints a build served, in the order it linked them: by case-folded path."""

    records: array[int]
    """The record number of each one's paper."""
    paths: list[str]
    """Its site path (``urls.integrity_endpoint_path``)."""
    sha256s: bytes
    """Its file's SHA-256, 32 bytes each."""
    quiet: bool
    """Whether every endpoint named was served, each named by one paper (no warning)."""


# -- kept from the last build -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptOrders:
    """The last build's orders (``orders_file``), in its record numbers, and how they map to this build's."""

    newest_first: array[int]
    by_suffix: array[int]
    listing: array[int]
    months: array[int]
    suffixes: bytes
    head_digests: bytes
    claim_hashes: array[int]
    claim_owners: array[int]
    alias_hashes: array[int]
    alias_owners: array[int]
    alias_places: bytes
    listed_every_paper: bool
    """Whether that build's listings left none of its papers out."""
    contested: bool
    """Whether that build settled a path that two or more papers claimed."""
    endpoints: ServedEndpoints | None
    """The integrity endpoints that build served (in its record numbers), when it noted them."""
    renumber: array[int]
    """Per record of the last build: its number in this build, or ``GONE``."""


def orders_file(
    orders: SiteOrders, records: int, *, unlisted: int, contested: bool, endpoints: ServedEndpoints
) -> list[bytes]:
    """The orders of a build of ``records`` summaries, in parts of the file the next build's
    ``kept_orders`` reads, the first the SHA-256 of the rest (the orders of every record: before ``without``; ``unlisted``: how many papers its listings left
    out; ``contested``: whether it settled a path two or more papers claimed; ``endpoints``: the
    integrity endpoints it served)."""
    hashes, owners = orders.claims.sorted_arrays()
    paths = b"\n".join(path.encode("utf-8", "surrogatepass") for path in endpoints.paths)
    kept_endpoints = not any("\n" in path for path in endpoints.paths)
    head = {
        "aliases": len(orders.alias_hashes),
        "byteorder": sys.byteorder,
        "claims": len(hashes),
        "contested": contested,
        "endpoints": len(endpoints.records) if kept_endpoints else -1,
        "endpoint_paths": len(paths) if kept_endpoints else 0,
        "endpoints_quiet": endpoints.quiet,
        "records": records,
        "schema": ORDERS_SCHEMA,
        "unlisted": unlisted,
    }
    kept = (
        orders.newest_first,
        orders.by_suffix,
        orders.listing,
        orders.months,
        hashes,
        owners,
        orders.alias_hashes,
        orders.alias_owners,
    )
    parts = [a.tobytes() for a in kept]
    parts += [orders.alias_places, orders.suffixes, orders.head_digests]
    if kept_endpoints:
        parts += [endpoints.records.tobytes(), endpoints.sha256s, paths]
    parts = [orjson.dumps(head, option=orjson.OPT_SORT_KEYS), b"\n", *parts]
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return [digest.hexdigest().encode("ascii"), b"\n", *parts]


def kept_orders(data: bytes, renumber: array[int]) -> KeptOrders | None:
    """The orders ``orders_file`` wrote, with ``renumber`` (None: they are not whole, or not for
    the records ``renumber`` maps).

    The file's first line is the SHA-256 of the rest: any damage is found by that one pass over
    the bytes, rather than by checking each array (that the orders are permutations, that each
    owner is a record), which takes longer.
    """
    try:
        start = data.index(b"\n") + 1
        if hashlib.sha256(memoryview(data)[start:]).hexdigest().encode("ascii") != data[: start - 1]:
            return None
        end = data.index(b"\n", start)
        head = orjson.loads(data[start:end])
        records, claims = head["records"], head["claims"]
        if head["schema"] != ORDERS_SCHEMA or head["byteorder"] != sys.byteorder or records != len(renumber):
            return None
        aliases = head["aliases"]
        arrays = [array(code) for code in "IIIIqIQI"]
        at = end + 1
        counts = (records, records, records, records, claims, claims, aliases, aliases)
        for kept, count in zip(arrays, counts, strict=True):
            size = kept.itemsize * count
            kept.frombytes(data[at : at + size])
            at += size
        alias_places = data[at : at + 2 * aliases]
        at += 2 * aliases
        suffixes = data[at : at + records * SUFFIX_LENGTH]
        at += records * SUFFIX_LENGTH
        head_digests = data[at : at + records * HEAD_DIGEST_SIZE]
        at += records * HEAD_DIGEST_SIZE
        endpoints = _kept_endpoints(head, data[at:], records)
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
    newest, by_suffix, listing, months, hashes, owners, alias_hashes, alias_owners = arrays
    if (
        len(suffixes) != records * SUFFIX_LENGTH
        or len(head_digests) != records * HEAD_DIGEST_SIZE
        or len(alias_places) != 2 * aliases
        or len(owners) != claims
        or len(alias_owners) != aliases
    ):
        return None
    return KeptOrders(
        newest_first=newest,
        by_suffix=by_suffix,
        listing=listing,
        months=months,
        suffixes=suffixes,
        head_digests=head_digests,
        claim_hashes=hashes,
        claim_owners=owners,
        alias_hashes=alias_hashes,
        alias_owners=alias_owners,
        alias_places=alias_places,
        listed_every_paper=head["unlisted"] == 0,
        contested=head["contested"] is not False,
        endpoints=endpoints,
        renumber=renumber,
    )


def _kept_endpoints(head: dict[str, Any], data: bytes, records: int) -> ServedEndpoints | None:
    """The endpoints section of a kept orders file (None: it has none, or it is not whole)."""
    count, paths_bytes = head["endpoints"], head["endpoint_paths"]
    if count < 0:
        return None
    numbers = array("I")
    numbers.frombytes(data[: 4 * count])
    sha256s = data[4 * count : 36 * count]
    text = data[36 * count :]
    if len(numbers) != count or len(sha256s) != 32 * count or len(text) != paths_bytes:
        return None
    if numbers and max(numbers) >= records:
        return None
    paths = text.decode("utf-8", "surrogatepass").split("\n") if count else []
    if len(paths) != count:
        return None
    return ServedEndpoints(
        records=numbers, paths=paths, sha256s=sha256s, quiet=head["endpoints_quiet"] is True
    )


def patched_orders(spill: SummarySpill, kept: KeptOrders, fresh: Collection[int]) -> SiteOrders | None:
    """The orders ``site_orders`` makes, from the last build's and this build's ``fresh`` records
    (every other record is a reused one, ``kept.renumber`` says which); None when too many are fresh.

    Reused records keep their input order, so the renumbering is increasing: the kept per-record
    arrays lose the records gone and gain the fresh ones in place, and the arrays keyed by hash
    keep their order. Each is remade with slices and ``map`` over whole arrays, without a Python
    step per kept entry.
    """
    if len(fresh) > len(spill) // PATCHED_SHARE + 64:
        return None
    renumbering = _Renumbering.of(kept.renumber)
    renumber, gone = renumbering.renumber, renumbering.gone
    fresh_numbers = sorted(fresh)
    if _without(renumber, gone) != _without(array("I", range(len(spill))), fresh_numbers):
        return None  # not the reused records, each once, in input order
    fresh_heads = {n: spill.head(n) for n in fresh}
    heads = {
        n: head_fields(head, "submitted_at", "suffix", "input", "verdict", "alias_paths", "alias_hashes")
        for n, head in fresh_heads.items()
    }

    def newest_of(number: int) -> bytes:
        submitted_at, suffix = (
            heads[number][:2] if number in heads else spill.fields_of(number, "submitted_at", "suffix")
        )
        return _newest_key(submitted_at, suffix, number)

    def suffix_of(number: int) -> bytes:
        suffix, name = heads[number][1:3] if number in heads else spill.fields_of(number, "suffix", "input")
        return _suffix_key(suffix, name, number)

    def listing_of(number: int) -> bytes:
        submitted_at, suffix = (
            heads[number][:2] if number in heads else spill.fields_of(number, "submitted_at", "suffix")
        )
        return listing_key(submitted_at, suffix, number)[0]

    counts = {v.value: 0 for v in Verdict}
    counts[Verdict.VERIFIED.value] = len(renumber) - len(gone)  # a reused paper is a verified one
    verdicts = bytearray([_VERDICT_INDEX[Verdict.VERIFIED.value]]) * len(spill)
    kept_months, kept_suffixes = kept.months, kept.suffixes
    changed = {kept_months[old] for old in gone}
    changed_suffixes = {
        kept_suffixes[old * SUFFIX_LENGTH : (old + 1) * SUFFIX_LENGTH].decode("ascii") for old in gone
    }
    months = _spread(_without(kept_months, gone), fresh_numbers)
    suffixes = _spread(_without(kept_suffixes, gone, SUFFIX_LENGTH), fresh_numbers, SUFFIX_LENGTH)
    head_digests = _spread(
        _without(kept.head_digests, gone, HEAD_DIGEST_SIZE), fresh_numbers, HEAD_DIGEST_SIZE
    )
    claims = _renumbered_claims(kept, renumbering)
    alias_hashes, alias_owners, alias_places, changed_aliases = _renumbered_aliases(kept, renumbering)
    for number in fresh_numbers:
        submitted_at, suffix, _, verdict, alias_paths, hashes = heads[number]
        _add_aliases(number, hashes, alias_paths, alias_hashes, alias_owners, alias_places)
        changed_aliases.update(hashes)
        counts[verdict] += 1
        verdicts[number] = _VERDICT_INDEX[verdict]
        months[number] = month = listing_key(submitted_at, suffix, number)[1]
        suffixes[number * SUFFIX_LENGTH : (number + 1) * SUFFIX_LENGTH] = _suffix_bytes(suffix)
        head_digests[number * HEAD_DIGEST_SIZE : (number + 1) * HEAD_DIGEST_SIZE] = head_digest(
            fresh_heads[number]
        )
        changed.add(month)
        changed_suffixes.add(suffix)
        claims.add(number, claimed_paths(suffix, alias_paths))
    return SiteOrders(
        claims=claims,
        newest_first=_merged(_renumbered(kept.newest_first, renumbering), fresh, newest_of, descending=True),
        by_suffix=_merged(_renumbered(kept.by_suffix, renumbering), fresh, suffix_of, descending=False),
        counts=counts,
        listing=_merged(_renumbered(kept.listing, renumbering), fresh, listing_of, descending=False),
        months=months,
        verdicts=bytes(verdicts),
        suffixes=bytes(suffixes),
        head_digests=bytes(head_digests),
        alias_hashes=alias_hashes,
        alias_owners=alias_owners,
        alias_places=bytes(alias_places),
        changed_months=frozenset(changed) if kept.listed_every_paper else None,
        changed_aliases=(
            frozenset(changed_aliases) if kept.listed_every_paper and not kept.contested else None
        ),
        aliases_before=len(kept.alias_hashes),
        changed_suffixes=frozenset(changed_suffixes),
        records_before=len(renumber),
        served_before=_renumbered_endpoints(kept, renumbering),
    )


def _gone_places(numbers: array[int]) -> list[int]:
    """The places in ``numbers`` that hold ``GONE``, in order (found by the array's own search)."""
    places: list[int] = []
    at = 0
    for _ in range(numbers.count(GONE)):
        at = numbers.index(GONE, at)
        places.append(at)
        at += 1
    return places


@overload
def _without(values: array[int], places: Sequence[int], width: int = 1) -> array[int]: ...
@overload
def _without(values: bytes | bytearray, places: Sequence[int], width: int) -> bytearray: ...
def _without(
    values: array[int] | bytes | bytearray, places: Sequence[int], width: int = 1
) -> array[int] | bytearray:
    """``values`` (entries of ``width`` items: an array's numbers, or bytes) without the entries at
    the increasing ``places``, as a new array (or ``bytearray``)."""
    kept: Any = _zeros(values, 0)
    start = 0
    for at in places:
        kept += values[start * width : at * width]
        start = at + 1
    kept += values[start * width :]
    return kept  # type: ignore[no-any-return]


@overload
def _spread(values: array[int], numbers: Sequence[int], width: int = 1) -> array[int]: ...
@overload
def _spread(values: bytes | bytearray, numbers: Sequence[int], width: int) -> bytearray: ...
def _spread(
    values: array[int] | bytes | bytearray, numbers: Sequence[int], width: int = 1
) -> array[int] | bytearray:
    """``values`` (entries of ``width`` items) with a zero entry inserted so that one lands at each
    of the increasing ``numbers``, as a new array (or ``bytearray``)."""
    spread: Any = _zeros(values, 0)
    start = 0
    for number in numbers:
        take = number - len(spread) // width
        spread += values[start * width : (start + take) * width]
        start += take
        spread += _zeros(values, width)
    spread += values[start * width :]
    return spread  # type: ignore[no-any-return]


def _zeros(like: array[int] | bytes | bytearray, count: int) -> array[int] | bytearray:
    """``count`` zero items of the kind ``like`` holds: numbers of its type, or bytes."""
    return array(like.typecode, [0]) * count if isinstance(like, array) else bytearray(count)


@dataclass(frozen=True, slots=True)
class _Renumbering:
    """``KeptOrders.renumber`` and what makes it cheap to apply: the records gone, and whether every
    other record keeps its number (a paper added after the last, or changed in place)."""

    renumber: array[int]
    gone: list[int]
    in_place: bool

    @classmethod
    def of(cls, renumber: array[int]) -> _Renumbering:
        gone = _gone_places(renumber)
        unchanged = array("I", range(len(renumber)))
        for record in gone:
            unchanged[record] = GONE
        return cls(renumber, gone, renumber == unchanged)

    def owners(self, owners: array[int]) -> tuple[array[int], list[int]]:
        """``owners`` (record numbers of the last build) in this build's numbers, and the places of
        the entries whose records are gone (``GONE`` in the array)."""
        if not self.in_place or len(self.gone) > _FEW_GONE:
            numbers = array("I", map(self.renumber.__getitem__, owners))
            return numbers, _gone_places(numbers)
        numbers, places = owners[:], []
        for record in self.gone:  # each a search of the array in C
            at = -1
            with contextlib.suppress(ValueError):
                while True:
                    at = numbers.index(record, at + 1)
                    places.append(at)
        for at in places:
            numbers[at] = GONE
        return numbers, sorted(places)


_FEW_GONE = 16
"""Up to this many records gone, a renumbering that keeps every other number finds the entries of
the gone ones by a search each rather than mapping every entry."""


def _renumbered_endpoints(kept: KeptOrders, renumbering: _Renumbering) -> ServedEndpoints | None:
    before = kept.endpoints
    if before is None or not before.quiet:
        return None
    records, gone = renumbering.owners(before.records)
    paths = before.paths
    if gone:
        paths = [path for at, path in enumerate(paths) if records[at] != GONE]
    return ServedEndpoints(
        records=_without(records, gone),
        paths=paths,
        sha256s=bytes(_without(before.sha256s, gone, 32)),
        quiet=True,
    )


def _renumbered_aliases(
    kept: KeptOrders, renumbering: _Renumbering
) -> tuple[array[int], array[int], bytearray, set[int]]:
    """The kept aliases of the records this build reuses, and the hashes of those of the others."""
    owners, gone = renumbering.owners(kept.alias_owners)
    return (
        _without(kept.alias_hashes, gone),
        _without(owners, gone),
        _without(kept.alias_places, gone, 2),
        {kept.alias_hashes[at] for at in gone},
    )


def _renumbered(order: array[int], renumbering: _Renumbering) -> array[int]:
    numbers, gone = renumbering.owners(order)
    return _without(numbers, gone)


def _renumbered_claims(kept: KeptOrders, renumbering: _Renumbering) -> PathClaims:
    owners, gone = renumbering.owners(kept.claim_owners)
    return PathClaims(
        _without(kept.claim_hashes, gone),
        _without(owners, gone),
        settled=kept.listed_every_paper and not kept.contested,
    )


def _merged(
    order: array[int], fresh: Iterable[int], key: Callable[[int], bytes], *, descending: bool
) -> array[int]:
    """``order`` (sorted by ``key``, in reverse when ``descending``) with the records ``fresh`` in their places.

    Every search starts at the same middle, so the keys probed near the top of the search are
    read once (``probed``) however many records are fresh.
    """
    placed: list[tuple[int, bytes, int]] = []
    probed: dict[int, bytes] = {}
    for number in fresh:
        wanted = key(number)
        low, high = 0, len(order)
        while low < high:  # the first place whose record sorts after the fresh one
            middle = (low + high) // 2
            probe = probed.get(middle)
            if probe is None:
                probe = probed[middle] = key(order[middle])
            if (probe < wanted) if descending else (probe > wanted):
                high = middle
            else:
                low = middle + 1
        placed.append((low, wanted, number))
    placed.sort(key=lambda item: item[1], reverse=descending)  # records at one place, in order
    placed.sort(key=lambda item: item[0])
    merged = array("I")
    start = 0
    for place, _, number in placed:
        merged.extend(order[start:place])
        merged.append(number)
        start = place
    merged.extend(order[start:])
    return merged

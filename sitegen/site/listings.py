"""Which paper goes on which listing page: monthly listings with stable URLs (layer 2, pure).

Papers are listed by the month of their ``submitted_at`` (the signed record's, in UTC):
``/papers/<YYYY>/<MM>/`` holds a month's first ``papers_per_page`` papers, oldest first
(equal instants by suffix, then input order), ``/papers/<YYYY>/<MM>/2/`` the next ones, and
so on. Pages are counted from the month's first paper, so a paper submitted after every
other one of its month goes on the month's last page and moves no other paper: every other
page of every month lists the same papers as before. (When that last page was full, the
new paper opens the month's next page.)

``submitted_at`` is read as ISO 8601 (what ``datetime.fromisoformat`` accepts, ``Z`` included);
a time with an offset is converted to UTC, one without is taken as UTC. Text that is not such a
date (or one that leaves years 1 to 9999 in UTC) puts the paper in ``/papers/undated/``, listed
by suffix, then input order; the registry's records seen so far all carry a UTC date
(``docs/pith-format.md``, OBSERVED), so the undated listing is for damaged or hostile inputs.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sitegen.pith.report import Verdict
from sitegen.site.urls import LISTINGS_DIR, listing_page_text, month_dir_text

_PLAIN_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")

__all__ = [
    "UNDATED",
    "ListingEntry",
    "ListingPage",
    "ListingPlan",
    "Month",
    "listing_key",
    "listing_plan",
    "plan_listings",
    "utc_instant",
]


class ListingEntry(NamedTuple):
    """What the plan needs of one listed paper."""

    number: int
    """The paper's record number (its input order), which the plan lists."""
    submitted_at: str
    suffix: str
    """Its Pith suffix (base32)."""
    verdict: str
    """Its verdict's word (``Verdict.value``), counted per month."""


def utc_instant(submitted_at: str) -> str | None:
    """``submitted_at`` in UTC as fixed-width text (``YYYY-MM-DDTHH:MM:SS.ffffff``) that sorts as time
    does, or None when it is not a date.

    >>> utc_instant("2026-07-01T12:00:00Z")
    '2026-07-01T12:00:00.000000'
    >>> utc_instant("2026-07-01T01:30:00+02:00")
    '2026-06-30T23:30:00.000000'
    >>> utc_instant("1997-07-01")
    '1997-07-01T00:00:00.000000'
    >>> utc_instant("2026-02-30T00:00:00Z") is None
    True
    >>> utc_instant("July 2026") is None
    True
    """
    if _PLAIN_UTC.fullmatch(submitted_at) is not None:  # the registry's own shape: already UTC, to the second
        try:
            datetime.fromisoformat(submitted_at)  # a real date and time (no 30 February)
        except ValueError:
            return None
        return submitted_at[:19] + ".000000"
    try:
        moment = datetime.fromisoformat(submitted_at)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601, or an offset that leaves years 1 to 9999
        return None
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Month:
    """One month's listing (or the undated one): where its papers are in ``ListingPlan.order``."""

    year: int | None
    """None for the undated listing (and then ``month`` too)."""
    month: int | None
    start: int
    """Index in ``ListingPlan.order`` of the month's first (oldest) paper."""
    count: int
    counts: Mapping[str, int]
    """Papers by verdict word, every verdict present (0 when none)."""
    page_count: int

    @property
    def directory(self) -> str:
        """``papers/<YYYY>/<MM>`` or ``papers/undated``: its first page's directory."""
        return month_dir_text(self.year, self.month)

    def page_directories(self) -> list[str]:
        """The directory of each of its pages, first page first."""
        return [listing_page_text(self.directory, n) for n in range(1, self.page_count + 1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingPage:
    """One page of a month's listing: ``ListingPlan.order[start:end]``, oldest first."""

    month: Month
    number: int
    """From 1, counted from the month's first paper."""
    start: int
    end: int
    first_position: int
    """The position in its month (from 1) of the page's first paper."""
    directory: str
    earlier: str | None
    """The directory of the month's page before it; None on the first page."""
    later: str | None
    """The directory of the month's page after it; None on the last page."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingPlan:
    """Every listing page and the papers on it."""

    order: array[int]
    """Record numbers, month after month (oldest month first, the undated ones last), oldest first inside each."""
    months: tuple[Month, ...]
    """Newest month first, the undated listing (when there is one) last: ``/papers/``'s order."""
    per_page: int

    @property
    def newest_month(self) -> Month | None:
        """The latest month with a paper (the front page links to it); None when no paper is dated."""
        return next((m for m in self.months if m.year is not None), None)

    def pages(self) -> Iterator[ListingPage]:
        """Every page of every month, in ``months`` order, first page first."""
        for month in self.months:
            directories = month.page_directories()
            for index, directory in enumerate(directories):
                start = month.start + index * self.per_page
                yield ListingPage(
                    month=month,
                    number=index + 1,
                    start=start,
                    end=min(start + self.per_page, month.start + month.count),
                    first_position=index * self.per_page + 1,
                    directory=directory,
                    earlier=directories[index - 1] if index else None,
                    later=directories[index + 1] if index + 1 < len(directories) else None,
                )

    def directories(self) -> list[str]:
        """``papers`` and every listing page's directory, in ``months`` order: the sitemap's list."""
        return [LISTINGS_DIR] + [d for month in self.months for d in month.page_directories()]


UNDATED = 0
"""The month code (``listing_key``) of the undated listing; a month's is ``year * 100 + month``."""


def listing_key(submitted_at: str, suffix: str, number: int) -> tuple[bytes, int]:
    """A paper's place in the listings as one bytes key that sorts as (UTC instant, suffix, record
    number) does, the undated after every dated one, and its month code (``UNDATED`` or
    ``year * 100 + month``). Callers pass validated suffixes (base32, as ``paper_dir``'s)."""
    instant = utc_instant(submitted_at)
    if instant is None:
        return f"1{suffix}\x00".encode("ascii") + number.to_bytes(4, "big"), UNDATED
    return f"0{instant}{suffix}\x00".encode("ascii") + number.to_bytes(4, "big"), int(
        instant[:4] + instant[5:7]
    )


def plan_listings(papers: Iterable[ListingEntry], per_page: int) -> ListingPlan:
    """Put each paper on exactly one page of its month's listing (``listing_plan`` of the papers sorted
    by ``listing_key``), so a corpus of a million papers sorts as a list of small bytes objects.

    Raises:
        ValueError: ``per_page`` is not positive.
    """
    keys: list[bytes] = []
    months: dict[int, int] = {}
    verdicts: dict[int, str] = {}
    for number, submitted_at, suffix, verdict in papers:
        key, months[number] = listing_key(submitted_at, suffix, number)
        keys.append(key)
        verdicts[number] = verdict
    keys.sort()
    order = array("I", (int.from_bytes(key[-4:], "big") for key in keys))
    return listing_plan(order, months.__getitem__, verdicts.__getitem__, per_page)


def listing_plan(
    order: array[int], month_of: Callable[[int], int], verdict_of: Callable[[int], str], per_page: int
) -> ListingPlan:
    """The listing plan of the papers ``order`` (record numbers sorted by ``listing_key``), with each
    one's month code and verdict word.

    Raises:
        ValueError: ``per_page`` is not positive.
    """
    if per_page < 1:
        raise ValueError(f"papers_per_page: must be at least 1, got {per_page}")
    months: list[Month] = []
    start = 0
    for code, group in itertools.groupby(order, key=month_of):
        counts = {v.value: 0 for v in Verdict}
        count = 0
        for number in group:
            counts[verdict_of(number)] += 1
            count += 1
        year, month = (None, None) if code == UNDATED else divmod(code, 100)
        months.append(_month(year, month, start, count, counts, per_page))
        start += count
    dated = [m for m in months if m.year is not None]
    dated.reverse()
    return ListingPlan(
        order=order, months=(*dated, *(m for m in months if m.year is None)), per_page=per_page
    )


def _month(
    year: int | None, month: int | None, start: int, count: int, counts: Mapping[str, int], per_page: int
) -> Month:
    return Month(
        year=year, month=month, start=start, count=count, counts=counts, page_count=-(-count // per_page)
    )

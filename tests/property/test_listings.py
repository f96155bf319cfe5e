"""The listing plan for any generated papers (``sitegen.site.listings``).

- every paper is on exactly one page, of the month its ``submitted_at`` falls in (UTC), or undated;
- a month's pages are counted from its first paper: page k holds its papers (k-1)p+1 to kp in
  (UTC instant, suffix, input order), whatever else is in the corpus;
- a paper newer than every other of its month changes that month's last page only (or opens its
  next page): every other page of every month lists the same papers as before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from sitegen.pith.report import Verdict
from sitegen.site.listings import ListingEntry, ListingPlan, plan_listings, utc_instant

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
suffixes = st.text(st.sampled_from(BASE32[:2]), min_size=26, max_size=26)
"""Two letters only, so papers often share a suffix and the input order decides."""
verdicts = st.sampled_from([v.value for v in Verdict])
offsets = st.sampled_from([timedelta(0), timedelta(hours=-5), timedelta(hours=2, minutes=30)])
moments = st.datetimes(
    min_value=datetime(2025, 11, 1), max_value=datetime(2026, 2, 28), timezones=offsets.map(timezone)
)
dated = st.builds(
    lambda m, z: m.isoformat().replace("+00:00", "Z" if z else "+00:00"), moments, st.booleans()
)
"""ISO 8601 times around a year's end, with ``Z``, ``+00:00`` or another offset (so some change month in UTC)."""
undated = st.sampled_from(["", "July 2026", "2026-13-01T00:00:00Z", "0000-01-01"])
per_pages = st.integers(min_value=1, max_value=4)


def _entries(draw: st.DrawFn, dates: st.SearchStrategy[str]) -> list[ListingEntry]:
    papers = draw(st.lists(st.tuples(dates, suffixes, verdicts), max_size=30))
    return [ListingEntry(n, at, suffix, verdict) for n, (at, suffix, verdict) in enumerate(papers)]


@st.composite
def corpora(draw: st.DrawFn) -> list[ListingEntry]:
    return _entries(draw, dated | undated)


def _month_of(entry: ListingEntry) -> tuple[int, int] | None:
    """The month, worked out apart from the plan: the moment in UTC, or None when it is not a date."""
    try:
        moment = datetime.fromisoformat(entry.submitted_at)
    except ValueError:
        return None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    return moment.year, moment.month


def _pages(plan: ListingPlan) -> dict[str, list[int]]:
    """Each page's directory and the record numbers it lists, in order."""
    return {page.directory: list(plan.order[page.start : page.end]) for page in plan.pages()}


@given(corpora(), per_pages)
def test_every_paper_is_on_exactly_one_page_of_its_month(papers: list[ListingEntry], per_page: int) -> None:
    """Each record number is listed once, on a page of the month its date falls in (UTC), or undated."""
    plan = plan_listings(papers, per_page)
    placed = {number: page.month for page in plan.pages() for number in plan.order[page.start : page.end]}
    assert sorted(plan.order) == [p.number for p in papers]
    assert sorted(placed) == [p.number for p in papers]
    for paper in papers:
        month = placed[paper.number]
        assert _month_of(paper) == (None if month.year is None else (month.year, month.month))
        assert month.counts[paper.verdict] == sum(
            1 for p in papers if placed[p.number] is month and p.verdict == paper.verdict
        )
    dated_months = [(m.year, m.month) for m in plan.months if m.year is not None]
    assert dated_months == sorted(dated_months, reverse=True)
    assert all(m.year is not None for m in plan.months[:-1])


@given(corpora(), per_pages)
def test_pages_are_counted_from_the_months_first_paper(papers: list[ListingEntry], per_page: int) -> None:
    """Page k of a month lists its papers (k-1)p+1 to kp, oldest first (then suffix, then input order)."""
    plan = plan_listings(papers, per_page)
    for month in plan.months:
        members = [
            p for p in papers if _month_of(p) == (None if month.year is None else (month.year, month.month))
        ]
        members.sort(key=lambda p: (utc_instant(p.submitted_at) or "", p.suffix, p.number))
        pages = [page for page in plan.pages() if page.month is month]
        assert [page.number for page in pages] == list(range(1, -(-len(members) // per_page) + 1))
        for page in pages:
            first = (page.number - 1) * per_page
            assert page.first_position == first + 1
            assert list(plan.order[page.start : page.end]) == [
                p.number for p in members[first : first + per_page]
            ]
            assert (page.earlier is None) == (page.number == 1)
            assert (page.later is None) == (page is pages[-1])


@st.composite
def corpus_and_newest(draw: st.DrawFn) -> tuple[list[ListingEntry], ListingEntry]:
    """Papers in UTC on days 1 to 27, undated ones too, and a new paper on day 28 of one of their months."""
    utc = st.datetimes(min_value=datetime(2025, 11, 1), max_value=datetime(2026, 2, 27, 23, 59)).filter(
        lambda m: m.day <= 27
    )
    papers = _entries(draw, utc.map(lambda m: m.isoformat() + "Z") | undated)
    months = sorted({(m.year, m.month) for p in papers if (m := _parsed(p)) is not None})
    year, month = draw(st.sampled_from(months or [(2026, 1)]))
    at = datetime(year, month, 28, draw(st.integers(0, 23))).isoformat() + "Z"
    return papers, ListingEntry(len(papers), at, draw(suffixes), draw(verdicts))


def _parsed(entry: ListingEntry) -> datetime | None:
    try:
        return datetime.fromisoformat(entry.submitted_at)
    except ValueError:
        return None


@given(corpus_and_newest(), per_pages)
def test_a_paper_newest_in_its_month_changes_only_that_months_last_page(
    corpus: tuple[list[ListingEntry], ListingEntry], per_page: int
) -> None:
    """Every page but the month's last one (and the page it may open) lists the same papers after the addition."""
    papers, newest = corpus
    before = _pages(plan_listings(papers, per_page))
    after_plan = plan_listings([*papers, newest], per_page)
    after = _pages(after_plan)
    page = next(p for p in after_plan.pages() if newest.number in after_plan.order[p.start : p.end])
    assert after[page.directory][-1] == newest.number and page.later is None
    changed = {d for d in before.keys() | after.keys() if before.get(d) != after.get(d)}
    assert changed == {page.directory}
    if (
        page.earlier is not None and page.directory not in before
    ):  # the new paper opened the month's next page
        assert len(before[page.earlier]) == per_page

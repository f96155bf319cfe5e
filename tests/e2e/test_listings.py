"""Monthly listings with stable URLs, on built sites: ``/papers/<YYYY>/<MM>/`` pages counted from the
month's first paper, ``/papers/`` with the months, ``/`` with the newest papers; a paper added as
the newest of its month changes that month's last page only; ``check`` reads every listing page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.cli.helpers import run_cli
from tests.conftest import sitemap_urls
from tests.e2e.sitebuild import build, reseal, tree
from tests.synth import SigningKey

SITE_YAML = "title: T\nbase_url: https://mirror.example/m/\npapers_per_page: 2\n"


def _page(out: Path, rel: str) -> str:
    return (out / rel / "index.html").read_text(encoding="utf-8")


def _titles(page: str) -> list[str]:
    """The titles of a listing page's rows, in order."""
    return re.findall(r'<td><a href="[^"]*pith/[A-Z2-7]{26}/">([^<]*)</a>', page)


def _listings(out: Path) -> dict[str, bytes]:
    """The bytes of every listing page: ``/`` and everything under ``/papers/``."""
    return {rel: data for rel, data in tree(out).items() if rel == "index.html" or rel.startswith("papers/")}


def test_month_pages_list_their_papers_counted_from_the_months_first(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """Five July papers make three July pages, oldest first; a date with an offset is listed by its UTC
    month; an unreadable date is undated; /papers/ lists the months newest first, / the newest papers."""
    dates = {
        "July 3": "2026-07-03T00:00:00Z",
        "July 1": "2026-07-01T00:00:00Z",
        "July 5": "2026-07-05T00:00:00Z",
        "July 2": "2026-07-02T00:00:00Z",
        "July 4": "2026-07-04T00:00:00Z",
        "June 30 in UTC": "2026-07-01T01:00:00+02:00",
        "August 1 in UTC": "2026-07-31T23:30:00-01:00",
        "No such month": "2026-13-01T00:00:00Z",
    }
    states = {
        f"{n}.state.json": new_paper(signing_key, f"2607.1000{n}", title=title, submitted_at=at)
        for n, (title, at) in enumerate(dates.items())
    }
    out = tmp_path / "site"
    proc = build(make_content(states, keys=[signing_key], site_yaml=SITE_YAML), out)
    assert proc.returncode == 0, proc.stderr  # the year the Pith number takes is there; the month is not
    assert _titles(_page(out, "papers/2026/07")) == ["July 1", "July 2"]
    assert _titles(_page(out, "papers/2026/07/2")) == ["July 3", "July 4"]
    assert _titles(_page(out, "papers/2026/07/3")) == ["July 5"]
    assert not (out / "papers/2026/07/4").exists()
    assert _titles(_page(out, "papers/2026/06")) == ["June 30 in UTC"]
    assert _titles(_page(out, "papers/2026/08")) == ["August 1 in UTC"]
    undated = _page(out, "papers/undated")
    assert _titles(undated) == ["No such month"] and "Undated papers" in undated
    second = _page(out, "papers/2026/07/2")
    assert "Papers of July 2026, page 2" in second and "papers 3 to 4" in second
    assert 'href="../../../../papers/2026/07/">← earlier<' in second
    assert 'href="../../../../papers/2026/07/3/">later →<' in second
    assert "later →" not in _page(out, "papers/2026/07/3") and "← earlier" not in _page(out, "papers/2026/07")
    months = _page(out, "papers")
    order = [
        months.index(f'id="{anchor}"') for anchor in ("m-2026-08", "m-2026-07", "m-2026-06", "m-undated")
    ]
    assert order == sorted(order)
    july = months[months.index('id="m-2026-07"') :]
    july = july[: july.index("</tr>")]
    assert "<td>5</td>" in july and "Verified</span> 5" in july
    assert 'href="../papers/2026/07/3/">3<' in july
    front = _page(out, ".")
    assert _titles(front) == ["No such month", "August 1 in UTC"]  # newest first by submitted_at, as before
    assert 'href="./papers/2026/08/">August 2026</a>, the newest month' in front
    assert 'href="./papers/">Every paper, month by month</a> (8 papers' in front
    sitemap = sitemap_urls(out)
    for rel in ("papers/", "papers/2026/07/", "papers/2026/07/3/", "papers/undated/"):
        assert f"https://mirror.example/m/{rel}" in sitemap
    assert not (out / "papers" / "2").exists()


def test_adding_the_newest_paper_of_a_month_changes_only_that_months_last_page(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """A rebuild with one more July paper, newer than the others, changes of the listing pages only July's
    last page, / and /papers/; when that page was full, the paper opens the next page and the full page
    gains its link there, its rows unchanged."""
    states = {
        f"{day}.state.json": new_paper(
            signing_key,
            f"2607.200{day:02d}",
            title=f"Paper {day}",
            submitted_at=f"2026-{month}-{day:02d}T09:00:00Z",
        )
        for day, month in ((1, "06"), (2, "06"), (3, "06"), (4, "07"), (5, "07"), (6, "07"))
    }
    content = make_content(states, keys=[signing_key], site_yaml=SITE_YAML)
    out = tmp_path / "site"
    assert build(content, out).returncode == 0
    first = _listings(out)

    def add(day: int) -> dict[str, bytes]:
        paper = new_paper(
            signing_key, f"2607.300{day}", title=f"Paper {day}", submitted_at=f"2026-07-{day}T00:00:00Z"
        )
        (content / "states" / f"{day}.state.json").write_bytes(paper)
        assert build(content, out).returncode == 0
        return _listings(out)

    second = add(20)
    changed = {rel for rel in first.keys() | second.keys() if first.get(rel) != second.get(rel)}
    assert changed == {"index.html", "papers/index.html", "papers/2026/07/2/index.html"}
    assert _titles(second["papers/2026/07/2/index.html"].decode()) == ["Paper 6", "Paper 20"]
    third = add(25)
    changed = {rel for rel in second.keys() | third.keys() if second.get(rel) != third.get(rel)}
    assert changed == {
        "index.html",
        "papers/index.html",
        "papers/2026/07/2/index.html",
        "papers/2026/07/3/index.html",
    }
    full_before, full_after = (
        second["papers/2026/07/2/index.html"].decode(),
        third["papers/2026/07/2/index.html"].decode(),
    )
    assert (
        _titles(full_after) == _titles(full_before)
        and "later →" in full_after
        and "later →" not in full_before
    )
    assert _titles(third["papers/2026/07/3/index.html"].decode()) == ["Paper 25"]


def test_check_reads_every_listing_page(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """The built site checks clean; a month page's row rewritten to show a verified paper as failed is
    named (index.entry, that page) even though / still shows it right."""
    states = {
        f"{n}.state.json": new_paper(
            signing_key, f"2607.4000{n}", title=f"Paper {n}", submitted_at=f"2026-0{n}-01T00:00:00Z"
        )
        for n in range(1, 4)
    }
    content = make_content(states, keys=[signing_key], site_yaml=SITE_YAML)
    out = tmp_path / "site"
    assert build(content, out).returncode == 0
    proc = run_cli("check", out, "--keys", content / "keys")
    assert proc.returncode == 0, proc.stderr
    month = out / "papers" / "2026" / "01" / "index.html"
    page = month.read_text(encoding="utf-8")
    verified = '<span class="verdict verdict-verified"><span class="verdict-icon" aria-hidden="true">✔</span> Verified</span>'
    assert page.count(verified) == 1
    month.write_text(
        page.replace(
            verified,
            '<span class="verdict verdict-failed"><span class="verdict-icon" aria-hidden="true">✘</span> Failed</span>',
        ),
        encoding="utf-8",
    )
    reseal(out)
    proc = run_cli("check", out, "--keys", content / "keys")
    assert proc.returncode == 1
    problems = [line for line in proc.stderr.splitlines() if line.startswith("FAIL ")]
    assert len(problems) == 1 and problems[0].startswith(
        "FAIL papers/2026/01/index.html: index.entry: the row for pith:2026:"
    )
    assert problems[0].endswith("shows 'Paper 1' as failed; the state gives 'Paper 1' as verified")

"""The sitemap is an index of parts keyed so they stay put: the site's pages, each year's listings,
and the verified papers of each suffix prefix; every URL once, and a new paper changes only its part."""

from __future__ import annotations

import dataclasses
import re

from sitegen.pith.keys import Keyring
from sitegen.pith.report import Verdict
from sitegen.render import mirror_files as feeds
from sitegen.site.config import load_site_config
from sitegen.site.manifest_bins import prefix_length
from sitegen.site.urls import PAPER_FILES
from tests.unit.test_search import summary

CONFIG = load_site_config("title: T\nbase_url: https://mirror.example/m/\nfeed_entries: 3\n")
BASE = "https://mirror.example/m"
LISTINGS = ["papers", "papers/2025/12", "papers/2026/07", "papers/2026/07/2", "papers/undated"]


def _files(papers: list[feeds.FeedPaper]) -> dict[str, str]:
    verified = sorted(p.suffix for p in papers if p.verdict is Verdict.VERIFIED)
    files = feeds.mirror_files(CONFIG, Keyring(), papers, verified, ["about"], LISTINGS, len(verified))
    made = [(f.rel, f.make()) if isinstance(f, feeds.MadeFile) else f for f in files]
    return {str(rel): data.decode() for rel, data in made}


def _locs(xml: str) -> list[str]:
    return re.findall(r"<loc>(.*?)</loc>", xml)


def test_the_index_lists_the_site_part_year_parts_and_prefix_parts_every_url_once() -> None:
    papers = [summary(n) for n in range(40)]
    papers[5] = dataclasses.replace(papers[5], verdict=Verdict.FAILED)
    files = _files(papers)
    parts = [url.removeprefix(f"{BASE}/") for url in _locs(files["sitemap.xml"])]
    assert parts[:3] == ["sitemaps/site.xml", "sitemaps/papers-2025.xml", "sitemaps/papers-2026.xml"]
    assert all(re.fullmatch(r"sitemaps/pith-[A-Z2-7]\.xml", part) for part in parts[3:])
    assert _locs(files["sitemaps/site.xml"]) == [
        f"{BASE}/{path}" for path in ("", "verification/", "about/", "papers/", "papers/undated/")
    ]
    assert _locs(files["sitemaps/papers-2026.xml"]) == [
        f"{BASE}/papers/2026/07/",
        f"{BASE}/papers/2026/07/2/",
    ]
    length = prefix_length(39)
    listed: list[str] = []
    for part in parts[3:]:
        prefix = part.removeprefix("sitemaps/pith-").removesuffix(".xml")
        urls = _locs(files[part])
        assert urls and all(url.startswith(f"{BASE}/pith/{prefix}") and len(prefix) == length for url in urls)
        listed += urls
    want = sorted(f"{BASE}/pith/{p.suffix}/" for p in papers if p.verdict is Verdict.VERIFIED)
    assert listed == want, "every verified paper once, in suffix order; the failed one kept out"
    assert sorted(set(files) - {"sitemap.xml", *parts}) == sorted(
        ["feed.xml", "pith-mirrors.json", "robots.txt"]
    )
    assert len(re.findall("<entry>", files["feed.xml"])) == 3, "feed_entries papers in the feed"
    assert not set(PAPER_FILES) & set(files)


def test_a_new_paper_changes_only_its_own_part() -> None:
    papers = [summary(n) for n in range(60)]
    before = _files(papers)
    newcomer = summary(1000)
    after = _files([*papers, newcomer])
    changed = {name for name in after if after[name] != before.get(name)}
    own = f"sitemaps/pith-{newcomer.suffix[:1]}.xml"
    assert changed <= {own, "sitemap.xml", "feed.xml", "pith-mirrors.json"}
    assert own in changed

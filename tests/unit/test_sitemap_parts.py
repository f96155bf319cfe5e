"""A sitemap past ``SITEMAP_URLS`` URLs is split into parts under an index, every URL once, in order."""

from __future__ import annotations

import re

import pytest

from sitegen.pith.keys import Keyring
from sitegen.render import mirror_files as feeds
from sitegen.site.config import load_site_config
from tests.unit.test_search import summary


def test_sitemap_parts_list_every_url_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 3 URLs a part, 7 papers and one listing page besides the root make 4 parts whose URLs are the whole list."""
    monkeypatch.setattr(feeds, "SITEMAP_URLS", 3)
    config = load_site_config("title: T\nbase_url: https://mirror.example/m/\n")
    papers = [summary(n) for n in range(7)]
    by_suffix = sorted(papers, key=lambda p: p.suffix)
    files = {
        str(rel): data.decode()
        for rel, data in feeds.mirror_files(config, Keyring(), papers, by_suffix, [], ["papers"], len(papers))
    }
    base = "https://mirror.example/m"
    want = [f"{base}/", f"{base}/verification/", f"{base}/papers/"]
    want += [f"{base}/pith/{p.suffix}/" for p in by_suffix]
    parts = [f"sitemap-{n}.xml" for n in range(1, 5)]
    assert re.findall(r"<loc>(.*?)</loc>", files["sitemap.xml"]) == [f"{base}/{name}" for name in parts]
    assert [url for name in parts for url in re.findall(r"<loc>(.*?)</loc>", files[name])] == want
    assert "sitemap-5.xml" not in files

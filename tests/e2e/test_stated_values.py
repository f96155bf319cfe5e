"""One rule for showing facts: only what a check verified is called verified, on every surface.

Each test builds a site from states it makes (signed with test keys) and reads the built pages,
feed, sitemap and JSON endpoints as a visitor or a crawler would.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitegen.build.pipeline import build_site
from tests.conftest import site_aliases, sitemap_urls
from tests.e2e.sitebuild import report_entries
from tests.synth import SigningKey, dump_state, make_state, resign_state, restate_hash

SITE_YAML = "title: Test mirror\nbase_url: https://mirror.example/\n"
KEY = SigningKey.from_seed(b"stated", "stated-key")


def _paper(seed_state: dict[str, Any], source_id: str, title: str = "A test paper") -> dict[str, Any]:
    state: dict[str, Any] = make_state(
        seed_state,
        KEY,
        source_id=source_id,
        title=title,
        authors=["Ada Lovelace"],
        submitted_at="2026-07-01T15:40:12Z",
        abstract="An honest abstract.",
    )
    return state


def _snapshot_paper(state: dict[str, Any]) -> dict[str, Any]:
    paper: dict[str, Any] = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["paper"]
    return paper


def _build(make_content: Callable[..., Path], tmp_path: Path, states: dict[str, dict[str, Any]]) -> Path:
    content = make_content(
        {name: dump_state(state) for name, state in states.items()}, keys=[KEY], site_yaml=SITE_YAML
    )
    out = tmp_path / "out"
    build_site(content, out, jobs=1)
    return out


def _page_of(out: Path, state: dict[str, Any]) -> str:
    suffix = state["pith_number"].rsplit(":", 1)[1]
    return (out / "pith" / suffix / "index.html").read_text(encoding="utf-8")


def _head(page: str) -> str:
    return page.split("</head>", 1)[0]


def test_unsigned_edits_keep_the_verdict_and_are_shown_as_stated(
    make_content: Callable[..., Path], seed_state: dict[str, Any], tmp_path: Path
) -> None:
    """Authors, abstract, title case, signed_at and an invented alias kind edited (state hash
    recomputed): still verified, and none of those values is presented as verified anywhere."""
    state = _paper(seed_state, "2607.00001", title="A test paper")
    paper = _snapshot_paper(state)
    paper.update(authors_text="Mallory Forger", abstract_excerpt="Forged abstract.", title="A TEST PAPER")
    state["current"]["record_created"]["payload"]["receipt"]["signed_at"] = "1999-01-01T00:00:00Z"
    state["current"]["source_aliases"].append(
        {"alias_kind": "zz_invented", "alias_value": "x-1", "created_at": "2026-07-01T00:00:00Z"}
    )
    state = restate_hash(state)
    out = _build(make_content, tmp_path, {"p.state.json": state})
    report = json.loads((out / "verification-report.json").read_text(encoding="utf-8"))
    assert report["counts"]["verified"] == 1
    page = _page_of(out, state)
    head = _head(page)
    assert "citation_author" not in head and "Mallory" not in head
    description = re.search(r'<meta name="description" content="([^"]*)"', head)
    assert (
        description is not None and "stated by the registry (not signed): Forged abstract." in description[1]
    )
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', head, re.S)[1])  # type: ignore[index]
    assert "author" not in ld and "abstract" not in ld
    assert "Title: verified up to case" in page
    assert 'Mallory Forger <span class="muted">(authors: <span class="stated">stated by the registry' in page
    assert '1999-01-01T00:00:00Z</time> <span class="muted">(the receipt\'s <code>signed_at</code>' in page
    assert "the signature does not cover it" in page
    assert "zz_invented" not in {a["alias_kind"] for a in site_aliases(out)}
    suffix = state["pith_number"].rsplit(":", 1)[1]
    own = json.loads((out / "pith" / suffix / "aliases.json").read_text(encoding="utf-8"))
    checks = {a["alias_kind"]: a["check"] for a in own["aliases"]}
    assert checks["zz_invented"] == "not_checkable" and checks["arxiv"] == "verified"
    assert not list(out.rglob("x-1"))
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert "(verified)" not in feed and "<author><name>Mallory" not in feed
    assert "Authors, stated by the registry (not signed): Mallory Forger." in feed
    assert "the title is bound up to case" in feed


def test_a_paper_that_is_not_verified_stays_out_of_the_webs_indexes(
    make_content: Callable[..., Path], seed_state: dict[str, Any], tmp_path: Path
) -> None:
    """A state whose title was replaced is failed: noindex, no Scholar/Open Graph/JSON-LD metadata,
    not in the sitemap or the feed, its page leads with the verdict and the failing check, and its
    aliases.json calls no alias verified."""
    good = _paper(seed_state, "2607.00002", title="A good paper")
    bad = _paper(seed_state, "2607.00003", title="The real title")
    _snapshot_paper(bad)["title"] = "A replaced title"
    bad = restate_hash(bad)
    out = _build(make_content, tmp_path, {"good.state.json": good, "bad.state.json": bad})
    page = _page_of(out, bad)
    head = _head(page)
    assert '<meta name="robots" content="noindex">' in head
    assert "citation_" not in head and "og:" not in head and "ld+json" not in head
    body = page.split("<main", 1)[1]
    assert body.index("verdict-box-failed") < body.index('<h1 id="paper-title">')
    assert "<code>title.canon_sha256</code>" in body[: body.index('<h1 id="paper-title">')]
    sitemap = sitemap_urls(out)
    bad_suffix = bad["pith_number"].rsplit(":", 1)[1]
    good_suffix = good["pith_number"].rsplit(":", 1)[1]
    assert f"https://mirror.example/pith/{good_suffix}/" in sitemap
    assert not any(bad_suffix in url for url in sitemap)
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert good_suffix in feed and bad_suffix not in feed
    own = json.loads((out / "pith" / bad_suffix / "aliases.json").read_text(encoding="utf-8"))
    assert own["status"] == "failed"
    assert "verified" not in {a["check"] for a in own["aliases"]}
    good_page = _page_of(out, good)
    assert '<meta name="robots" content="noindex">' not in _head(good_page)
    assert 'name="citation_title"' in _head(good_page)


def test_arxiv_aliases_of_a_record_whose_source_is_not_arxiv_are_not_checkable_and_not_routed(
    make_content: Callable[..., Path], seed_state: dict[str, Any], tmp_path: Path
) -> None:
    """A signed record from another source listing arXiv and DOI aliases: they derive from nothing,
    so they are not checkable, get no redirect page and are not in the site-wide alias map."""
    state = copy.deepcopy(_paper(seed_state, "2607.00004"))
    state["current"]["record_created"]["payload"]["canonical_record"]["source"]["kind"] = "other"
    state = resign_state(state, KEY)
    for alias in state["current"]["source_aliases"]:  # resign_state keeps them as they were
        assert alias["alias_kind"] in {"arxiv", "arxiv_version", "doi"} or alias["alias_kind"].startswith(
            "pith_short"
        )
    out = _build(make_content, tmp_path, {"o.state.json": state})
    (entry,) = report_entries(out).values()
    statuses = {c["id"]: c["status"] for c in entry["checks"]}
    assert statuses["alias.arxiv"] == "not_checkable" and statuses["alias.doi"] == "not_checkable"
    assert not (out / "arxiv" / "2607.00004").exists()
    assert not (out / "doi" / "10.48550").exists()
    kinds = {a["alias_kind"] for a in site_aliases(out)}
    assert kinds == {"pith_short_8", "pith_short_12", "pith_short_16"}

"""Output safety: hostile strings in every displayed field never reach a page, an attribute or JSON-LD raw."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sitegen.build.pipeline import build_site
from sitegen.pith.report import Verdict
from tests.e2e.sitebuild import report_entries
from tests.synth import SigningKey, dump_state, make_state, resign_state

KEY = SigningKey.from_seed(b"hostile-output", "hostile-output-key")

PAYLOADS = {
    "script": '<script>alert("x")</script>',
    "attribute": '"><img src=x onerror=alert(1)>',
    "single-quote": "'><svg onload=alert(1)>",
    "json-ld-breakout": "</script><script>alert(2)</script>",
    "javascript-url": "javascript:alert(3)",
    "control": "a\x00b\x07c\x1b[31md\x7fe\x85f",
    "bidi": "abc\u202egnp.exe\u202d\u2066x\u2069",
}
"""Each is put into every displayed field of one paper."""

RAW_FORBIDDEN = [
    "<script>alert",
    "<img src=x",
    "<svg onload",
    "</script><script>",
]
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _hostile_state(seed_state: dict[str, Any], n: int, payload: str) -> dict[str, Any]:
    """A correctly signed state whose every displayed field holds ``payload``."""
    state = make_state(
        seed_state,
        KEY,
        source_id=f"2607.9{n:04d}",
        title=f"{payload} title",
        authors=[f"{payload} author", "B. Author"],
        submitted_at="2026-07-01T00:00:00Z",
        primary_cat=f"cs.{payload}",
        cross_cats=[f"math.{payload}"],
        abstract=f"{payload} abstract",
        findings=[
            {
                "detector": f"{payload} detector",
                "finding_type": payload,
                "severity": payload,
                "verdict_class": payload,
                "note": f"{payload} note",
                "detected_doi": payload,
                "detected_arxiv_id": payload,
                "ref_index": 1,
                "audited_at": payload,
            }
        ],
        claims=[{"text": f"{payload} claim"}, payload],
        references=[{"title": f"{payload} ref", "doi": payload, "arxiv_id": payload}, payload],
    )
    current = state["current"]
    current["record_created"]["payload"]["canonical_record"]["metadata"]["license"] = payload
    snapshot = current["graph_snapshots"][0]["payload"]["graph_snapshot"]
    snapshot["paper"]["license"] = payload
    snapshot["paper"]["headline"] = f"{payload} headline"
    snapshot["verdict"].update(one_line_summary=payload, strongest_claim=payload, weakest_assumption=payload)
    snapshot["integrity"]["detectors_run"] = [{"name": payload}]
    current["source_aliases"].append(
        {"alias_kind": f"{payload}kind", "alias_value": payload, "created_at": payload}
    )
    return resign_state(state, KEY)


def _failing_alias_state(seed_state: dict[str, Any], n: int, payload: str) -> dict[str, Any]:
    """A state whose DOI alias is ``payload``: failed, and its message and warning quote the value."""
    state = _hostile_state(seed_state, n, payload)
    state = copy.deepcopy(state)
    for alias in state["current"]["source_aliases"]:
        if alias["alias_kind"] == "doi":
            alias["alias_value"] = payload
    state["state_sha256"] = ""
    return state


class _Links(HTMLParser):
    """Every URL-valued attribute of a page, unescaped as a browser reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction", "poster", "data") and value is not None:
                self.urls.append(value)
            if name == "content" and value is not None and "url=" in value.lower():
                self.urls.append(value.split("url=", 1)[1])


@pytest.fixture
def built(tmp_path: Path, seed_state: dict[str, Any]) -> Path:
    content = tmp_path / "content"
    (content / "states").mkdir(parents=True)
    KEY.write_key_file(content / "keys")
    (content / "site.yaml").write_text("title: Hostile\n", encoding="utf-8")
    for n, payload in enumerate(PAYLOADS.values()):
        (content / "states" / f"h{n}.state.json").write_bytes(
            dump_state(_hostile_state(seed_state, n, payload))
        )
        bad = _failing_alias_state(seed_state, 50 + n, payload)
        (content / "states" / f"bad{n}.state.json").write_bytes(dump_state(bad))
    result = build_site(content, tmp_path / "out", jobs=1)
    verdicts = {r.input: r.verdict for r in result.reports}
    assert {v for k, v in verdicts.items() if "/h" in k} == {Verdict.VERIFIED}
    assert {v for k, v in verdicts.items() if "/bad" in k} == {Verdict.FAILED}
    return tmp_path / "out"


def _pages(out: Path) -> list[Path]:
    return [p for p in sorted(out.rglob("*")) if p.suffix in (".html", ".xml", ".atom", ".rss")]


def test_no_hostile_markup_reaches_any_page_raw(built: Path) -> None:
    """No page (HTML, JSON-LD, feed) holds a payload's markup, a control character or a bidi override."""
    pages = _pages(built)
    assert len(pages) > 20
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for needle in RAW_FORBIDDEN:
            assert needle not in text, f"{page.relative_to(built)} holds {needle!r} raw"
        assert INVISIBLE.search(text) is None, f"{page.relative_to(built)} holds a control or bidi character"
        for payload in PAYLOADS.values():
            if payload != PAYLOADS["javascript-url"]:
                assert payload not in text, f"{page.relative_to(built)} holds {payload!r} raw"


def test_hostile_text_is_shown_escaped_on_the_paper_page(built: Path) -> None:
    """The payloads are still visible to readers, as escaped text (nothing is silently dropped)."""
    entry = report_entries(built)["states/h0.state.json"]
    suffix = entry["pith_number"].rsplit(":", 1)[1]
    html = (built / "pith" / suffix / "index.html").read_text(encoding="utf-8")
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    for field in ("title", "author", "abstract", "headline", "claim", "ref", "note", "detector"):
        assert f"{escaped} {field}" in html, field


def test_json_ld_stays_one_script_element_with_the_hostile_title(built: Path) -> None:
    """The JSON-LD block cannot be closed early and parses back to the hostile title."""
    for entry in report_entries(built).values():
        if not entry["input"].startswith("states/h"):
            continue
        suffix = entry["pith_number"].rsplit(":", 1)[1]
        html = (built / "pith" / suffix / "index.html").read_text(encoding="utf-8")
        blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        assert len(blocks) == 1
        document = json.loads(blocks[0])
        n = int(entry["input"][len("states/h") : -len(".state.json")])
        assert document["name"] == f"{list(PAYLOADS.values())[n]} title"


def test_links_only_use_http_or_https_schemes(built: Path) -> None:
    """Every href/src/refresh URL on every page is relative or http(s); ``javascript:`` never links."""
    for page in _pages(built):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.urls:
            cleaned = "".join(c for c in url if ord(c) > 32).lower()
            assert not cleaned.startswith(("javascript:", "data:", "vbscript:")), (page, url)
            assert urlsplit(cleaned).scheme in ("", "http", "https"), (page, url)

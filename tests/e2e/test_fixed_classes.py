"""Values from input never choose markup: a finding's severity maps to a fixed class, else a neutral one.

A severity used to be printed into ``class="severity-…"``, so a registry could add the
site's own classes to a finding (a big green "verified" box drawn around its own text).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sitegen.build.pipeline import build_site
from sitegen.pith.report import Verdict
from tests.synth import SigningKey, dump_state, make_state

KEY = SigningKey.from_seed(b"fixed-classes", "fixed-classes-key")
HOSTILE_SEVERITY = "x verdict-box-verified verdict-big"


class _Items(HTMLParser):
    """The class and text of every item of the findings list, and every element's classes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[tuple[str, str]] = []
        self.classes: list[str] = []
        self._in_findings = False
        self._item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        css = dict(attrs).get("class") or ""
        self.classes.append(css)
        if tag == "ul" and css == "findings":
            self._in_findings = True
        elif tag == "li" and self._in_findings:
            self._item = [css]

    def handle_data(self, data: str) -> None:
        if self._item is not None:
            self._item.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._item is not None:
            self.findings.append((self._item[0], "".join(self._item[1:])))
            self._item = None
        elif tag == "ul":
            self._in_findings = False


def _finding(severity: str) -> dict[str, Any]:
    return {
        "detector": "cite-check",
        "finding_type": "doi_mismatch",
        "severity": severity,
        "verdict_class": "",
        "note": f"seen with {severity or 'no'} severity",
        "detected_doi": "",
        "detected_arxiv_id": "",
        "ref_index": 2,
        "audited_at": "2026-07-01T00:00:00Z",
    }


@pytest.fixture
def paper_html(tmp_path: Path, seed_state: dict[str, Any]) -> str:
    content = tmp_path / "content"
    (content / "states").mkdir(parents=True)
    KEY.write_key_file(content / "keys")
    (content / "site.yaml").write_text("title: Fixed classes\n", encoding="utf-8")
    state = make_state(
        seed_state,
        KEY,
        source_id="2607.90002",
        title="Findings of every severity",
        authors=["A. Author"],
        submitted_at="2026-07-01T00:00:00Z",
        findings=[_finding(s) for s in ("critical", HOSTILE_SEVERITY, "", "informational")],
    )
    (content / "states" / "a.state.json").write_bytes(dump_state(state))
    result = build_site(content, tmp_path / "out", jobs=1)
    (report,) = result.reports
    assert report.verdict is Verdict.VERIFIED
    assert report.pith_number is not None
    suffix = report.pith_number.rsplit(":", 1)[1]
    return (tmp_path / "out" / "pith" / suffix / "index.html").read_text(encoding="utf-8")


def test_a_severity_chooses_only_a_fixed_class(paper_html: str) -> None:
    """Known severities get their class and word; an unknown one the neutral class, its value shown as text."""
    parsed = _Items()
    parsed.feed(paper_html)
    assert [css for css, _ in parsed.findings] == [
        "severity-critical",
        "severity-unknown",
        "severity-unrated",
        "severity-informational",
    ]
    texts = [text for _, text in parsed.findings]
    assert texts[0].startswith("critical · cite-check · doi_mismatch, reference 2")
    assert texts[1].startswith(f"{HOSTILE_SEVERITY} · cite-check")
    assert texts[2].startswith("unrated · cite-check")
    assert texts[3].startswith("informational · cite-check")


def test_the_verdict_box_classes_appear_only_on_the_verdict_box(paper_html: str) -> None:
    """The hostile severity adds no element with the site's verdict classes."""
    parsed = _Items()
    parsed.feed(paper_html)
    boxed = [css for css in parsed.classes if "verdict-box-verified" in css.split()]
    assert boxed == ["verdict-box verdict-box-verified"]
    assert [css for css in parsed.classes if "verdict-big" in css.split()] == [
        "verdict verdict-verified verdict-big"
    ]

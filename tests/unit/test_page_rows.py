"""The paper page's and the index's rows: plain values from ``paper_rows``, markup from ``templates/``.

A real paper is built once (``build_site``, one job) and the context ``paper.html`` got is
kept; each test renders that template again with rows of its own: rows whose fields hold
markup, quotes, entities, template syntax, control and bidi characters must print as text
and leave the page's elements, attributes and classes exactly as a plain value does.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from sitegen.build.pipeline import build_site
from sitegen.pith.model import Finding
from sitegen.pith.report import Verdict
from sitegen.render import paper_rows
from sitegen.render.paper_rows import (
    AliasRow,
    EventRow,
    FindingRow,
    IndexRow,
    ReferenceRow,
    ShortFormRow,
)
from sitegen.render.templates import TEMPLATES_DIR, Renderer
from sitegen.site.config import SiteConfig
from tests.synth import SigningKey, dump_state, make_state

KEY = SigningKey.from_seed(b"page-rows", "page-rows-key")
PAYLOADS = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "'&amp; \u202eexe.txt\u202c \x07\x1b[31m {{ 7 * 7 }} {% raw %}",
]
"""Each is put into one field of one row at a time."""
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
PLAIN = "plain"


class Captured(NamedTuple):
    """What a real build passed to ``Renderer.page`` for the paper page."""

    renderer: Renderer
    page_dir: str
    context: dict[str, Any]


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Captured]:
    """The paper page's renderer, directory and context in a build of one verified paper."""
    import json

    from tests.conftest import SEED_PATH

    tmp = tmp_path_factory.mktemp("rows")
    content = tmp / "content"
    (content / "states").mkdir(parents=True)
    KEY.write_key_file(content / "keys")
    (content / "site.yaml").write_text("title: Rows\n", encoding="utf-8")
    state = make_state(
        json.loads(SEED_PATH.read_text(encoding="utf-8")),
        KEY,
        source_id="2607.90003",
        title="Rows of a paper",
        authors=["A. Author"],
        submitted_at="2026-07-01T00:00:00Z",
        findings=[
            {
                "detector": "cite-check",
                "finding_type": "doi_mismatch",
                "severity": "advisory",
                "verdict_class": "",
                "note": "a note",
                "detected_doi": "",
                "detected_arxiv_id": "",
                "ref_index": 2,
                "audited_at": "2026-07-01T00:00:00Z",
            }
        ],
        claims=[{"text": "a claim"}],
        references=[{"title": "a reference", "doi": "10.1/x", "arxiv_id": ""}],
    )
    (content / "states" / "a.state.json").write_bytes(dump_state(state))
    calls: list[Captured] = []
    original = Renderer.page

    def page(self: Renderer, name: str, page_dir: Any, **context: Any) -> bytes:
        if name == "paper.html":
            calls.append(Captured(self, str(page_dir), dict(context)))
        return original(self, name, page_dir, **context)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Renderer, "page", page)
        result = build_site(content, tmp / "out", jobs=1)
    assert [r.verdict for r in result.reports] == [Verdict.VERIFIED]
    assert len(calls) == 1
    yield calls[0]


def _paper(captured: Captured, renderer: Renderer | None = None, **rows: object) -> str:
    """The paper page rendered again with ``rows`` in place of the build's."""
    page = (renderer or captured.renderer).page(
        "paper.html", captured.page_dir, **{**captured.context, **rows}
    )
    return page.decode("utf-8")


def _index(renderer: Renderer, rows: list[IndexRow]) -> str:
    counts = dict.fromkeys([v.value for v in Verdict], 0)
    page = renderer.page(
        "index.html", ".", rows=rows, newest_month=None, total=len(rows), counts=counts, rejected=0
    )
    return page.decode("utf-8")


class _Page(HTMLParser):
    """Every tag with its attribute names and classes, and every text and attribute value."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.shape: list[tuple[str, ...]] = []
        self.texts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.shape.append((tag, *(name for name, _ in attrs), dict(attrs).get("class") or ""))
        self.texts.extend(value for _, value in attrs if value)

    def handle_endtag(self, tag: str) -> None:
        self.shape.append(("/" + tag,))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def _row(row_type: type[Any], **fields: object) -> Any:
    """A row of ``row_type`` with every text field ``PLAIN`` but ``fields``."""
    values: dict[str, object] = {}
    for name in row_type._fields:
        values[name] = PLAIN
    values.update(fields)
    return row_type(**values)


_Render = Callable[[Captured, str], str]


def _paper_with(table: str, row_type: type[Any], fixed: dict[str, object], field: str) -> _Render:
    def render(captured: Captured, value: str) -> str:
        row = _row(row_type, **{**fixed, field: value})
        if table == "finding_rows":
            return _paper(captured, finding_rows=lambda findings: [row])
        return _paper(captured, **{table: [row]})

    return render


def _index_with(field: str) -> _Render:
    def render(captured: Captured, value: str) -> str:
        return _index(captured.renderer, [_row(IndexRow, verdict="verified", **{field: value})])

    return render


_FIELDS: list[tuple[str, _Render]] = [
    *(
        (f"short_forms.{field}", _paper_with("short_forms", ShortFormRow, {}, field))
        for field in ShortFormRow._fields
    ),
    *(
        (f"aliases.{field}", _paper_with("aliases", AliasRow, {"status": None}, field))
        for field in AliasRow._fields
        if field != "status"  # a check's status, never input
    ),
    *(
        (
            f"findings.{field}",
            _paper_with("finding_rows", FindingRow, {"css": "severity-unknown", "ref_index": 1}, field),
        )
        for field in FindingRow._fields
        if field not in ("css", "ref_index")  # a fixed class; an int
    ),
    *(
        (f"references.{field}", _paper_with("references", ReferenceRow, {}, field))
        for field in ReferenceRow._fields
    ),
    *((f"events.{field}", _paper_with("events", EventRow, {}, field)) for field in EventRow._fields),
    ("claims", lambda captured, value: _paper(captured, claims=[value])),
    *((f"index.{field}", _index_with(field)) for field in IndexRow._fields if field != "verdict"),
]
"""Every row field a template prints, with a function rendering its page with that field set."""


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "attribute", "entities-controls-bidi"])
@pytest.mark.parametrize(("field", "render"), _FIELDS, ids=[field for field, _ in _FIELDS])
def test_a_hostile_row_field_prints_as_text_only(
    captured: Captured, field: str, render: _Render, payload: str
) -> None:
    """The page has the same elements, attributes and classes as with a plain value, and shows the value as text."""
    plain, hostile = _Page(render(captured, PLAIN)), _Page(render(captured, payload))
    assert hostile.shape == plain.shape
    shown = INVISIBLE.sub("\ufffd", payload)
    assert any(shown in text for text in hostile.texts), f"{field}: {shown!r} is not shown"
    assert not any(INVISIBLE.search(text) for text in hostile.texts)


def test_the_build_passes_plain_values_to_the_templates(captured: Captured) -> None:
    """The rows a build gives ``paper.html`` hold strings, ints and None only: the template makes every element."""
    context = captured.context
    rows = [*context["short_forms"], *context["aliases"], *context["references"], *context["events"]]
    assert rows, "the paper has rows"
    assert {type(value) for row in rows for value in row} <= {str, int, type(None)}
    assert {type(text) for text in context["claims"]} == {str}


def _edited_renderer(tmp_path: Path, name: str, old: str, new: str) -> Renderer:
    """A renderer over a copy of ``templates/`` where ``old`` in ``name`` reads ``new``."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, copy)
    text = (copy / name).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{name} holds {old!r} once"
    (copy / name).write_text(text.replace(old, new), encoding="utf-8")
    return Renderer(SiteConfig(title="Rows"), templates_dir=copy)


_EDITS = [
    ("short_forms", "paper.html", "<code>{{ value }}</code></a>", "<kbd>{{ value }}</kbd></a>"),
    ("aliases", "paper.html", "<td><code>{{ value }}</code></td>", "<td><kbd>{{ value }}</kbd></td>"),
    ("findings", "paper.html", "<strong>{{ severity }}</strong>", "<kbd>{{ severity }}</kbd>"),
    ("claims", "paper.html", "<li>{{ text }}</li>", "<li><kbd>{{ text }}</kbd></li>"),
    ("references", "paper.html", "<li>{{ text }}{% if doi %}", "<li><kbd>{{ text }}</kbd>{% if doi %}"),
    ("events", "paper.html", '<code class="hash">{{ event_id }}</code>', "<kbd>{{ event_id }}</kbd>"),
    ("checks", "_macros.html", "<td><code>{{ id }}</code></td>", "<td><kbd>{{ id }}</kbd></td>"),
    ("completeness", "_macros.html", "<strong>none</strong>", "<kbd>none</kbd>"),
]


@pytest.mark.parametrize(("table", "name", "old", "new"), _EDITS, ids=[edit[0] for edit in _EDITS])
def test_each_row_is_made_by_its_template(
    captured: Captured, tmp_path: Path, table: str, name: str, old: str, new: str
) -> None:
    """Changing a row's markup in ``templates/`` changes every such row of the page, and nothing in Python has to."""
    renderer = _edited_renderer(tmp_path, name, old, new)
    context = captured.context
    if table == "findings":
        count = 1
    elif table in ("checks", "completeness"):  # rows the renderer's own macros make
        rebuilt = {"checks": renderer.check_rows, "completeness": renderer.completeness_items}[table]
        source = {"checks": context["report"].checks, "completeness": context["state"].completeness}[table]
        rows = paper_rows.check_rows(source) if table == "checks" else paper_rows.completeness_rows(source)
        context = {**context, table: rebuilt(rows)}
        count = len(rows) if table == "checks" else sum(1 for row in rows if not row.entries)
    else:
        count = len(context[table])
    assert count > 0
    html = renderer.page("paper.html", captured.page_dir, **context).decode("utf-8")
    assert html.count("<kbd>") == count


def test_each_index_row_is_made_by_its_template(captured: Captured, tmp_path: Path) -> None:
    """The listing rows come from ``_listing.html`` (the macro every listing page calls)."""
    renderer = _edited_renderer(
        tmp_path, "_listing.html", "<code>pith:{{ prefix }}</code>", "<kbd>{{ prefix }}</kbd>"
    )
    html = _index(renderer, [_row(IndexRow, verdict="verified"), _row(IndexRow, verdict="failed")])
    assert html.count("<kbd>plain</kbd>") == 2


def test_alias_links_are_worked_out_in_python_and_only_when_safe() -> None:
    """A redirect directory becomes a percent-encoded link; arXiv and DOI aliases link out only with a safe value."""
    rows = paper_rows.alias_rows(
        [
            ("arxiv", "2607.00001", "arxiv/2607.00001"),
            ("doi", "10.1/a b", None),
            ("dblp", "x", None),
        ],
        {"alias.arxiv": "verified"},
        "../../",
    )
    assert rows == [
        AliasRow(
            "arxiv",
            "2607.00001",
            "verified",
            "../../arxiv/2607.00001/",
            "https://arxiv.org/abs/2607.00001",
            "arXiv",
        ),
        AliasRow("doi", "10.1/a b", None, None, None, "doi.org"),
        AliasRow("dblp", "x", None, None, None, ""),
    ]


def test_a_severity_maps_to_a_fixed_class_only() -> None:
    """Known severities keep their class; any other value gets the neutral one and is shown as its word."""
    findings = [
        Finding(
            detector="d",
            finding_type="t",
            severity=severity,
            verdict_class="",
            note="",
            detected_doi="",
            detected_arxiv_id="",
            ref_index=None,
            audited_at="",
        )
        for severity in ("critical", "", "x verdict-box-verified")
    ]
    assert [(row.css, row.severity) for row in paper_rows.finding_rows(findings)] == [
        ("severity-critical", "critical"),
        ("severity-unrated", "unrated"),
        ("severity-unknown", "x verdict-box-verified"),
    ]

"""The paper page's rows built in Python print exactly what the template's original loops printed.

Each ``ORIGINAL_*`` is the loop as ``paper.html`` had it before the rows moved to
``sitegen.render.paper_rows``; both sides are rendered by the same environment (autoescape,
``finalize``), with values full of markup, quotes, control and bidi characters.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.build.paper_job import PaperSummary
from sitegen.pith.model import Claim, Event, Finding, Reference, Signer
from sitegen.pith.report import Status
from sitegen.render import paper_rows
from sitegen.render.templates import Renderer, safe_link
from sitegen.site.config import SiteConfig
from sitegen.site.urls import href
from tests.strategies import summaries

_RENDERER = Renderer(SiteConfig(title="Mirror <&> \u202e"))
_ROOT = "../../"

hostile = st.lists(
    st.sampled_from(
        [
            "a",
            " ",
            "<",
            ">",
            "&",
            '"',
            "'",
            "\u202e",
            "\u2066",
            "\x07",
            "\x85",
            "\x7f",
            "é",
            "😀",
            "%",
            "/",
            "{{",
        ]
    ),
    max_size=10,
).map("".join)
"""Text that would break out of an element or attribute, or hide itself, if printed unescaped."""
maybe_empty = st.just("") | hostile

ORIGINAL_SHORT_FORMS = (
    "{% for value, routed in short_links %}{% if routed %}<a href=\"{{ link('pith/' ~ value) }}\">"
    "<code>{{ value }}</code></a>{% else %}<code>{{ value }}</code>{% endif %}"
    "{% if not loop.last %}, {% endif %}{% endfor %}"
)
ORIGINAL_ALIASES = """  {% for a, route in alias_rows %}
    {% set c = check_status.get('alias.' ~ a.kind) %}
    <tr>
      <td>{{ a.kind }}</td>
      <td><code>{{ a.value }}</code></td>
      <td>{% if c %}{{ status_badges[c] }}{% else %}{{ stated_note }}{% endif %}</td>
      <td>{% if route %}<a href="{{ link(route) }}">on this mirror</a>{% else %}<span class="muted">no page here</span>{% endif %}{% if a.kind in ['arxiv', 'arxiv_version'] and safe_link('https://arxiv.org/abs/' ~ a.value) %} · <a href="{{ 'https://arxiv.org/abs/' ~ a.value }}" rel="external noopener">arXiv</a>{% elif a.kind == 'doi' and safe_link('https://doi.org/' ~ a.value) %} · <a href="{{ 'https://doi.org/' ~ a.value }}" rel="external noopener">doi.org</a>{% endif %}</td>
    </tr>
  {% endfor %}
"""
ORIGINAL_CHECKS = """  {% for id, status, explanation, summary in check_rows %}{{ check_row(id, status, explanation, summary) }}{% endfor %}
"""
ORIGINAL_FINDINGS = """{% for f in findings %}
  <li class="{{ classes.get(f.severity, 'severity-unknown') }}"><strong>{{ f.severity or 'unrated' }}</strong> · {{ f.detector }} · {{ f.finding_type }}{% if f.verdict_class %} ({{ f.verdict_class }}){% endif %}{% if f.ref_index is not none %}, reference {{ f.ref_index }}{% endif %}<br>{{ f.note }}{% if f.detected_doi %}<br>DOI seen: <code>{{ f.detected_doi }}</code>{% endif %}{% if f.detected_arxiv_id %}<br>arXiv id seen: <code>{{ f.detected_arxiv_id }}</code>{% endif %}</li>
{% endfor %}
"""
ORIGINAL_CLAIMS = "{% for c in claims %}<li>{{ c.text }}</li>{% endfor %}"
ORIGINAL_REFERENCES = (
    "{% for r in references %}<li>{{ r.text }}{% if r.doi %} · DOI <code>{{ r.doi }}</code>{% endif %}"
    "{% if r.arxiv_id %} · arXiv <code>{{ r.arxiv_id }}</code>{% endif %}</li>{% endfor %}"
)
ORIGINAL_COMPLETENESS = """{% for name, count in completeness %}{{ completeness_item(name, count) }}{% endfor %}
"""
ORIGINAL_EVENTS = """  <tr><td><code class="hash">{{ first.event_id }}</code></td><td>{{ first.target }}</td><td>{{ first.signer.signer_id }} (<code>{{ first.signer.key_id }}</code>)</td><td><time datetime="{{ first.created_at }}">{{ first.created_at }}</time></td></tr>
  {% for s in snapshots %}
  <tr><td><code class="hash">{{ s.event.event_id }}</code></td><td>{{ s.event.target }}</td><td>{{ s.event.signer.signer_id }} (<code>{{ s.event.signer.key_id }}</code>)</td><td><time datetime="{{ s.event.created_at }}">{{ s.event.created_at }}</time></td></tr>
  {% endfor %}
"""
ORIGINAL_INDEX_ROWS = """    {% for p in papers %}
      <tr class="row-{{ p.verdict.value }}">
        <td>{{ verdict_badges[p.verdict.value] }}</td>
        <td><a href="{{ link('pith/' ~ p.suffix) }}">{{ p.title }}</a><br><span class="authors">{{ p.authors|join(', ') }}{% if p.authors %} <span class="stated-mark" title="stated by the registry, not verified here">†</span>{% endif %}</span></td>
        <td>{{ p.primary_cat }}{% if p.cross_cats %} <span class="muted">({{ p.cross_cats|join(', ') }})</span>{% endif %}</td>
        <td><time datetime="{{ p.submitted_at }}">{{ p.submitted_at[:10] }}</time></td>
        <td><code>pith:{{ p.suffix[:8] }}</code></td>
      </tr>
    {% endfor %}
"""
NEW_ROW = "{{ row }}{# as paper.html prints a row fragment #}\n"


def _original(template: str, **context: Any) -> str:
    """``template`` rendered as a page of the site would render it."""

    def link(rel: PurePosixPath | str, directory: bool = True) -> str:
        return href(_ROOT, rel, directory=directory)

    return _RENDERER.env.from_string(template).render(link=link, **context)


def _printed(fragment: object, inline: bool = False) -> str:
    """``fragment`` as the template prints it: on its own line, or inline in an element."""
    return _RENDERER.env.from_string("{{ row }}" if inline else NEW_ROW).render(row=fragment)


class _Alias:
    """The two fields of ``model.Alias`` the original loop read."""

    def __init__(self, kind: str, value: str) -> None:
        self.kind, self.value = kind, value


class _Snapshot:
    """The one field of ``model.GraphSnapshot`` the original loop read."""

    def __init__(self, event: Event) -> None:
        self.event = event


alias_kinds = st.sampled_from(["arxiv", "arxiv_version", "doi", "pith_short_8", "dblp"]) | hostile
alias_values = hostile | st.sampled_from(["2401.00001", "10.1000/x", "10.1/a b", "hep-th/9901001"])
routes = st.none() | st.sampled_from([PurePosixPath("pith/ABC"), PurePosixPath("doi/10.1/a b<")])
statuses = st.sampled_from([s.value for s in Status])
events = st.builds(
    Event,
    event_id=hostile,
    target=hostile,
    created_at=hostile,
    signer=st.builds(
        Signer, key_id=hostile, public_key_fingerprint=hostile, signer_id=hostile, signer_type=hostile
    ),
)


@given(short_links=st.lists(st.tuples(hostile, st.booleans()), max_size=3))
def test_short_form_links_equal_the_original_loop(short_links: list[tuple[str, bool]]) -> None:
    """Escaped codes, percent-encoded links, comma-separated."""
    html = paper_rows.short_form_links(short_links, _ROOT)
    assert _printed(html, inline=True) == _original(ORIGINAL_SHORT_FORMS, short_links=short_links)


@settings(max_examples=200)
@given(
    rows=st.lists(st.tuples(alias_kinds, alias_values, routes), max_size=4),
    checks=st.dictionaries(alias_kinds.map(lambda kind: "alias." + kind), statuses, max_size=3),
)
def test_alias_rows_equal_the_original_loop(
    rows: list[tuple[str, str, PurePosixPath | None]], checks: dict[str, str]
) -> None:
    """Kind, value, check badge or "stated", mirror link and a safe external link only."""
    html = paper_rows.alias_rows(
        rows, checks, _RENDERER.status_badges, _RENDERER.stated_note, _ROOT, safe_link
    )
    original = _original(
        ORIGINAL_ALIASES,
        alias_rows=[(_Alias(kind, value), route) for kind, value, route in rows],
        check_status=checks,
    )
    assert _printed(html) == original


@given(rows=st.lists(st.tuples(hostile, statuses, hostile, hostile), max_size=4))
def test_check_rows_equal_the_original_loop(rows: list[tuple[str, str, str, str]]) -> None:
    """The check_row macro's rows, joined."""
    html = paper_rows.check_rows(rows, _RENDERER.check_row)
    assert _printed(html) == _original(ORIGINAL_CHECKS, check_rows=rows, check_row=_RENDERER.check_row)


@given(
    findings=st.lists(
        st.builds(
            Finding,
            detector=hostile,
            finding_type=hostile,
            severity=maybe_empty,
            verdict_class=maybe_empty,
            note=hostile,
            detected_doi=maybe_empty,
            detected_arxiv_id=maybe_empty,
            ref_index=st.none() | st.integers(-3, 300),
            audited_at=hostile,
        ),
        max_size=3,
    )
)
def test_finding_items_equal_the_original_loop(findings: list[Finding]) -> None:
    """Every field of a finding escaped, optional ones only when present."""
    assert _printed(paper_rows.finding_items(findings)) == _original(
        ORIGINAL_FINDINGS, findings=findings, classes=paper_rows.SEVERITY_CLASSES
    )


@given(claims=st.lists(st.builds(Claim, text=hostile), max_size=3))
def test_claim_items_equal_the_original_loop(claims: list[Claim]) -> None:
    """One escaped list item a claim."""
    html = paper_rows.claim_items(claims)
    assert _printed(html, inline=True) == _original(ORIGINAL_CLAIMS, claims=claims)


@given(
    references=st.lists(st.builds(Reference, text=hostile, doi=maybe_empty, arxiv_id=maybe_empty), max_size=3)
)
def test_reference_items_equal_the_original_loop(references: list[Reference]) -> None:
    """Text, DOI and arXiv id escaped, the last two only when present."""
    html = paper_rows.reference_items(references)
    assert _printed(html, inline=True) == _original(ORIGINAL_REFERENCES, references=references)


@given(counts=st.lists(st.tuples(hostile | st.just("author_attestations"), st.integers(0, 5)), max_size=4))
def test_completeness_items_equal_the_original_loop(counts: list[tuple[str, int]]) -> None:
    """The completeness_item macro's items, joined."""
    html = paper_rows.completeness_items(counts, _RENDERER.completeness_item)
    original = _original(
        ORIGINAL_COMPLETENESS, completeness=counts, completeness_item=_RENDERER.completeness_item
    )
    assert _printed(html) == original


@given(first=events, later=st.lists(events, max_size=3))
def test_event_rows_equal_the_original_rows(first: Event, later: list[Event]) -> None:
    """The record's creation and each snapshot's event, every field escaped."""
    html = paper_rows.event_rows([first, *later])
    original = _original(ORIGINAL_EVENTS, first=first, snapshots=[_Snapshot(e) for e in later])
    assert _printed(html) == original


@settings(max_examples=200)
@given(papers=st.lists(summaries(hostile), max_size=4))
def test_index_rows_equal_the_original_loop(papers: list[PaperSummary]) -> None:
    """Verdict badge, linked title, authors, categories, date and Pith prefix, all escaped."""
    html = paper_rows.index_rows(papers, _ROOT, _RENDERER.verdict_badges)
    assert _printed(html) == _original(ORIGINAL_INDEX_ROWS, papers=papers)

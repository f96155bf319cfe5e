"""The paper page's repeated rows, and the index pages', built in Python (layer 4).

In ``paper.html`` these loops cost about half of a page's render (and the index pages'
table most of theirs): Jinja spends a
context lookup, an attribute call, ``finalize`` and an escape on every value of every
row. Each function here returns the text its loop printed: every value goes through
``html_text`` (``finalize``'s replacement of control and bidi characters, then
``markupsafe.escape``), exactly as the template printed it (a property test renders the
original loops with hostile values and compares), and the result is a ``VisibleMarkup``
that the template prints as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Protocol

from markupsafe import Markup

from sitegen.pith.model import Claim, Event, Finding, Reference
from sitegen.render.search_index import Searchable
from sitegen.render.templates import VisibleMarkup, html_text
from sitegen.site.urls import href

__all__ = [
    "alias_rows",
    "check_rows",
    "claim_items",
    "completeness_items",
    "event_rows",
    "finding_items",
    "index_rows",
    "reference_items",
    "short_form_links",
]


def _markup(html: str) -> Markup:
    """``html``, made only of literals, ``html_text`` values and rows the macros made, marked safe."""
    return VisibleMarkup(html)


def short_form_links(short_links: Iterable[tuple[str, bool]], root: str) -> Markup:
    """The short forms, each a link to its redirect page when one is written."""
    parts = []
    for value, routed in short_links:
        code = f"<code>{html_text(value)}</code>"
        parts.append(
            f'<a href="{html_text(href(root, "pith/" + value, directory=True))}">{code}</a>'
            if routed
            else code
        )
    return _markup(", ".join(parts))


def _external_link(kind: str, value: str, safe_link: Callable[[str], str | None]) -> str:
    """The arXiv or doi.org link of an alias, when its value makes a safe one."""
    if kind in ("arxiv", "arxiv_version"):
        url, label = "https://arxiv.org/abs/" + value, "arXiv"
    elif kind == "doi":
        url, label = "https://doi.org/" + value, "doi.org"
    else:
        return ""
    if not safe_link(url):
        return ""
    return f' · <a href="{html_text(url)}" rel="external noopener">{label}</a>'


def alias_rows(
    rows: Iterable[tuple[str, str, PurePosixPath | str | None]],
    check_status: Mapping[str, str],
    status_badges: Mapping[str, Markup],
    stated_note: Markup,
    root: str,
    safe_link: Callable[[str], str | None],
) -> Markup:
    """The aliases table's rows: kind, value, its check (or "stated"), and where it links."""
    parts = []
    for kind, value, route in rows:
        status = check_status.get("alias." + kind)
        check = status_badges[status] if status else stated_note
        if route:
            here = f'<a href="{html_text(href(root, route, directory=True))}">on this mirror</a>'
        else:
            here = '<span class="muted">no page here</span>'
        parts.append(
            f"    <tr>\n      <td>{html_text(kind)}</td>\n      <td><code>{html_text(value)}</code></td>\n"
            f"      <td>{check}</td>\n      <td>{here}{_external_link(kind, value, safe_link)}</td>\n    </tr>\n"
        )
    return _markup("".join(parts))


def check_rows(rows: Iterable[tuple[str, str, str, str]], check_row: Callable[..., Markup]) -> Markup:
    """The checks table's rows, each made by the ``check_row`` macro (memoized: most papers share them)."""
    return _markup("".join([check_row(*row) for row in rows]))


def completeness_items(counts: Iterable[tuple[str, int]], completeness_item: Callable[..., Markup]) -> Markup:
    """The completeness list's items, each made by the ``completeness_item`` macro (memoized)."""
    return _markup("".join([completeness_item(name, count) for name, count in counts]))


SEVERITY_CLASSES = {
    "critical": "severity-critical",
    "advisory": "severity-advisory",
    "informational": "severity-informational",
    "": "severity-unrated",
}
"""The class of each severity the format knows (empty: unrated); any other gets ``severity-unknown``,
so a value from input never chooses the page's classes (it is shown as text only)."""


def finding_items(findings: Iterable[Finding]) -> Markup:
    """One list item a finding: severity, detector, type, class, reference, note and what was seen."""
    parts = []
    for f in findings:
        css = SEVERITY_CLASSES.get(f.severity, "severity-unknown")
        parts.append(
            f'  <li class="{css}"><strong>{html_text(f.severity or "unrated")}</strong>'
            f" · {html_text(f.detector)} · {html_text(f.finding_type)}"
        )
        if f.verdict_class:
            parts.append(f" ({html_text(f.verdict_class)})")
        if f.ref_index is not None:
            parts.append(f", reference {html_text(f.ref_index)}")
        parts.append(f"<br>{html_text(f.note)}")
        if f.detected_doi:
            parts.append(f"<br>DOI seen: <code>{html_text(f.detected_doi)}</code>")
        if f.detected_arxiv_id:
            parts.append(f"<br>arXiv id seen: <code>{html_text(f.detected_arxiv_id)}</code>")
        parts.append("</li>\n")
    return _markup("".join(parts))


def claim_items(claims: Iterable[Claim]) -> Markup:
    """One list item a claim."""
    return _markup("".join([f"<li>{html_text(c.text)}</li>" for c in claims]))


def reference_items(references: Iterable[Reference]) -> Markup:
    """One list item a sampled reference, with its DOI and arXiv id when stated."""
    parts = []
    for r in references:
        parts.append(f"<li>{html_text(r.text)}")
        if r.doi:
            parts.append(f" · DOI <code>{html_text(r.doi)}</code>")
        if r.arxiv_id:
            parts.append(f" · arXiv <code>{html_text(r.arxiv_id)}</code>")
        parts.append("</li>")
    return _markup("".join(parts))


def event_rows(events: Sequence[Event]) -> Markup:
    """The events table's rows: id, target, signer and time of each event."""
    return _markup(
        "".join(
            [
                f'  <tr><td><code class="hash">{html_text(e.event_id)}</code></td><td>{html_text(e.target)}</td>'
                f"<td>{html_text(e.signer.signer_id)} (<code>{html_text(e.signer.key_id)}</code>)</td>"
                f'<td><time datetime="{(at := html_text(e.created_at))}">{at}</time></td></tr>\n'
                for e in events
            ]
        )
    )


class Listed(Searchable, Protocol):
    """What an index row shows of a paper: the search index's fields and the categories."""

    @property
    def primary_cat(self) -> str: ...
    @property
    def cross_cats(self) -> tuple[str, ...]: ...


_STATED_MARK = ' <span class="stated-mark" title="stated by the registry, not verified here">†</span>'
"""The index rows' marker for values stated by the registry (the legend under the table explains it)."""


def index_rows(papers: Iterable[Listed], root: str, verdict_badges: Mapping[str, Markup]) -> Markup:
    """The index table's rows: verdict, title linking to the paper's page, authors, categories, date, Pith prefix."""
    parts = []
    for paper in papers:
        verdict = paper.verdict.value
        link = html_text(href(root, "pith/" + paper.suffix, directory=True))
        cross = (
            f' <span class="muted">({html_text(", ".join(paper.cross_cats))})</span>'
            if paper.cross_cats
            else ""
        )
        parts.append(
            f'      <tr class="row-{html_text(verdict)}">\n'
            f"        <td>{verdict_badges[verdict]}</td>\n"
            f'        <td><a href="{link}">{html_text(paper.title)}</a><br>'
            f'<span class="authors">{html_text(", ".join(paper.authors))}{_STATED_MARK if paper.authors else ""}</span></td>\n'
            f"        <td>{html_text(paper.primary_cat)}{cross}</td>\n"
            f'        <td><time datetime="{html_text(paper.submitted_at)}">{html_text(paper.submitted_at[:10])}</time></td>\n'
            f"        <td><code>pith:{html_text(paper.suffix[:8])}</code></td>\n"
            "      </tr>\n"
        )
    return _markup("".join(parts))

"""The rows of the paper page's tables and lists, and the index pages', as plain values (layer 3).

Each row is a named tuple of strings, ints and None that a template's ``{% for %}`` unpacks
(``{% for kind, value, ... in aliases %}``): a tuple unpacks in the compiled loop itself,
where a field read through an attribute costs a lookup per value. Every value is printed
with ``{{ }}``, so autoescape and ``finalize`` (control and bidi characters replaced) apply to
each one. What is worked out here is only what a template would otherwise work out again
per row: links (``href`` percent-encodes), the external link an alias kind gets, a
severity's fixed class, joined lists. Nothing here is markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import NamedTuple, Protocol

from sitegen.pith.model import Claim, Event, Finding, Reference
from sitegen.pith.report import Check
from sitegen.pith.verify import CHECK_EXPLANATIONS
from sitegen.render.search_index import Searchable
from sitegen.render.templates import safe_link
from sitegen.site.urls import href

__all__ = [
    "SEVERITY_CLASSES",
    "AliasRow",
    "CheckRow",
    "CompletenessRow",
    "EventRow",
    "FindingRow",
    "IndexRow",
    "Listed",
    "ReferenceRow",
    "ShortFormRow",
    "alias_rows",
    "check_rows",
    "claim_texts",
    "completeness_rows",
    "event_rows",
    "finding_rows",
    "index_rows",
    "reference_rows",
    "short_form_rows",
]


class ShortFormRow(NamedTuple):
    """A short form of the Pith number and the link to its redirect page (None: no page written)."""

    value: str
    href: str | None


def short_form_rows(short_links: Iterable[tuple[str, bool]], root: str) -> list[ShortFormRow]:
    """The short forms (value, whether a redirect page is written), linked from a page at ``root``."""
    return [
        ShortFormRow(value, href(root, "pith/" + value, directory=True) if routed else None)
        for value, routed in short_links
    ]


class AliasRow(NamedTuple):
    """A row of the aliases table."""

    kind: str
    value: str
    status: str | None
    """The status of the alias's check; None: no check covers it (shown as stated)."""
    href: str | None
    """The alias's redirect page on this mirror; None: no page here."""
    external_href: str | None
    """The alias at its own registry (arXiv, doi.org), when its value makes a safe link."""
    external_label: str


_EXTERNAL: Mapping[str, tuple[str, str]] = {
    "arxiv": ("https://arxiv.org/abs/", "arXiv"),
    "arxiv_version": ("https://arxiv.org/abs/", "arXiv"),
    "doi": ("https://doi.org/", "doi.org"),
}
"""Alias kind to the address its value is appended to, and the link's label."""


def alias_rows(
    routes: Iterable[tuple[str, str, PurePosixPath | str | None]], check_status: Mapping[str, str], root: str
) -> list[AliasRow]:
    """The aliases table: (kind, value, redirect directory or None) of each alias, with its check's
    status from ``check_status`` (check id to status), linked from a page at ``root``."""
    rows = []
    for kind, value, route in routes:
        external, label = _EXTERNAL.get(kind, ("", ""))
        rows.append(
            AliasRow(
                kind,
                value,
                check_status.get("alias." + kind),
                href(root, route, directory=True) if route else None,
                external + value if external and safe_link(external + value) else None,
                label,
            )
        )
    return rows


class CheckRow(NamedTuple):
    """A row of the checks table: the ``check_row`` macro's arguments."""

    id: str
    status: str
    explanation: str
    summary: str


def check_rows(checks: Iterable[Check]) -> list[CheckRow]:
    """The checks table: each check with what it means."""
    return [CheckRow(c.id, c.status.value, CHECK_EXPLANATIONS.get(c.id, ""), c.summary) for c in checks]


class CompletenessRow(NamedTuple):
    """An item of the completeness list: the ``completeness_item`` macro's arguments."""

    name: str
    entries: int


def completeness_rows(counts: Iterable[tuple[str, int]]) -> list[CompletenessRow]:
    """The completeness list: (list name, number of entries) of each list the state has."""
    return [CompletenessRow(name, entries) for name, entries in counts]


SEVERITY_CLASSES = {
    "critical": "severity-critical",
    "advisory": "severity-advisory",
    "informational": "severity-informational",
    "": "severity-unrated",
}
"""The class of each severity the format knows (empty: unrated); any other gets ``severity-unknown``,
so a value from input never chooses the page's classes (it is shown as text only)."""


class FindingRow(NamedTuple):
    """An item of the findings list; its class comes from ``SEVERITY_CLASSES`` alone."""

    css: str
    severity: str
    """The stated severity, ``unrated`` when empty."""
    detector: str
    finding_type: str
    verdict_class: str
    ref_index: int | None
    note: str
    detected_doi: str
    detected_arxiv_id: str


def finding_rows(findings: Iterable[Finding]) -> list[FindingRow]:
    """The findings list: severity, detector, type, class, reference, note and what was seen."""
    return [
        FindingRow(
            SEVERITY_CLASSES.get(f.severity, "severity-unknown"),
            f.severity or "unrated",
            f.detector,
            f.finding_type,
            f.verdict_class,
            f.ref_index,
            f.note,
            f.detected_doi,
            f.detected_arxiv_id,
        )
        for f in findings
    ]


def claim_texts(claims: Iterable[Claim]) -> list[str]:
    """The claims list: each claim's text."""
    return [c.text for c in claims]


class ReferenceRow(NamedTuple):
    """An item of the sampled references list; the DOI and arXiv id are empty when not stated."""

    text: str
    doi: str
    arxiv_id: str


def reference_rows(references: Iterable[Reference]) -> list[ReferenceRow]:
    """The sampled references list."""
    return [ReferenceRow(r.text, r.doi, r.arxiv_id) for r in references]


class EventRow(NamedTuple):
    """A row of the events table."""

    event_id: str
    target: str
    signer_id: str
    key_id: str
    created_at: str


def event_rows(events: Iterable[Event]) -> list[EventRow]:
    """The events table: id, target, signer and time of each event."""
    return [EventRow(e.event_id, e.target, e.signer.signer_id, e.signer.key_id, e.created_at) for e in events]


class Listed(Searchable, Protocol):
    """What an index row shows of a paper: the search index's fields and the categories."""

    @property
    def primary_cat(self) -> str: ...
    @property
    def cross_cats(self) -> tuple[str, ...]: ...


class IndexRow(NamedTuple):
    """A row of the index table."""

    verdict: str
    href: str
    title: str
    authors: str
    """The authors, comma-separated; empty when none are stated."""
    primary_cat: str
    cross_cats: str
    """The cross-list categories, comma-separated; empty when none."""
    submitted_at: str
    date: str
    prefix: str
    """The first eight characters of the Pith suffix."""


def index_rows(papers: Iterable[Listed], root: str) -> list[IndexRow]:
    """The index table: verdict, title linking to the paper's page, authors, categories, date, Pith prefix."""
    return [
        IndexRow(
            paper.verdict.value,
            href(root, "pith/" + paper.suffix, directory=True),
            paper.title,
            ", ".join(paper.authors),
            paper.primary_cat,
            ", ".join(paper.cross_cats),
            paper.submitted_at,
            paper.submitted_at[:10],
            paper.suffix[:8],
        )
        for paper in papers
    ]

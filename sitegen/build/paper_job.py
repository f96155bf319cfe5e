"""One state file in, one paper's pages and endpoints out (layer 5, per-paper work).

``process_state`` is what a build runs for each input, in this process or in a
worker of a process pool: read, parse, verify, render, write the paper's own files
and alias redirects, and return a small ``StateOutcome``. It depends only on its
``PaperContext`` and the input, so the output is the same whichever process runs it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from jinja2.filters import do_urlencode

from sitegen.errors import InputError, ParseError
from sitegen.fs.compiled import compiled_templates
from sitegen.fs.sources import read_input
from sitegen.fs.staging import TreeWriter, held_root
from sitegen.pith.canonical import canonical_bytes, sha256_hex
from sitegen.pith.keys import Keyring
from sitegen.pith.model import JSONValue, RegistryKey, StateFile
from sitegen.pith.numbers import is_suffix, short_forms, split_pith_number
from sitegen.pith.parse import ParsedIntegrity, ParsedState, parse_integrity, parse_state
from sitegen.pith.report import InputReport, Status, Verdict, alias_status
from sitegen.pith.verify import rejected_report, verify_state
from sitegen.render import paper_rows
from sitegen.render.search_index import SearchKeys, search_keys
from sitegen.render.templates import Renderer, compact_json, json_bytes, safe_link
from sitegen.site.config import SiteConfig
from sitegen.site.manifest_bins import alias_hash
from sitegen.site.shard import Shard
from sitegen.site.urls import alias_path_text, paper_dir, root_prefix

__all__ = [
    "LISTED_AUTHOR_CHARS",
    "LISTED_TITLE_CHARS",
    "STAGES",
    "SUMMARY_FIELDS",
    "IntegrityInput",
    "IntegrityRef",
    "PaperContext",
    "PaperSummary",
    "Redirect",
    "StateOutcome",
    "alias_paths",
    "paper_page",
    "process_state",
    "redirect_pages",
    "slim_report",
    "summary_from_json",
    "summary_json",
    "unreadable_report",
]


LISTED_TITLE_CHARS = 1_000
"""Characters of a title a summary keeps (real titles have under 300); a longer one ends in ``…``."""
LISTED_AUTHOR_CHARS = 10_000
"""Characters of author names a summary keeps (about 600 names); the rest become one ``…``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperSummary:
    """What the site-wide pages need of one paper; small on purpose.

    Its title and authors are those the site-wide pages list (index, search, feed, collision
    pages), shortened to ``LISTED_TITLE_CHARS`` and ``LISTED_AUTHOR_CHARS``: a page lists
    hundreds of papers and the build reads back a page's worth of summaries at a time, so
    their size must not follow the input's (a title may have 200,000 characters, each ``<``
    four bytes of HTML). The paper's own page shows them whole.
    """

    input: str
    verdict: Verdict
    suffix: str
    pith_number: str
    title: str
    authors: tuple[str, ...]
    primary_cat: str
    cross_cats: tuple[str, ...]
    submitted_at: str
    source_id: str
    canonical_sha256: str
    aliases: tuple[tuple[str, str], ...]
    integrity_endpoint: str
    integrity_sha256: str
    """SHA-256 of the paper's own ``integrity.json``: the site-wide step serves that file again
    at ``integrity_endpoint`` as a hard link, and lists it without reading it back."""
    input_sha256: str
    """SHA-256 of the state file's bytes: byte-identical inputs are one paper."""
    alias_paths: tuple[str | None, ...]
    """Each alias's redirect directory (``alias_path_text``), or None where it has none: derived
    once here, since the claims, the alias map and the paper's page all ask it."""
    alias_hashes: tuple[int, ...]
    """Each alias's ``alias_hash``: the alias map's bin of each, derived once here."""
    search: SearchKeys
    """What the search index takes of the paper (``search_index.search_keys``), derived once here."""


def summary_json(summary: PaperSummary) -> list[object]:
    """A summary as a JSON array of its fields in ``SUMMARY_FIELDS`` order (the spill's, the
    incremental cache's and the shard log's form)."""
    values: list[object] = [getattr(summary, name) for name in SUMMARY_FIELDS]
    values[_VERDICT_AT] = summary.verdict.value
    values[_SEARCH_AT] = [getattr(summary.search, name) for name in _SEARCH_FIELDS]  # its tuples as they are
    return values


def summary_from_json(values: Sequence[Any]) -> PaperSummary:
    """The inverse of ``summary_json`` (JSON's lists back to the summary's tuples).

    Raises:
        ValueError, TypeError, KeyError: ``values`` is not a summary's array.
    """
    fields_of = dict(zip(SUMMARY_FIELDS, values, strict=True))
    fields_of["verdict"] = Verdict(fields_of["verdict"])
    fields_of["authors"] = tuple(fields_of["authors"])
    fields_of["cross_cats"] = tuple(fields_of["cross_cats"])
    fields_of["aliases"] = tuple(tuple(alias) for alias in fields_of["aliases"])
    fields_of["alias_paths"] = tuple(fields_of["alias_paths"])
    fields_of["alias_hashes"] = tuple(fields_of["alias_hashes"])
    title_terms, other_terms, term_hashes, entry, entry_hash = fields_of["search"]
    fields_of["search"] = SearchKeys(
        tuple(title_terms), tuple(other_terms), tuple(term_hashes), entry, entry_hash
    )
    return PaperSummary(**fields_of)


SUMMARY_FIELDS = tuple(f.name for f in fields(PaperSummary))
"""The summary's fields in the order ``summary_json`` writes them."""
_SEARCH_FIELDS = tuple(f.name for f in fields(SearchKeys))
_VERDICT_AT = SUMMARY_FIELDS.index("verdict")
_SEARCH_AT = SUMMARY_FIELDS.index("search")


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    """An alias's redirect page: its directory (``doi/10.48550/arxiv.2601.00001``) and the alias it serves."""

    directory: str
    kind: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityInput:
    """A registry integrity file placed beside the states, with its verification."""

    report: InputReport
    parsed: ParsedIntegrity


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityRef:
    """An integrity file as the whole build keeps it: its bytes, read and verified once per build.

    Workers parse the bytes again for the page (integrity files are few and small), so no
    worker reads the file itself and none can see other bytes than the ones verified.
    """

    report: InputReport
    """The verdict, with only its first (summary) check."""
    rel: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperContext:
    """Everything per-paper work needs; built once per build and sent once to each worker."""

    content_root: Path
    out_root: Path
    config: SiteConfig
    keyring: Keyring
    integrity: dict[str, tuple[IntegrityRef, ...]] = field(default_factory=dict)
    """The usable integrity files by the arXiv id they name (several may name one paper)."""
    nav_pages: tuple[tuple[str, str], ...] = ()
    """(slug, title) of the Markdown pages, for the navigation of every page."""
    shard: Shard | None = None
    """Only the inputs of this shard are processed (``build --shard K/N``); None: all."""
    compiled_templates: Path | None = None
    """Where the compiled templates are kept between builds (``Renderer``'s ``compiled``); None: compiled afresh."""


STAGES = ("read", "parse", "verify", "render", "write")
"""The per-paper stages whose seconds every ``StateOutcome`` carries, in this order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StateOutcome:
    """The result of one state file: its report, summary, and the lines it adds to SHA256SUMS."""

    report: InputReport
    report_line: bytes
    """The full report entry as one compact JSON line, for ``verification-report.json``."""
    summary: PaperSummary | None
    warnings: tuple[str, ...]
    manifest: str
    files: int
    input_sha256: str = ""
    """SHA-256 of the bytes that were processed (empty when unreadable): the incremental cache's key."""
    seconds: tuple[float, ...] = (0.0,) * len(STAGES)
    """Seconds spent in each of ``STAGES`` (measured, so not deterministic; never written to the site)."""


def unreadable_report(name: str, exc: InputError | ParseError, kind: str) -> InputReport:
    """A ``rejected`` report for an input that could not even be read."""
    if isinstance(exc, ParseError):
        return rejected_report(name, exc, kind)
    return rejected_report(name, ParseError(name, "", exc.check, exc.detail), kind)


def slim_report(report: InputReport) -> InputReport:
    """The report kept in memory for the whole build: only the checks that say what is wrong.

    That is the failed checks, or else the first check that could not be made (what the
    verification page and the terminal show); a full report holds every check with both
    sides of each comparison, which a corpus of failed inputs would otherwise hold all at once. The full report of every input
    is streamed to ``verification-report.json``.
    """
    if report.verdict is Verdict.VERIFIED:
        return InputReport(
            input=report.input,
            kind=report.kind,
            verdict=report.verdict,
            pith_number=report.pith_number,
            source_id=report.source_id,
        )
    unchecked = [c for c in report.checks if c.status is Status.NOT_CHECKABLE][:1]
    return replace(report, checks=report.failed_checks or tuple(unchecked))


def alias_paths(summary: PaperSummary) -> list[tuple[str, str, str | None]]:
    """(kind, value, redirect directory or None when unsafe or unrouted) for each alias."""
    return [
        (kind, value, path) for (kind, value), path in zip(summary.aliases, summary.alias_paths, strict=True)
    ]


def paper_summary(
    parsed: ParsedState, report: InputReport, integrity_json: bytes, input_sha256: str
) -> PaperSummary | None:
    """The summary of a parsed state, or None when its Pith number cannot name a page.

    Its aliases are those a check derived from the record: the only ones routed, searched and
    listed in the site-wide alias map (the page and ``aliases.json`` show every alias).

    ``integrity_json``: the bytes of the paper's ``integrity.json`` (see ``_integrity_document``).
    """
    state = parsed.state
    parts = split_pith_number(state.pith_number)
    if parts is None or not is_suffix(parts[1]):
        return None
    snapshot = state.latest_snapshot
    paper = snapshot.paper if snapshot else None
    integrity = snapshot.integrity if snapshot else None
    record = state.canonical_record
    derived = {c.id for c in report.checks if c.id.startswith("alias.") and c.status is Status.VERIFIED}
    aliases = tuple((a.kind, a.value) for a in state.aliases if f"alias.{a.kind}" in derived)
    title = _listed_title(paper.title if paper else record.source_id)
    authors = _listed_authors(paper.authors if paper else ())
    return PaperSummary(
        input=report.input,
        verdict=report.verdict,
        suffix=parts[1],
        pith_number=state.pith_number,
        title=title,
        authors=authors,
        primary_cat=record.primary_cat,
        cross_cats=record.cross_cats,
        submitted_at=record.submitted_at,
        source_id=record.source_id,
        canonical_sha256=state.record_canonical_sha256,
        aliases=aliases,
        integrity_endpoint=integrity.endpoint if integrity else "",
        integrity_sha256=sha256_hex(integrity_json),
        input_sha256=input_sha256,
        alias_paths=tuple(alias_path_text(kind, value) for kind, value in aliases),
        alias_hashes=tuple(alias_hash(kind, value) for kind, value in aliases),
        search=search_keys(
            title=title, authors=authors, suffix=parts[1], submitted_at=record.submitted_at, aliases=aliases
        ),
    )


def _listed_title(title: str) -> str:
    """``title``, or its first ``LISTED_TITLE_CHARS`` - 1 characters and ``…`` when longer."""
    return title if len(title) <= LISTED_TITLE_CHARS else title[: LISTED_TITLE_CHARS - 1] + "…"


def _listed_authors(authors: tuple[str, ...]) -> tuple[str, ...]:
    """The first ``authors`` of at most ``LISTED_AUTHOR_CHARS`` characters in all, then ``…`` for the rest."""
    used = 0
    for count, author in enumerate(authors):
        used += len(author)
        if used > LISTED_AUTHOR_CHARS:
            return (*authors[:count], "…")
    return authors


_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(slots=True)
class _RendererOf:
    """The last context this process rendered for and its renderer. The context itself is held,
    never its ``id``: a freed object's id is reused, and a later build's context (another site)
    would be taken for the freed one."""

    ctx: PaperContext | None = None
    renderer: Renderer | None = None


_last_renderer = _RendererOf()


def _renderer(ctx: PaperContext) -> Renderer:
    """One compiled template set per process and context: paid once per build, not per paper."""
    if _last_renderer.ctx is not ctx or _last_renderer.renderer is None:
        _last_renderer.ctx, _last_renderer.renderer = (
            ctx,
            Renderer(
                ctx.config, nav_pages=ctx.nav_pages, compiled=compiled_templates(ctx.compiled_templates)
            ),
        )
    return _last_renderer.renderer


def process_state(ctx: PaperContext, name: str) -> StateOutcome | None:
    """Read, verify and render one state file (``name``: its path under the content directory) into
    ``ctx.out_root``; None when another shard owns it."""
    started = time.perf_counter()
    try:
        data = read_input(ctx.content_root, name, ctx.config.limits)
    except (InputError, ParseError) as exc:
        if ctx.shard is not None and not ctx.shard.owns(name, b""):
            return None
        return _without_page(unreadable_report(name, exc, "state"))
    if ctx.shard is not None and not ctx.shard.owns(name, data):
        return None
    input_sha256 = hashlib.sha256(data).hexdigest()
    outcome = _process_bytes(ctx, name, data, input_sha256, time.perf_counter() - started)
    return replace(outcome, input_sha256=input_sha256)


def _process_bytes(
    ctx: PaperContext, name: str, data: bytes, input_sha256: str, read_seconds: float
) -> StateOutcome:
    started = time.perf_counter()
    try:
        parsed = parse_state(data, name, ctx.config.limits)
    except ParseError as exc:
        return _without_page(rejected_report(name, exc))
    parsed_at = time.perf_counter()
    report = verify_state(parsed, ctx.keyring, name)
    verified = time.perf_counter()
    report_doc = report.to_json()
    report_line = compact_json(report_doc, plain=True)
    integrity_files = _integrity_inputs(ctx, parsed.state.canonical_record.source_id)
    integrity_json = _integrity_document(parsed, integrity_files)
    summary = paper_summary(parsed, report, integrity_json, input_sha256)
    if summary is None:
        warning = f"{name}: pith_number: paper.path: not a well-formed pith number; no page written"
        return StateOutcome(
            report=slim_report(report),
            report_line=report_line,
            summary=None,
            warnings=(warning,),
            manifest="",
            files=0,
        )
    writer = TreeWriter(ctx.out_root if report.verdict is Verdict.VERIFIED else held_root(ctx.out_root, name))
    try:
        warnings = _write_paper(
            writer,
            _renderer(ctx),
            ctx,
            parsed,
            report,
            json_bytes(report_doc, plain=True),
            summary,
            integrity_files,
            integrity_json,
        )
    except ParseError as exc:  # over limits.max_output_bytes_per_paper, decided before any file was written
        return _without_page(rejected_report(name, exc))
    rendered = time.perf_counter() - verified - writer.seconds
    return StateOutcome(
        report=slim_report(report),
        report_line=report_line,
        summary=summary,
        warnings=tuple(warnings),
        manifest=writer.manifest(),
        files=writer.count,
        seconds=(read_seconds, parsed_at - started, verified - parsed_at, rendered, writer.seconds),
    )


def _without_page(report: InputReport) -> StateOutcome:
    """The outcome of an input that could not be read or parsed: a report and nothing else."""
    return StateOutcome(
        report=report,
        report_line=compact_json(report.to_json()),
        summary=None,
        warnings=(),
        manifest="",
        files=0,
    )


def _signature_bytes(signature_b64: str) -> bytes | None:
    try:
        return base64.b64decode(signature_b64, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return None


class _PaperFiles:
    """One paper's files, held as bytes until all are made and then written together, or none of them.

    The sum of their sizes may not pass ``limits.max_output_bytes_per_paper``: a state whose
    output would (its text shown on many pages, each character escaped to several bytes) is
    refused by a ``ParseError`` as soon as the sum passes it, before any file is written, so
    a rejected paper leaves nothing behind and the bytes held never pass the budget by more
    than one file.
    """

    def __init__(self, name: str, budget: int) -> None:
        self.name = name
        self.budget = budget
        self.size = 0
        self.files: dict[str, bytes] = {}

    def add(self, rel: str, data: bytes) -> None:
        """Hold ``data`` for ``rel``.

        Raises:
            ParseError: the paper's files now take more than the budget.
        """
        self.size += len(data)
        if self.size > self.budget:
            raise ParseError(
                self.name,
                "limits.max_output_bytes_per_paper",
                "limit.output",
                f"the paper's pages and files take more than the budget of {self.budget} bytes "
                f"({self.size} with {rel}, {len(self.files) + 1} files so far); none of them is written",
            )
        self.files[rel] = data

    def write(self, writer: TreeWriter) -> None:
        for rel, data in self.files.items():
            writer.write(rel, data)


def _write_paper(
    writer: TreeWriter,
    renderer: Renderer,
    ctx: PaperContext,
    parsed: ParsedState,
    report: InputReport,
    report_json: bytes,
    summary: PaperSummary,
    integrity_files: tuple[IntegrityInput, ...],
    integrity_json: bytes,
) -> list[str]:
    state, raw = parsed.state, parsed.raw
    base_path = paper_dir(summary.suffix)
    base = str(base_path)
    current = raw["current"]
    assert isinstance(current, dict)
    created = current["record_created"]
    assert isinstance(created, dict)
    payload = created["payload"]
    assert isinstance(payload, dict)
    record_bytes = canonical_bytes(payload["canonical_record"])
    files = _PaperFiles(summary.input, ctx.config.limits.max_output_bytes_per_paper)
    files.add(f"{base}/state.json", parsed.data)
    files.add(f"{base}/record.json", record_bytes)
    plain = not parsed.has_floats  # the raw values below, with strings of this module's
    files.add(f"{base}/receipt.json", json_bytes(payload["receipt"], plain=plain))
    signature = _signature_bytes(state.receipt.signature_b64)
    if signature is not None:
        files.add(f"{base}/signature.bin", signature)
    has_digest = _HEX64.fullmatch(state.record_canonical_sha256) is not None
    if has_digest:  # else the hash check failed and says so
        files.add(f"{base}/digest.bin", bytes.fromhex(state.record_canonical_sha256))
    files.add(f"{base}/integrity.json", integrity_json)
    check_status = {c.id: c.status.value for c in report.checks}
    files.add(f"{base}/aliases.json", json_bytes(_aliases_document(state, report, check_status)))
    files.add(
        f"{base}/graph.json",
        json_bytes(
            {
                "pith_number": state.pith_number,
                "status": report.verdict.value,
                "stated_by": "registry",
                "note": "Graph snapshot events as the registry states them; they carry no signature a mirror can check.",
                "graph_snapshots": current.get("graph_snapshots", []),
            },
            plain=plain,
        ),
    )
    files.add(f"{base}/verification.json", report_json)
    routes = alias_paths(summary)
    routed = {rel for _, _, rel in routes if rel is not None}
    derived = set(summary.aliases)
    alias_rows = [
        (a.kind, a.value, alias_path_text(a.kind, a.value) if (a.kind, a.value) in derived else None)
        for a in state.aliases
    ]
    short = short_forms(summary.suffix)
    files.add(
        f"{base}/index.html",
        paper_page(
            renderer,
            ctx.config,
            base,
            state=state,
            summary=summary,
            report=report,
            snapshot=state.latest_snapshot,
            integrity_files=integrity_files,
            key=ctx.keyring.get(state.receipt.key_id),
            short=short,
            short_links=[(value, f"pith/{value}" in routed) for value in short.values()],
            alias_rows=alias_rows,
            check_status=check_status,
            has_signature=signature is not None,
            has_digest=has_digest,
        ),
    )
    warnings = []
    redirects: dict[str, Redirect] = {}  # one page per directory, however often an alias is repeated
    for index, (kind, value, rel) in enumerate(routes):
        if rel is None:
            if kind in ("arxiv", "arxiv_version", "doi") or kind.startswith("pith_short"):
                warnings.append(
                    f"{summary.input}: current.source_aliases[{index}].alias_value: alias.path: "
                    f"{kind} {value!r} is not a safe path; no redirect written"
                )
        elif rel != base:
            redirects.setdefault(rel, Redirect(directory=rel, kind=kind, value=value))
    chosen = list(redirects.values())
    for redirect, page in zip(chosen, redirect_pages(renderer, chosen, summary), strict=True):
        files.add(f"{redirect.directory}/index.html", page)
    files.write(writer)
    return warnings


def paper_page(
    renderer: Renderer,
    config: SiteConfig,
    page_dir: str,
    *,
    state: StateFile,
    summary: PaperSummary,
    report: InputReport,
    short_links: list[tuple[str, bool]],
    alias_rows: list[tuple[str, str, str | None]],
    check_status: dict[str, str],
    key: RegistryKey | None,
    **context: object,
) -> bytes:
    """The paper page: ``paper.html`` with ``context``, the values ``_page_facts`` makes and the rows
    of its tables and lists (``short_links``: short form and whether it has a page; ``alias_rows``:
    kind, value and redirect directory of each alias; ``check_status``: the status of each check id),
    as the plain values of ``paper_rows`` that the template's loops print.
    """
    snapshot = state.latest_snapshot
    root = root_prefix(page_dir)
    alias_checks = {
        f"alias.{kind}": alias_status(kind, check_status, report.verdict).value for kind, _, _ in alias_rows
    }
    expected_fp = key.fingerprint_hex if key else state.receipt.public_key_fingerprint
    record = state.canonical_record
    shown_title = snapshot.paper.title if snapshot else None
    recipe = renderer.stamped_text(
        "_recipe.sh",
        {
            "suffix": summary.suffix,
            "pith_number": summary.pith_number,
            "hex64": _hex_or_note(state.record_canonical_sha256, 64),
            "source_id": _shell_quoted(record.source_id),
            "source_version": str(record.source_version),
            "title": _shell_quoted(shown_title or ""),
            "title_note": "" if shown_title is not None else "   # the page shows no title from the registry",
            "fp32": _hex_or_note(expected_fp, 32),
            "verdict": report.verdict.value,
            "failed_checks": ", ".join(c.id for c in report.failed_checks),
        },
    )
    return renderer.page(
        "paper.html",
        page_dir,
        state=state,
        key=key,
        expected_fp=expected_fp,
        recipe=recipe,
        summary=summary,
        report=report,
        check_status=check_status,
        short_forms=paper_rows.short_form_rows(short_links, root),
        aliases=paper_rows.alias_rows(alias_rows, alias_checks, root),
        checks=renderer.check_rows(paper_rows.check_rows(report.checks)),
        claims=paper_rows.claim_texts(snapshot.claims if snapshot else ()),
        references=paper_rows.reference_rows(snapshot.references_sample if snapshot else ()),
        completeness=renderer.completeness_items(paper_rows.completeness_rows(state.completeness)),
        events=paper_rows.event_rows([state.record_created, *(s.event for s in state.graph_snapshots)]),
        finding_rows=paper_rows.finding_rows,
        **context,
        **_page_facts(config, state, summary),
    )


def _shell_quoted(text: str) -> str:
    """``text`` as one bash word in single quotes, where nothing is expanded: each ``'`` is closed,
    escaped and reopened. Newlines stay inside the quotes, so no line of ``text`` runs as a command."""
    return "'" + text.replace("'", "'\\''") + "'"


def _hex_or_note(value: str, digits: int) -> str:
    """``value`` when it is ``digits`` lower-case hex digits, else a note saying it is not (for the recipe)."""
    if len(value) == digits and not value.strip("0123456789abcdef"):
        return value
    return f"(not stated as {digits} hex digits)"


def _page_facts(config: SiteConfig, state: StateFile, summary: PaperSummary) -> dict[str, object]:
    """The paper page's title, canonical link, DOI, schema.org JSON-LD (``ld``), description, author
    line and license link. The head's tags (``<title>``, Scholar, Open Graph, JSON-LD) carry
    ``head_title``, the title cut to ``LISTED_TITLE_CHARS`` as listings show it, so a hostile
    title is not repeated at full length five times more; the page's heading shows it whole.

    The JSON-LD and the description are what search engines and link previews show: they hold
    only values this build verified (the title, up to case; the signed record's date, license
    and identifiers), plus the abstract excerpt in the description, labelled as stated. The
    template shows them only for verified papers.
    """
    record = state.canonical_record
    snapshot = state.latest_snapshot
    paper = snapshot.paper if snapshot else None
    title = paper.title if paper else record.source_id
    head_title = _listed_title(title)  # the head's tags: a title that long is an attack, not a paper
    registry_page = f"{config.registry_url.rstrip('/')}/pith/{summary.suffix}"
    doi = next((value for kind, value in summary.aliases if kind == "doi"), "")
    identifiers: list[dict[str, str]] = [
        {"@type": "PropertyValue", "propertyID": "Pith number", "value": summary.pith_number}
    ]
    same_as: list[str] = []
    if record.source_kind == "arxiv":
        identifiers.append({"@type": "PropertyValue", "propertyID": "arXiv", "value": record.source_id})
        arxiv_abs = safe_link(f"https://arxiv.org/abs/{record.source_id}")
        if arxiv_abs:
            same_as.append(arxiv_abs)
    if doi:
        identifiers.append({"@type": "PropertyValue", "propertyID": "DOI", "value": doi})
        same_as.append(f"https://doi.org/{do_urlencode(doi)}")
    ld: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "name": head_title,
        "headline": head_title,
        "datePublished": record.submitted_at[:10],
        "url": registry_page,
        "mainEntityOfPage": registry_page,
        "identifier": identifiers,
        "sameAs": same_as,
    }
    if record.license:
        ld["license"] = record.license
    abstract = paper.abstract_excerpt if paper else ""
    description = f"Verified Pith record {summary.pith_number} of {record.source_id}."
    if abstract:
        description += f" Abstract excerpt, stated by the registry (not signed): {abstract}"
    return {
        "title": title,
        "head_title": head_title,
        "registry_page": registry_page,
        "doi": doi,
        "ld": ld,
        "meta_description": description,
        "authors_text": ", ".join(paper.authors if paper else ()),
        "license_link": safe_link(record.license) if record.license else None,
    }


def redirect_pages(renderer: Renderer, redirects: Sequence[Redirect], summary: PaperSummary) -> list[bytes]:
    """The page of each of ``redirects``: ``redirect.html`` naming the paper's Pith number and the alias.

    It shows nothing else of the input (no title, no authors): a paper has up to
    ``limits.max_aliases`` of them, so text repeated on each would multiply the paper's output.
    """
    return [
        page
        for redirect in redirects
        for page in renderer.stamped_pages(
            "redirect.html",
            [redirect.directory],
            {
                "pith_number": summary.pith_number,
                "suffix": summary.suffix,
                "alias_kind": redirect.kind,
                "alias_value": redirect.value,
            },
            lambda values: {**values, "verdict": summary.verdict.value},
            shape=summary.verdict,
        )
    ]


def _integrity_inputs(ctx: PaperContext, source_id: str) -> tuple[IntegrityInput, ...]:
    """The integrity files naming this paper, parsed from the bytes the build verified."""
    return tuple(
        IntegrityInput(report=ref.report, parsed=parse_integrity(ref.data, ref.rel, ctx.config.limits))
        for ref in ctx.integrity.get(source_id, ())
    )


def _integrity_document(parsed: ParsedState, integrity_files: tuple[IntegrityInput, ...]) -> bytes:
    """A paper's ``integrity.json``: the registry's integrity file when exactly one names the paper
    (the file this mirror copies from the registry's own endpoint), else the latest snapshot's
    findings; both are stated by the registry, and the page says so."""
    if len(integrity_files) == 1:
        return integrity_files[0].parsed.data
    current = parsed.raw.get("current")
    snapshots = current.get("graph_snapshots") if isinstance(current, dict) else None
    latest: JSONValue = None
    if isinstance(snapshots, list) and snapshots:
        last = snapshots[-1]
        if isinstance(last, dict):
            payload = last.get("payload")
            snap = payload.get("graph_snapshot") if isinstance(payload, dict) else None
            latest = snap.get("integrity") if isinstance(snap, dict) else None
    return json_bytes(
        {
            "signed": False,
            "stated_by": "registry",
            "note": "Findings stated by the registry in the graph snapshot; not signed, not verified here.",
            "integrity": latest,
        },
        plain=not parsed.has_floats,
    )


def _aliases_document(state: StateFile, report: InputReport, checks: dict[str, str]) -> dict[str, object]:
    """A paper's ``aliases.json``: every alias the state lists, each with what it may be called
    (``alias_status``: verified only when it derives from a verified record)."""
    return {
        "pith_number": state.pith_number,
        "status": report.verdict.value,
        "aliases": [
            {
                "alias_kind": alias.kind,
                "alias_value": alias.value,
                "check": alias_status(alias.kind, checks, report.verdict).value,
            }
            for alias in state.aliases
        ],
    }

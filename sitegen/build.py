"""The build pipeline: content directory in, verified static site out (layer 6).

Inputs are read in sorted order; each state file is parsed, verified and rendered
on its own, and only a small ``PaperSummary`` is kept for the site-wide pages, so
memory stays flat as the corpus grows. Everything is written into a staging
directory and swapped in at the end (see ``output.py``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sitegen.canonical import canonical_bytes
from sitegen.config import PageMeta, SiteConfig, load_site_config, split_front_matter
from sitegen.errors import ConfigError, InputError, ParseError, SitegenError
from sitegen.keys import Keyring
from sitegen.model import Alias, JSONValue, RegistryKey
from sitegen.output import StagedSite
from sitegen.parse import ParsedIntegrity, ParsedState
from sitegen.pithnum import is_suffix, short_forms, split_pith_number
from sitegen.render import Renderer, json_bytes
from sitegen.report import InputReport, Status, Verdict, report_document
from sitegen.search import search_files
from sitegen.sources import ContentFiles, discover, load_keyring, read_input
from sitegen.urls import alias_dir, integrity_endpoint_path, paper_dir, safe_relpath
from sitegen.verify import public_key_pem, rejected_report, verify_integrity_bytes, verify_state_bytes

__all__ = ["BuildResult", "PaperSummary", "build_site", "load_inputs_config"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "templates" / "assets"


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperSummary:
    """What the site-wide pages need of one paper; small on purpose."""

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


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityInput:
    """A registry integrity file placed beside the states, with its verification."""

    report: InputReport
    parsed: ParsedIntegrity


@dataclass(slots=True)
class BuildResult:
    reports: list[InputReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    papers: int = 0
    files_written: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts = {v.value: 0 for v in Verdict}
        for report in self.reports:
            counts[report.verdict.value] += 1
        return counts

    @property
    def all_verified(self) -> bool:
        return all(r.verdict is Verdict.VERIFIED for r in self.reports)


Progress = Callable[[int, int], None]


def load_inputs_config(content: Path) -> tuple[SiteConfig, Keyring]:
    """Read ``site.yaml`` and the keyring: the two things without which no build starts.

    Raises:
        ConfigError: either is malformed.
        InputError: the content directory is missing.
    """
    if not content.is_dir():
        raise InputError(str(content), "content directory does not exist or is not a directory")
    site_yaml = content / "site.yaml"
    text = ""
    if site_yaml.exists():
        try:
            text = site_yaml.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError("site.yaml", "", f"cannot read: {exc}", check="config.read") from exc
    config = load_site_config(text, "site.yaml")
    return config, load_keyring(content / "keys", "keys")


def build_site(content: Path, out: Path, *, progress: Progress | None = None) -> BuildResult:
    """Build the site from ``content`` into ``out``; returns every input's report.

    Raises:
        ConfigError, InputError: the build cannot start (nothing is written).
        OutputError, BuildError: the output could not be written (the old site stays).
    """
    started = time.monotonic()
    config, keyring = load_inputs_config(content)
    files = discover(content)
    result = BuildResult()
    result.warnings.extend(str(e) for e in files.refused)
    renderer = Renderer(config)
    with StagedSite(out) as site:
        integrity = _process_integrity(files, keyring, config, result)
        summaries = list(_process_states(files, keyring, config, renderer, site, integrity, result, progress))
        _write_site_pages(site, renderer, config, keyring, summaries, files, integrity, result)
        site.commit()
        result.files_written = site.files_written
    result.seconds = time.monotonic() - started
    return result


# -- per-input work ------------------------------------------------------------------


def _process_integrity(
    files: ContentFiles, keyring: Keyring, config: SiteConfig, result: BuildResult
) -> dict[str, IntegrityInput]:
    by_source: dict[str, IntegrityInput] = {}
    ambiguous: set[str] = set()
    for rel in files.integrity:
        name = str(rel)
        try:
            data = read_input(files.root, rel, config.limits)
        except (InputError, ParseError) as exc:
            result.reports.append(_unreadable(name, exc, "integrity"))
            continue
        report, parsed = verify_integrity_bytes(data, name, keyring, config.limits)
        result.reports.append(report)
        if parsed is None:
            continue
        source_id = parsed.integrity.arxiv_id
        if source_id in ambiguous:
            continue
        other = by_source.pop(source_id, None)
        if other is not None:
            ambiguous.add(source_id)
            result.warnings.append(
                f"{name}: arxiv_id: integrity.duplicate: {source_id} is also the subject "
                f"of {other.report.input}; neither is shown"
            )
            continue
        by_source[source_id] = IntegrityInput(report=report, parsed=parsed)
    return by_source


def _unreadable(name: str, exc: InputError | ParseError, kind: str) -> InputReport:
    if isinstance(exc, ParseError):
        return rejected_report(name, exc, kind)
    return rejected_report(name, ParseError(name, "", exc.check, exc.detail), kind)


def _process_states(
    files: ContentFiles,
    keyring: Keyring,
    config: SiteConfig,
    renderer: Renderer,
    site: StagedSite,
    integrity: dict[str, IntegrityInput],
    result: BuildResult,
    progress: Progress | None,
) -> Iterator[PaperSummary]:
    total = len(files.states)
    for done, rel in enumerate(files.states, start=1):
        name = str(rel)
        try:
            data = read_input(files.root, rel, config.limits)
        except (InputError, ParseError) as exc:
            result.reports.append(_unreadable(name, exc, "state"))
            continue
        report, parsed = verify_state_bytes(data, name, keyring, config.limits)
        result.reports.append(report)
        if parsed is not None:
            summary = _paper_summary(parsed, report)
            if summary is not None:
                _write_paper(site, renderer, config, keyring, parsed, report, summary, integrity)
                yield summary
            else:
                result.warnings.append(
                    f"{name}: pith_number: paper.path: not a well-formed pith number; no page written"
                )
        if progress is not None:
            progress(done, total)


def _paper_summary(parsed: ParsedState, report: InputReport) -> PaperSummary | None:
    state = parsed.state
    parts = split_pith_number(state.pith_number)
    if parts is None or not is_suffix(parts[1]):
        return None
    snapshot = state.latest_snapshot
    paper = snapshot.paper if snapshot else None
    integrity = snapshot.integrity if snapshot else None
    record = state.canonical_record
    return PaperSummary(
        input=report.input,
        verdict=report.verdict,
        suffix=parts[1],
        pith_number=state.pith_number,
        title=paper.title if paper else record.source_id,
        authors=paper.authors if paper else (),
        primary_cat=record.primary_cat,
        cross_cats=record.cross_cats,
        submitted_at=record.submitted_at,
        source_id=record.source_id,
        canonical_sha256=state.record_canonical_sha256,
        aliases=tuple((a.kind, a.value) for a in state.aliases),
        integrity_endpoint=integrity.endpoint if integrity else "",
    )


def _signature_bytes(signature_b64: str) -> bytes | None:
    try:
        return base64.b64decode(signature_b64, validate=True)
    except binascii.Error:
        return None


def _write_paper(
    site: StagedSite,
    renderer: Renderer,
    config: SiteConfig,
    keyring: Keyring,
    parsed: ParsedState,
    report: InputReport,
    summary: PaperSummary,
    integrity: dict[str, IntegrityInput],
) -> None:
    state, raw = parsed.state, parsed.raw
    base = paper_dir(summary.suffix)
    current = raw["current"]
    assert isinstance(current, dict)
    created = current["record_created"]
    assert isinstance(created, dict)
    payload = created["payload"]
    assert isinstance(payload, dict)
    record_bytes = canonical_bytes(payload["canonical_record"])
    signed = integrity.get(summary.source_id)
    key = keyring.get(state.receipt.key_id)
    site.write(base / "state.json", parsed.data)
    site.write(base / "record.json", record_bytes)
    site.write(base / "receipt.json", json_bytes(payload["receipt"]))
    signature = _signature_bytes(state.receipt.signature_b64)
    if signature is not None:
        site.write(base / "signature.bin", signature)
    with contextlib.suppress(ValueError):  # not hex: the canonical hash check failed and says so
        site.write(base / "digest.bin", bytes.fromhex(state.record_canonical_sha256))
    site.write(base / "integrity.json", _integrity_endpoint(state_integrity=current, signed=signed))
    site.write(base / "aliases.json", json_bytes(_aliases_document(summary, report)))
    site.write(
        base / "graph.json",
        json_bytes(
            {
                "pith_number": state.pith_number,
                "stated_by": "registry",
                "graph_snapshots": current.get("graph_snapshots", []),
            }
        ),
    )
    site.write(base / "verification.json", json_bytes(report.to_json()))
    site.write(
        base / "index.html",
        renderer.page(
            "paper.html",
            base,
            state=state,
            summary=summary,
            report=report,
            checks_by_id={c.id: c for c in report.checks},
            snapshot=state.latest_snapshot,
            signed_integrity=signed,
            key=key,
            short=short_forms(summary.suffix),
            record_text=record_bytes.decode("utf-8"),
            has_signature=signature is not None,
        ),
    )


def _integrity_endpoint(state_integrity: dict[str, JSONValue], signed: IntegrityInput | None) -> bytes:
    """The signed integrity file when the content has one, else the snapshot's unsigned findings."""
    if signed is not None:
        return signed.parsed.data
    snapshots = state_integrity.get("graph_snapshots")
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
            "note": "Findings stated by the registry in the paper's graph snapshot; not signed, not verified here.",
            "integrity": latest,
        }
    )


def _aliases_document(summary: PaperSummary, report: InputReport) -> dict[str, object]:
    checks = {c.id: c.status.value for c in report.checks}
    return {
        "pith_number": summary.pith_number,
        "aliases": [
            {
                "alias_kind": kind,
                "alias_value": value,
                "check": checks.get(f"alias.{kind}", Status.NOT_CHECKABLE.value),
            }
            for kind, value in summary.aliases
        ],
    }


# -- site-wide pages -----------------------------------------------------------------


def _sorted_for_index(summaries: Iterable[PaperSummary]) -> list[PaperSummary]:
    return sorted(summaries, key=lambda s: (s.submitted_at, s.suffix), reverse=True)


def _write_site_pages(
    site: StagedSite,
    renderer: Renderer,
    config: SiteConfig,
    keyring: Keyring,
    summaries: list[PaperSummary],
    files: ContentFiles,
    integrity: dict[str, IntegrityInput],
    result: BuildResult,
) -> None:
    claims = _resolve_claims(summaries, result)
    for rel, claimants in sorted(claims.items()):
        target = claimants[0]
        if len(claimants) == 1:
            if rel == paper_dir(target.suffix):
                continue
            site.write(rel / "index.html", renderer.page("redirect.html", rel, paper=target))
        else:
            if rel == paper_dir(claimants[0].suffix):
                site.remove_tree(rel)
            site.write(
                rel / "index.html", renderer.page("collision.html", rel, path=str(rel), claimants=claimants)
            )
    alias_map: dict[str, object] = {}
    for rel, claimants in sorted(claims.items()):
        alias_map[str(rel)] = (
            sorted({c.pith_number for c in claimants}) if len(claimants) > 1 else claimants[0].pith_number
        )
    site.write(PurePosixPath("aliases.json"), json_bytes({"aliases": alias_map}))
    _write_integrity_paths(site, summaries, integrity, claims, result)
    ordered = _sorted_for_index(summaries)
    _write_index(site, renderer, config, ordered)
    for rel, data in search_files(ordered):
        site.write(rel, data)
    pages = _load_pages(files, renderer, result)
    for meta, body_html in pages:
        rel = PurePosixPath(meta.slug)
        site.write(rel / "index.html", renderer.page("page.html", rel, meta=meta, body_html=body_html))
    not_verified = [
        r for r in sorted(result.reports, key=lambda r: r.input) if r.verdict is not Verdict.VERIFIED
    ]
    rel = PurePosixPath("verification")
    site.write(
        rel / "index.html",
        renderer.page(
            "verification.html",
            rel,
            reports=not_verified,
            counts=result.counts(),
            warnings=sorted(result.warnings),
        ),
    )
    site.write(
        PurePosixPath("verification-report.json"),
        json_bytes(report_document(result.reports, result.warnings)),
    )
    site.write(PurePosixPath("404.html"), renderer.page("404.html", PurePosixPath(".")))
    _write_keys(site, keyring)
    for asset in sorted(ASSETS_DIR.iterdir()):
        if asset.is_file():
            site.write(PurePosixPath("assets", asset.name), asset.read_bytes())
    result.papers = len(summaries)
    site.write(
        PurePosixPath("pages.json"), json_bytes([{"slug": m.slug, "title": m.title} for m, _ in pages])
    )


def _resolve_claims(
    summaries: list[PaperSummary], result: BuildResult
) -> dict[PurePosixPath, list[PaperSummary]]:
    """Map every page path (paper and alias) to the papers claiming it; report collisions."""
    claims: dict[PurePosixPath, list[PaperSummary]] = {}
    for summary in summaries:
        paths = {paper_dir(summary.suffix)}
        for kind, value in summary.aliases:
            rel = alias_dir(Alias(kind=kind, value=value, created_at=""))
            if rel is None:
                if kind in ("arxiv", "arxiv_version", "doi") or kind.startswith("pith_short"):
                    result.warnings.append(
                        f"{summary.input}: current.source_aliases: alias.path: "
                        f"{kind} {value!r} is not a safe path; no redirect written"
                    )
                continue
            paths.add(rel)
        for rel in paths:
            claims.setdefault(rel, []).append(summary)
    for rel, claimants in sorted(claims.items()):
        if len(claimants) > 1:
            names = ", ".join(f"{c.input} ({c.pith_number}, {c.verdict.value})" for c in claimants)
            result.warnings.append(f"/{rel}/: alias.collision: claimed by {names}; neither wins")
    return claims


def _write_integrity_paths(
    site: StagedSite,
    summaries: list[PaperSummary],
    integrity: dict[str, IntegrityInput],
    claims: dict[PurePosixPath, list[PaperSummary]],
    result: BuildResult,
) -> None:
    """Serve the integrity endpoint path a snapshot names, when it is safe and unclaimed."""
    seen: set[PurePosixPath] = set()
    for summary in sorted(summaries, key=lambda s: s.input):
        if not summary.integrity_endpoint:
            continue
        rel = integrity_endpoint_path(summary.integrity_endpoint)
        if rel is None or rel.parent in claims or rel in seen:
            result.warnings.append(
                f"{summary.input}: current.graph_snapshots.integrity.endpoint: integrity.path: "
                f"{summary.integrity_endpoint!r} is not a safe, unclaimed path; not served"
            )
            continue
        seen.add(rel)
        source = site.path(paper_dir(summary.suffix) / "integrity.json")
        if paper_dir(summary.suffix) in claims and len(claims[paper_dir(summary.suffix)]) > 1:
            continue
        site.write(rel, source.read_bytes())
    del integrity


def _write_index(
    site: StagedSite, renderer: Renderer, config: SiteConfig, ordered: list[PaperSummary]
) -> None:
    per_page = config.papers_per_page
    chunks = [ordered[i : i + per_page] for i in range(0, len(ordered), per_page)] or [[]]
    counts = {v.value: 0 for v in Verdict}
    for summary in ordered:
        counts[summary.verdict.value] += 1
    for number, chunk in enumerate(chunks, start=1):
        rel = PurePosixPath(".") if number == 1 else PurePosixPath("papers", str(number))
        out = PurePosixPath("index.html") if number == 1 else rel / "index.html"
        site.write(
            out,
            renderer.page(
                "index.html",
                rel,
                papers=chunk,
                page_number=number,
                page_count=len(chunks),
                total=len(ordered),
                counts=counts,
            ),
        )


def _load_pages(files: ContentFiles, renderer: Renderer, result: BuildResult) -> list[tuple[PageMeta, str]]:
    pages: list[tuple[PageMeta, str]] = []
    reserved = {"pith", "arxiv", "doi", "keys", "assets", "verification", "papers", "search"}
    for rel in files.pages:
        try:
            text = (files.root / rel).read_text(encoding="utf-8")
            meta, body = split_front_matter(text, str(rel))
        except (OSError, UnicodeDecodeError) as exc:
            result.warnings.append(f"{rel}: page.read: {exc}")
            continue
        except SitegenError as exc:
            result.warnings.append(str(exc))
            continue
        if meta.slug in reserved or any(m.slug == meta.slug for m, _ in pages):
            result.warnings.append(
                f"{rel}: slug: page.slug: {meta.slug!r} is reserved or used by another page"
            )
            continue
        pages.append((meta, renderer.markdown_html(body)))
    return sorted(pages, key=lambda p: (p[0].order, p[0].slug))


def _write_keys(site: StagedSite, keyring: Keyring) -> None:
    listing = []
    for key in keyring.keys:
        rel = safe_relpath(key.key_id)
        if rel is None or len(rel.parts) != 1:
            continue
        site.write(PurePosixPath("keys", f"{key.key_id}.pem"), public_key_pem(key))
        site.write(PurePosixPath("keys", f"{key.key_id}.json"), json_bytes(dict(key.document)))
        listing.append(_key_entry(key))
    site.write(PurePosixPath("keys", "index.json"), json_bytes({"keys": listing}))


def _key_entry(key: RegistryKey) -> dict[str, object]:
    return {
        "key_id": key.key_id,
        "fingerprint_sha256_hex": key.fingerprint_hex,
        "fingerprint_sha256_b32_first128bits": key.fingerprint_b32,
        "public_key_hex": key.public_key.hex(),
        "pem": f"keys/{key.key_id}.pem",
    }

"""Typed, frozen models of what the site uses from Pith files (layer 1).

Only ``parse.py`` builds these, field by field, from strictly parsed JSON. Fields
the format may grow are kept on the side (``extra_fields``) and never trusted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "COMPLETENESS_LISTS",
    "Alias",
    "CanonicalRecord",
    "Claim",
    "Event",
    "Finding",
    "GraphSnapshot",
    "IntegrityEvent",
    "IntegrityFile",
    "IntegritySnapshot",
    "JSONValue",
    "Paper",
    "Receipt",
    "Reference",
    "RegistryKey",
    "Signer",
    "StateFile",
]

JSONValue = object
"""A value as ``json.loads`` returns it; only ``parse.py`` looks inside."""

COMPLETENESS_LISTS = (
    "author_attestations",
    "timestamp_anchors",
    "storage_attestations",
    "citation_signatures",
    "replication_records",
    "corrections",
    "mirror_hints",
)
"""The lists of ``current`` shown as a completeness checklist, in display order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Signer:
    key_id: str
    public_key_fingerprint: str
    signer_id: str
    signer_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One event of a state: ``record_created`` or a graph snapshot."""

    event_id: str
    target: str
    created_at: str
    signer: Signer


@dataclass(frozen=True, slots=True, kw_only=True)
class CanonicalRecord:
    schema_version: str
    source_kind: str
    source_id: str
    source_version: int
    submitted_at: str
    license: str
    primary_cat: str
    cross_cats: tuple[str, ...]
    title_canon_sha256: str
    abstract_canon_sha256: str

    @property
    def year(self) -> int | None:
        """Year of ``submitted_at``, or None when it does not start with four digits."""
        head = self.submitted_at[:4]
        # isascii: str.isdigit() is also true for "²" and "２", which are not a year.
        return int(head) if len(head) == 4 and head.isascii() and head.isdigit() else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    algorithm: str
    key_id: str
    public_key_fingerprint: str
    signature_b64: str
    signed_message: str
    canonical_sha256: str
    signed_at: str
    kind: str
    receipt_version: str
    signature_status: str
    builder_version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Alias:
    kind: str
    value: str
    created_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Paper:
    """Paper metadata stated by the registry in a graph snapshot (OBSERVED)."""

    title: str
    authors_text: str
    abstract_excerpt: str
    primary_cat: str
    cross_cats: tuple[str, ...]
    license: str
    submitted_at: str
    headline: str

    @property
    def authors(self) -> tuple[str, ...]:
        """Authors split on commas, as the registry lists them."""
        return tuple(a.strip() for a in self.authors_text.split(",") if a.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    detector: str
    finding_type: str
    severity: str
    verdict_class: str
    note: str
    detected_doi: str
    detected_arxiv_id: str
    ref_index: int | None
    audited_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegritySnapshot:
    available: bool
    clean: bool | None
    endpoint: str
    critical: int
    advisory: int
    informational: int
    detectors: tuple[str, ...]
    findings: tuple[Finding, ...]
    snapshot_sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    text: str
    doi: str
    arxiv_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphSnapshot:
    event: Event
    paper: Paper
    integrity: IntegritySnapshot | None
    claims_count: int
    claims: tuple[Claim, ...]
    references_count: int
    references_sample: tuple[Reference, ...]
    verdict: tuple[tuple[str, str], ...]
    """Non-empty text fields of the registry's verdict, as (name, value) pairs."""
    builder_version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StateFile:
    """A parsed ``pith_open_graph_state`` file; the raw JSON is kept beside it for hashing."""

    state_version: str
    pith_number: str
    merge_version: str
    event_count: int
    valid_event_count: int
    invalid_event_count: int
    equivocation_count: int
    canonical_record: CanonicalRecord
    """``current.canonical_record``: what the registry shows as current."""
    signed_record: CanonicalRecord
    """``current.record_created.payload.canonical_record``: the record the receipt covers.
    Every derivation is checked against this one; the two must be equal."""
    record_created: Event
    record_canonical_sha256: str
    receipt: Receipt
    attestation_state: str
    aliases: tuple[Alias, ...]
    graph_snapshots: tuple[GraphSnapshot, ...]
    completeness: tuple[tuple[str, int], ...]
    """(list name, number of entries) for each of ``COMPLETENESS_LISTS``."""
    equivocations: int
    invalid_events: int
    applied_event_ids: tuple[str, ...]
    state_sha256: str
    extra_fields: tuple[str, ...] = ()
    """Dotted paths of fields this version does not know; kept, shown, never trusted."""

    @property
    def latest_snapshot(self) -> GraphSnapshot | None:
        return self.graph_snapshots[-1] if self.graph_snapshots else None

    @property
    def suffix(self) -> str:
        return self.pith_number.rsplit(":", 1)[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityEvent:
    event_id: int
    event_type: str
    payload_sha256: str
    signature_b64: str
    signing_key_id: str
    created_at: str
    payload: Mapping[str, JSONValue] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityFile:
    """A registry ``integrity.json``: findings whose events the registry signs."""

    arxiv_id: str
    integrity: IntegritySnapshot
    events: tuple[IntegrityEvent, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistryKey:
    """A trusted Ed25519 key, checked against its own stated fingerprints on load."""

    key_id: str
    public_key: bytes
    fingerprint_hex: str
    fingerprint_b32: str
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    source: str = ""
    document: Mapping[str, JSONValue] = field(default_factory=dict)
    """The key file as given, republished at ``/keys/``."""

"""Every check the build makes on a state or integrity file (layer 3).

One ``check_*`` function per fact, each returning a ``Check``; ``verify_state`` and
``verify_integrity`` compose them into an ``InputReport``. Nothing here raises for a
bad paper and nothing here does I/O. The trust anchor is the operator's keyring: a
receipt's ``key_id`` only *selects* a key from it. This is the only module that
imports ``cryptography``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sitegen.canonical import (
    canonical_bytes,
    canonical_sha256_hex,
    sha256_hex,
    state_sha256_hex,
    title_canon_sha256_hex,
)
from sitegen.errors import ParseError
from sitegen.keys import Keyring, parse_timestamp
from sitegen.model import IntegrityEvent, JSONValue, RegistryKey, StateFile
from sitegen.parse import (
    DEFAULT_LIMITS,
    Limits,
    ParsedIntegrity,
    ParsedState,
    parse_integrity,
    parse_state,
)
from sitegen.pithnum import SHORT_LENGTHS, pith_suffix, short_forms, split_pith_number
from sitegen.report import Check, InputReport, Status, Verdict, decide_verdict

__all__ = [
    "CHECK_EXPLANATIONS",
    "SIGNATURE_CHECK",
    "check_ed25519",
    "public_key_pem",
    "rejected_report",
    "verify_integrity",
    "verify_integrity_bytes",
    "verify_state",
    "verify_state_bytes",
]

SIGNATURE_CHECK = "receipt.signature"
INTEGRITY_SIGNATURE_CHECK = "integrity.signatures"

_RECORD = "current.record_created.payload"
_RECEIPT = f"{_RECORD}.receipt"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_EVENT_ID = re.compile(r"sha256:[0-9a-f]{64}")

CHECK_EXPLANATIONS: Mapping[str, str] = {
    "state.parse": "The file could be read as a Pith state file (strict JSON, known type and version, every field of the right type).",
    "record.canonical_sha256": "The SHA-256 of the canonical record, recomputed here, equals the hash the registry stated and signed.",
    "record.current_matches_created": "The current canonical record is byte for byte the record the registry signed when it created the Pith number.",
    "pith_number.suffix": "The Pith number's 26-character suffix is the base32 of the recomputed canonical hash.",
    "pith_number.year": "The Pith number's year is the year the paper was submitted.",
    "alias.pith_short_8": "The 8-character short alias is the first 8 characters of the recomputed suffix.",
    "alias.pith_short_12": "The 12-character short alias is the first 12 characters of the recomputed suffix.",
    "alias.pith_short_16": "The 16-character short alias is the first 16 characters of the recomputed suffix.",
    "alias.arxiv": "The arXiv alias is the source id of the signed record.",
    "alias.arxiv_version": "The arXiv version alias is the source id and version of the signed record.",
    "alias.doi": "The DOI alias is arXiv's DOI for the source id of the signed record.",
    "receipt.key_fingerprint": "The receipt names a key this site trusts, and its fingerprint is that key's.",
    "receipt.key_validity": "The receipt was signed while the trusted key was valid.",
    "receipt.signature": "The registry's Ed25519 signature over the 32 bytes of the canonical hash verifies with the trusted key.",
    "state.state_sha256": "The SHA-256 of the whole state file (without its own hash), recomputed here, equals the stated state hash.",
    "title.canon_sha256": "The SHA-256 of the lower-cased title shown here equals the title hash in the signed record.",
    "events.ids": "Every event id is well formed (sha256: and 64 hex digits) and appears once.",
    "events.applied_ids": "Every event in the state is listed among the applied event ids.",
    "events.counts": "The event counts agree with the lists they count.",
    "events.signatures": "Events in a state file carry no signature of their own, so graph snapshots cannot be signature-checked.",
    "events.id_derivation": "How an event id is derived from its event is not published, so ids cannot be recomputed.",
    "graph.snapshot_sha256": "What the snapshot hashes cover is not published, so they cannot be recomputed.",
    "record.abstract_canon_sha256": "A state file holds only an excerpt of the abstract, so the abstract hash cannot be recomputed.",
    "state.merge_rules": "The registry's merge rules are not published, so the merged state cannot be recomputed.",
    "integrity.parse": "The file could be read as a registry integrity file.",
    "integrity.signatures": "Each integrity event's Ed25519 signature over its stated payload digest verifies with a trusted key.",
    "integrity.payload_sha256": "Each event's payload digest is recomputed from its payload.",
}


def _check(
    check_id: str,
    status: Status,
    summary: str,
    json_path: str = "",
    *,
    expected: str | None = None,
    observed: str | None = None,
) -> Check:
    return Check(
        id=check_id, status=status, summary=summary, json_path=json_path, expected=expected, observed=observed
    )


def _equal(check_id: str, json_path: str, expected: str, observed: str, what: str) -> Check:
    """VERIFIED when ``observed`` equals ``expected``, else FAILED with both sides."""
    if observed == expected:
        return _check(
            check_id, Status.VERIFIED, f"{what} matches", json_path, expected=expected, observed=observed
        )
    return _check(
        check_id,
        Status.FAILED,
        f"{what}: expected {expected}, got {observed}",
        json_path,
        expected=expected,
        observed=observed,
    )


# -- record and Pith number ----------------------------------------------------------


def _record_value(raw: Mapping[str, JSONValue], *path: str) -> JSONValue:
    value: JSONValue = raw
    for key in path:
        assert isinstance(value, dict)
        value = value[key]
    return value


def check_canonical_sha256(raw: Mapping[str, JSONValue], state: StateFile) -> tuple[Check, str]:
    """Recompute the canonical hash of the signed record; return the check and the hash."""
    record = _record_value(raw, "current", "record_created", "payload", "canonical_record")
    recomputed = canonical_sha256_hex(record)
    for path, stated in (
        (f"{_RECORD}.canonical_sha256", state.record_canonical_sha256),
        (f"{_RECEIPT}.canonical_sha256", state.receipt.canonical_sha256),
    ):
        if stated != recomputed:
            return _check(
                "record.canonical_sha256",
                Status.FAILED,
                f"expected {stated} (stated), got {recomputed} (recomputed)",
                path,
                expected=stated,
                observed=recomputed,
            ), recomputed
    return _check(
        "record.canonical_sha256",
        Status.VERIFIED,
        "recomputed canonical hash equals the payload's and the receipt's",
        f"{_RECORD}.canonical_sha256",
        expected=recomputed,
        observed=recomputed,
    ), recomputed


def check_current_record(raw: Mapping[str, JSONValue]) -> Check:
    current = canonical_bytes(_record_value(raw, "current", "canonical_record"))
    created = canonical_bytes(_record_value(raw, "current", "record_created", "payload", "canonical_record"))
    if current == created:
        return _check(
            "record.current_matches_created",
            Status.VERIFIED,
            "current record equals the signed record",
            "current.canonical_record",
        )
    return _check(
        "record.current_matches_created",
        Status.FAILED,
        "current.canonical_record differs from the record in record_created",
        "current.canonical_record",
        expected=sha256_hex(created),
        observed=sha256_hex(current),
    )


def check_pith_number(state: StateFile, digest_hex: str) -> list[Check]:
    derived = pith_suffix(bytes.fromhex(digest_hex))
    parts = split_pith_number(state.pith_number)
    if parts is None:
        return [
            _check(
                "pith_number.suffix",
                Status.FAILED,
                f"not a well-formed pith number: {state.pith_number!r}",
                "pith_number",
                expected=f"pith:YEAR:{derived}",
                observed=state.pith_number,
            )
        ]
    year, suffix = parts
    checks = [_equal("pith_number.suffix", "pith_number", derived, suffix, "pith number suffix")]
    record_year = state.canonical_record.year
    if record_year is None:
        checks.append(
            _check(
                "pith_number.year",
                Status.FAILED,
                f"submitted_at has no year: {state.canonical_record.submitted_at!r}",
                "current.canonical_record.metadata.submitted_at",
            )
        )
    else:
        checks.append(
            _equal("pith_number.year", "pith_number", str(record_year), str(year), "pith number year")
        )
    return checks


def check_aliases(state: StateFile, digest_hex: str) -> list[Check]:
    """Short aliases derive from the recomputed suffix; arXiv and DOI aliases from the source."""
    suffix = pith_suffix(bytes.fromhex(digest_hex))
    expected: dict[str, str] = {f"pith_short_{n}": v for n, v in short_forms(suffix).items()}
    record = state.canonical_record
    if record.source_kind == "arxiv":
        expected["arxiv"] = record.source_id
        expected["arxiv_version"] = f"{record.source_id}v{record.source_version}"
        expected["doi"] = f"10.48550/arxiv.{record.source_id}"
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for index, alias in enumerate(state.aliases):
        by_kind.setdefault(alias.kind, []).append((index, alias.value))
    checks = []
    order = [f"pith_short_{n}" for n in SHORT_LENGTHS] + ["arxiv", "arxiv_version", "doi"]
    for kind in (k for k in order if k in expected):
        check_id = f"alias.{kind}"
        found = by_kind.get(kind, [])
        if not found:
            checks.append(
                _check(
                    check_id,
                    Status.NOT_CHECKABLE,
                    f"the state has no {kind} alias",
                    "current.source_aliases",
                    expected=expected[kind],
                )
            )
            continue
        bad = [(i, v) for i, v in found if v != expected[kind]]
        if bad:
            index, value = bad[0]
            checks.append(
                _check(
                    check_id,
                    Status.FAILED,
                    f"{kind} alias: expected {expected[kind]}, got {value}",
                    f"current.source_aliases[{index}].alias_value",
                    expected=expected[kind],
                    observed=value,
                )
            )
        else:
            checks.append(
                _check(
                    check_id,
                    Status.VERIFIED,
                    f"{kind} alias matches",
                    f"current.source_aliases[{found[0][0]}].alias_value",
                    expected=expected[kind],
                    observed=expected[kind],
                )
            )
    return checks


# -- signatures ----------------------------------------------------------------------


def check_ed25519(key: RegistryKey, digest: bytes, signature_b64: str) -> tuple[Status, str]:
    """Verify an Ed25519 signature over raw digest bytes; return a status and a reason."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return Status.FAILED, "signature is not valid base64"
    if len(signature) != 64:
        return Status.FAILED, f"an Ed25519 signature has 64 bytes, got {len(signature)}"
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, digest)
    except InvalidSignature:
        return Status.FAILED, f"signature does not verify with trusted key {key.key_id}"
    return Status.VERIFIED, f"signature verifies with trusted key {key.key_id}"


def public_key_pem(key: RegistryKey) -> bytes:
    """The key as a PEM SubjectPublicKeyInfo, the form ``openssl pkeyutl`` reads."""
    return Ed25519PublicKey.from_public_bytes(key.public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_receipt(state: StateFile, digest_hex: str, keyring: Keyring) -> list[Check]:
    receipt = state.receipt
    key = keyring.get(receipt.key_id)
    if key is None:
        reason = f"key {receipt.key_id!r} is not in this site's keyring"
        return [
            _check(
                "receipt.key_fingerprint",
                Status.NOT_CHECKABLE,
                reason,
                f"{_RECEIPT}.key_id",
                observed=receipt.key_id,
            ),
            _check("receipt.key_validity", Status.NOT_CHECKABLE, reason, f"{_RECEIPT}.signed_at"),
            _check(SIGNATURE_CHECK, Status.NOT_CHECKABLE, reason, f"{_RECEIPT}.signature_b64"),
        ]
    checks = [
        _equal(
            "receipt.key_fingerprint",
            f"{_RECEIPT}.public_key_fingerprint",
            key.fingerprint_hex,
            receipt.public_key_fingerprint,
            "key fingerprint",
        )
    ]
    checks.append(_check_validity(key, receipt.signed_at))
    sig_path = f"{_RECEIPT}.signature_b64"
    if receipt.algorithm != "ed25519" or receipt.signed_message != "canonical_sha256_bytes":
        checks.append(
            _check(
                SIGNATURE_CHECK,
                Status.NOT_CHECKABLE,
                f"unsupported scheme: algorithm {receipt.algorithm!r}, "
                f"signed_message {receipt.signed_message!r}",
                f"{_RECEIPT}.algorithm",
            )
        )
    else:
        status, reason = check_ed25519(key, bytes.fromhex(digest_hex), receipt.signature_b64)
        checks.append(_check(SIGNATURE_CHECK, status, reason, sig_path, observed=key.fingerprint_hex))
    return checks


def _check_validity(key: RegistryKey, signed_at_text: str) -> Check:
    path = f"{_RECEIPT}.signed_at"
    if key.not_before is None and key.not_after is None:
        return _check(
            "receipt.key_validity", Status.VERIFIED, f"key {key.key_id} states no validity window", path
        )
    signed_at = parse_timestamp(signed_at_text)
    if signed_at is None:
        return _check(
            "receipt.key_validity",
            Status.FAILED,
            f"signed_at is not an ISO 8601 time with a zone: {signed_at_text!r}",
            path,
        )
    window = f"[{_iso(key.not_before)}, {_iso(key.not_after)})"
    if (key.not_before is not None and signed_at < key.not_before) or (
        key.not_after is not None and signed_at >= key.not_after
    ):
        return _check(
            "receipt.key_validity",
            Status.FAILED,
            f"signed at {signed_at_text}, outside key {key.key_id}'s validity {window}",
            path,
            expected=window,
            observed=signed_at_text,
        )
    return _check(
        "receipt.key_validity", Status.VERIFIED, f"signed inside key {key.key_id}'s validity {window}", path
    )


def _iso(value: object) -> str:
    return "-" if value is None else str(value).replace("+00:00", "Z").replace(" ", "T")


# -- state-level facts ---------------------------------------------------------------


def check_state_sha256(raw: Mapping[str, JSONValue], state: StateFile) -> Check:
    return _equal(
        "state.state_sha256", "state_sha256", state_sha256_hex(raw), state.state_sha256, "state hash"
    )


def check_title(state: StateFile) -> Check:
    snapshot = state.latest_snapshot
    path = "current.canonical_record.metadata.title_canon_sha256"
    if snapshot is None:
        return _check(
            "title.canon_sha256", Status.NOT_CHECKABLE, "the state has no graph snapshot with a title", path
        )
    recomputed = title_canon_sha256_hex(snapshot.paper.title)
    stated = state.canonical_record.title_canon_sha256
    if recomputed == stated:
        return _check(
            "title.canon_sha256",
            Status.VERIFIED,
            "hash of the lower-cased title equals the signed title hash",
            path,
            expected=stated,
            observed=recomputed,
        )
    return _check(
        "title.canon_sha256",
        Status.FAILED,
        f"title {snapshot.paper.title!r} hashes to {recomputed}, the signed record states {stated}",
        path,
        expected=stated,
        observed=recomputed,
    )


def check_event_ids(state: StateFile) -> list[Check]:
    events = [("current.record_created.event_id", state.record_created.event_id)] + [
        (f"current.graph_snapshots[{i}].event_id", s.event.event_id)
        for i, s in enumerate(state.graph_snapshots)
    ]
    applied = [(f"applied_event_ids[{i}]", v) for i, v in enumerate(state.applied_event_ids)]
    ids_check = _check(
        "events.ids",
        Status.VERIFIED,
        f"{len(events)} event ids and {len(applied)} applied ids are well formed and unique",
    )
    seen_events: set[str] = set()
    seen_applied: set[str] = set()
    for group, seen in ((events, seen_events), (applied, seen_applied)):
        for path, event_id in group:
            if _EVENT_ID.fullmatch(event_id) is None:
                ids_check = _check(
                    "events.ids",
                    Status.FAILED,
                    f"malformed event id {event_id!r}",
                    path,
                    expected="sha256:<64 lower-case hex digits>",
                    observed=event_id,
                )
                break
            if event_id in seen:
                ids_check = _check(
                    "events.ids", Status.FAILED, f"event id {event_id} appears twice", path, observed=event_id
                )
                break
            seen.add(event_id)
        if ids_check.status is Status.FAILED:
            break
    missing = [(path, event_id) for path, event_id in events if event_id not in seen_applied]
    if missing:
        path, event_id = missing[0]
        applied_check = _check(
            "events.applied_ids",
            Status.FAILED,
            f"event {event_id} is not listed in applied_event_ids",
            path,
            observed=event_id,
        )
    else:
        applied_check = _check(
            "events.applied_ids",
            Status.VERIFIED,
            "every event is listed in applied_event_ids",
            "applied_event_ids",
        )
    return [ids_check, applied_check]


def check_counts(state: StateFile) -> Check:
    relations = [
        (
            "valid_event_count",
            state.valid_event_count,
            "number of applied_event_ids",
            len(state.applied_event_ids),
        ),
        ("invalid_event_count", state.invalid_event_count, "number of invalid_events", state.invalid_events),
        ("equivocation_count", state.equivocation_count, "number of equivocations", state.equivocations),
        (
            "event_count",
            state.event_count,
            "valid_event_count + invalid_event_count",
            state.valid_event_count + state.invalid_event_count,
        ),
    ]
    for field, stated, what, counted in relations:
        if stated != counted:
            return _check(
                "events.counts",
                Status.FAILED,
                f"{field} is {stated}, but the {what} is {counted}",
                field,
                expected=str(counted),
                observed=str(stated),
            )
    return _check("events.counts", Status.VERIFIED, "event counts agree with the lists", "event_count")


_UNCHECKABLE = (
    ("events.signatures", "state files carry no per-event signatures", "current.graph_snapshots"),
    ("events.id_derivation", "the event id derivation is not published", "applied_event_ids"),
    ("graph.snapshot_sha256", "what snapshot_sha256 covers is not published", "current.graph_snapshots"),
    (
        "record.abstract_canon_sha256",
        "a state file holds only an abstract excerpt",
        "current.canonical_record.metadata.abstract_canon_sha256",
    ),
    ("state.merge_rules", "the rules of the merge version are not published", "merge_version"),
)


def verify_state(parsed: ParsedState, keyring: Keyring, input_name: str) -> InputReport:
    """Run every check on one parsed state file and decide its verdict. Never raises for bad data."""
    state, raw = parsed.state, parsed.raw
    hash_check, digest_hex = check_canonical_sha256(raw, state)
    checks: list[Check] = [hash_check, check_current_record(raw)]
    checks += check_pith_number(state, digest_hex)
    checks += check_aliases(state, digest_hex)
    checks += check_receipt(state, digest_hex, keyring)
    checks.append(check_state_sha256(raw, state))
    checks.append(check_title(state))
    checks += check_event_ids(state)
    checks.append(check_counts(state))
    checks += [_check(cid, Status.NOT_CHECKABLE, why, path) for cid, why, path in _UNCHECKABLE]
    verdict = decide_verdict(checks, SIGNATURE_CHECK)
    return InputReport(
        input=input_name,
        kind="state",
        verdict=verdict,
        checks=tuple(checks),
        errors=tuple(_messages(input_name, checks)),
        pith_number=state.pith_number,
        source_id=state.canonical_record.source_id,
    )


def _messages(input_name: str, checks: list[Check]) -> list[str]:
    return [f"{input_name}: {c.json_path}: {c.id}: {c.summary}" for c in checks if c.status is Status.FAILED]


def rejected_report(input_name: str, error: ParseError, kind: str = "state") -> InputReport:
    """The report of a file that could not be read as a state or integrity file at all."""
    check = _check(f"{kind}.parse", Status.FAILED, f"{error.check}: {error.detail}", error.field)
    return InputReport(
        input=input_name, kind=kind, verdict=Verdict.REJECTED, checks=(check,), errors=(str(error),)
    )


# -- integrity files -----------------------------------------------------------------


def verify_integrity(parsed: ParsedIntegrity, keyring: Keyring, input_name: str) -> InputReport:
    """Check each integrity event's signature over its stated payload digest."""
    checks: list[Check] = []
    statuses: list[Status] = []
    for index, event in enumerate(parsed.integrity.events):
        status, reason = _integrity_event_status(event, keyring)
        statuses.append(status)
        checks.append(
            _check(
                f"{INTEGRITY_SIGNATURE_CHECK}[{index}]",
                status,
                f"event {event.event_id}: {reason}",
                f"events[{index}].signature_b64",
            )
        )
    if not statuses:
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK, Status.NOT_CHECKABLE, "the file has no signed events", "events"
        )
    elif Status.FAILED in statuses:
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK,
            Status.FAILED,
            f"{statuses.count(Status.FAILED)} of {len(statuses)} event signatures fail",
            "events",
        )
    elif all(s is Status.VERIFIED for s in statuses):
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK,
            Status.VERIFIED,
            f"all {len(statuses)} event signatures verify",
            "events",
        )
    else:
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK,
            Status.NOT_CHECKABLE,
            "some events are signed by keys this site does not trust",
            "events",
        )
    all_checks = [summary, *checks, *_payload_digest_checks(parsed.integrity.events)]
    return InputReport(
        input=input_name,
        kind="integrity",
        verdict=decide_verdict(all_checks, INTEGRITY_SIGNATURE_CHECK),
        checks=tuple(all_checks),
        errors=tuple(_messages(input_name, all_checks)),
        source_id=parsed.integrity.arxiv_id,
    )


def _integrity_event_status(event: IntegrityEvent, keyring: Keyring) -> tuple[Status, str]:
    key = keyring.get(event.signing_key_id)
    if key is None:
        return Status.NOT_CHECKABLE, f"key {event.signing_key_id!r} is not in this site's keyring"
    if _HEX64.fullmatch(event.payload_sha256) is None:
        return Status.FAILED, "payload_sha256 is not 64 lower-case hex digits"
    return check_ed25519(key, bytes.fromhex(event.payload_sha256), event.signature_b64)


def _payload_digest_checks(events: tuple[IntegrityEvent, ...]) -> list[Check]:
    """The payload-to-digest link is verified only where it recomputes; otherwise it is unknown."""

    def recomputes(e: IntegrityEvent) -> bool:
        return e.payload is not None and canonical_sha256_hex(e.payload) == e.payload_sha256

    linked = [e.event_id for e in events if recomputes(e)]
    if events and len(linked) == len(events):
        return [
            _check("integrity.payload_sha256", Status.VERIFIED, "every payload digest recomputes", "events")
        ]
    return [
        _check(
            "integrity.payload_sha256",
            Status.NOT_CHECKABLE,
            "how payload_sha256 is derived from the payload is not published",
            "events",
        )
    ]


def verify_state_bytes(
    data: bytes, input_name: str, keyring: Keyring, limits: Limits = DEFAULT_LIMITS
) -> tuple[InputReport, ParsedState | None]:
    """Parse and verify one state file's bytes; a file that does not parse is ``rejected``."""
    try:
        parsed = parse_state(data, input_name, limits)
    except ParseError as exc:
        return rejected_report(input_name, exc), None
    return verify_state(parsed, keyring, input_name), parsed


def verify_integrity_bytes(
    data: bytes, input_name: str, keyring: Keyring, limits: Limits = DEFAULT_LIMITS
) -> tuple[InputReport, ParsedIntegrity | None]:
    """Parse and verify one integrity file's bytes; a file that does not parse is ``rejected``."""
    try:
        parsed = parse_integrity(data, input_name, limits)
    except ParseError as exc:
        return rejected_report(input_name, exc, kind="integrity"), None
    return verify_integrity(parsed, keyring, input_name), parsed

"""Every check the build makes on a state or integrity file (layer 1).

One ``check_*`` function per fact, each returning a ``Check``; ``verify_state`` and
``verify_integrity`` compose them into an ``InputReport``. Nothing here raises for a
bad paper and nothing here does I/O. This is the only module of the build that
imports ``cryptography``.

What ``verified`` means, and what it does not:

- The trust anchor is the operator's keyring. A receipt's ``key_id`` only *selects* a
  key from it; the receipt's stated fingerprint must then be that key's.
- The one signature in a state file covers the 32 bytes of the canonical record's
  SHA-256. It is checked over the digest recomputed here from the signed record
  (``current.record_created.payload.canonical_record``), never over a stated digest.
  Every derivation (Pith number, short aliases, arXiv/DOI aliases, title hash) is
  checked against that signed record, and ``current.canonical_record`` must equal it.
- Everything else is consistency, not signature: ``state_sha256`` (anyone can
  recompute it after an edit), event ids and counts, and the receipt's ``signed_at``,
  which the validity-window check reads but the signature does not cover. The graph
  snapshot is "stated by the registry"; only its title is bound, through the signed
  title hash.
- What the format does not publish (event signatures, event-id and snapshot-hash
  recipes, the full abstract, merge rules) is reported ``not_checkable``, never verified.
- Text from the file that reaches a message is escaped (``report.printable``).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sitegen.errors import InputError, ParseError
from sitegen.pith.canonical import (
    canonical_bytes,
    canonical_sha256_hex,
    state_sha256_hex,
    title_canon_sha256_hex,
)
from sitegen.pith.keys import Keyring, format_timestamp, parse_timestamp
from sitegen.pith.model import IntegrityEvent, IntegrityFile, JSONValue, RegistryKey, StateFile
from sitegen.pith.numbers import SHORT_LENGTHS, pith_suffix, short_forms, split_pith_number
from sitegen.pith.parse import (
    DEFAULT_LIMITS,
    Limits,
    ParsedIntegrity,
    ParsedState,
    parse_integrity,
    parse_state,
)
from sitegen.pith.report import Check, InputReport, Status, Verdict, decide_verdict, printable

__all__ = [
    "CHECK_EXPLANATIONS",
    "INTEGRITY_EVENT_CHECK",
    "INTEGRITY_LINK_CHECK",
    "INTEGRITY_SIGNATURE_CHECK",
    "INTEGRITY_SUBJECT_CHECK",
    "SIGNATURE_CHECK",
    "check_ed25519",
    "check_message",
    "public_key_pem",
    "rejected_report",
    "verify_integrity",
    "verify_integrity_bytes",
    "verify_state",
    "verify_state_bytes",
]

SIGNATURE_CHECK = "receipt.signature"
INTEGRITY_SIGNATURE_CHECK = "integrity.signatures"
INTEGRITY_EVENT_CHECK = "integrity.event_signature"
INTEGRITY_SUBJECT_CHECK = "integrity.event_subject"
INTEGRITY_LINK_CHECK = "integrity.payload_sha256"

_RECORD = "current.record_created.payload"
_RECEIPT = f"{_RECORD}.receipt"
_SIGNED_RECORD = f"{_RECORD}.canonical_record"
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
    "receipt.key_validity": "The receipt's stated signing time (not itself covered by the signature) lies inside the trusted key's validity window.",
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
    "integrity.signatures": "Every integrity event's Ed25519 signature over its stated payload digest verifies with a trusted key. That proves the registry signed those digests, and nothing else: while the digest's recipe is unknown it binds neither the payloads, nor the findings, nor the paper the file names.",
    "integrity.event_signature": "This integrity event's Ed25519 signature over its stated payload digest verifies with a trusted key (it binds the digest only).",
    "integrity.event_subject": "Every event's payload names the paper the file names (a consistency check: a signed event copied from another paper's file fails it).",
    "integrity.payload_sha256": "Each event's payload digest is recomputed from its payload (the recipe is not published, so usually not checkable); until it is, no finding is bound to a signature.",
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
    """A check whose one-line summary has every non-printable character escaped."""
    return Check(
        id=check_id,
        status=status,
        summary=printable(summary),
        json_path=printable(json_path),
        expected=expected,
        observed=observed,
    )


def _equal(check_id: str, json_path: str, what: str, stated: str, derived: str, how: str) -> Check:
    """VERIFIED when the stated value equals the one derived here, else FAILED with both sides.

    ``expected`` is always what the file states, ``observed`` what this build derived
    (``how`` says how, e.g. ``recomputed``), in the report and in the message.
    """
    if stated == derived:
        return _check(
            check_id, Status.VERIFIED, f"{what} matches ({how})", json_path, expected=stated, observed=derived
        )
    return _check(
        check_id,
        Status.FAILED,
        f"{what}: expected {stated} (stated), got {derived} ({how})",
        json_path,
        expected=stated,
        observed=derived,
    )


# -- record and Pith number ----------------------------------------------------------


def _raw_at(raw: Mapping[str, JSONValue], *path: str) -> JSONValue:
    """A value that ``parse_state`` has already required to be there, as an object chain."""
    value: JSONValue = raw
    for key in path:
        assert isinstance(value, dict)
        value = value[key]
    return value


def _first_difference(a: JSONValue, b: JSONValue, path: str) -> str:
    """The JSON path of the first place where two JSON values differ ("" when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            if key not in a or key not in b:
                return f"{path}.{key}"
            found = _first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return ""
    return "" if canonical_bytes(a) == canonical_bytes(b) else path


def check_canonical_sha256(raw: Mapping[str, JSONValue], state: StateFile) -> tuple[Check, str]:
    """Recompute the signed record's canonical hash; return the check and the recomputed hash.

    Both stated copies must match: the payload's ``canonical_sha256`` and the receipt's.
    """
    recomputed = canonical_sha256_hex(
        _raw_at(raw, "current", "record_created", "payload", "canonical_record")
    )
    for path, stated in (
        (f"{_RECORD}.canonical_sha256", state.record_canonical_sha256),
        (f"{_RECEIPT}.canonical_sha256", state.receipt.canonical_sha256),
    ):
        if stated != recomputed:
            return _equal(
                "record.canonical_sha256", path, "canonical hash", stated, recomputed, "recomputed"
            ), recomputed
    return _check(
        "record.canonical_sha256",
        Status.VERIFIED,
        "recomputed canonical hash equals the payload's and the receipt's",
        f"{_RECORD}.canonical_sha256",
        expected=recomputed,
        observed=recomputed,
    ), recomputed


def check_current_record(raw: Mapping[str, JSONValue], signed_hex: str) -> Check:
    """``current.canonical_record`` must be the record the receipt signed, canonically.

    ``signed_hex`` is the signed record's canonical hash, as ``check_canonical_sha256`` recomputed it.
    """
    current = _raw_at(raw, "current", "canonical_record")
    signed = _raw_at(raw, "current", "record_created", "payload", "canonical_record")
    current_hex = canonical_sha256_hex(current)
    if current_hex == signed_hex:
        return _check(
            "record.current_matches_created",
            Status.VERIFIED,
            "current record equals the signed record",
            "current.canonical_record",
            expected=signed_hex,
            observed=current_hex,
        )
    where = _first_difference(signed, current, "current.canonical_record")
    return _check(
        "record.current_matches_created",
        Status.FAILED,
        f"current.canonical_record differs from the signed record at {where}: "
        f"expected canonical hash {signed_hex} (signed record), got {current_hex} (current record)",
        where,
        expected=signed_hex,
        observed=current_hex,
    )


def check_pith_number(state: StateFile, derived_suffix: str) -> list[Check]:
    """The stated Pith number must be ``pith:YEAR:SUFFIX`` derived from the signed record (``derived_suffix``)."""
    record = state.signed_record
    parts = split_pith_number(state.pith_number)
    if parts is None:
        year_text = "YEAR" if record.year is None else f"{record.year:04d}"
        return [
            _check(
                "pith_number.suffix",
                Status.FAILED,
                f"pith number {state.pith_number!r} (stated) is not pith:YEAR:SUFFIX; "
                f"derived pith:{year_text}:{derived_suffix}",
                "pith_number",
                expected=state.pith_number,
                observed=f"pith:{year_text}:{derived_suffix}",
            )
        ]
    year, suffix = parts
    checks = [
        _equal("pith_number.suffix", "pith_number", "pith number suffix", suffix, derived_suffix, "derived")
    ]
    if record.year is None:
        checks.append(
            _check(
                "pith_number.year",
                Status.FAILED,
                f"submitted_at does not start with a four-digit year: {record.submitted_at!r}",
                f"{_SIGNED_RECORD}.metadata.submitted_at",
                expected=f"{year:04d}",
            )
        )
    else:
        checks.append(
            _equal(
                "pith_number.year",
                "pith_number",
                "pith number year",
                f"{year:04d}",
                f"{record.year:04d}",
                "year of submitted_at",
            )
        )
    return checks


def check_aliases(state: StateFile, derived_suffix: str) -> list[Check]:
    """Short aliases derive from the recomputed suffix; arXiv and DOI aliases from the signed source.

    An arXiv or DOI alias of a record whose source is not arXiv derives from nothing: it is
    reported not checkable (and so never routed). Kinds with no rule get no check at all.
    """
    derived: dict[str, str] = {f"pith_short_{n}": v for n, v in short_forms(derived_suffix).items()}
    record = state.signed_record
    if record.source_kind == "arxiv":
        derived["arxiv"] = record.source_id
        derived["arxiv_version"] = f"{record.source_id}v{record.source_version}"
        derived["doi"] = f"10.48550/arxiv.{record.source_id}"
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for index, alias in enumerate(state.aliases):
        by_kind.setdefault(alias.kind, []).append((index, alias.value))
    checks = []
    order = [f"pith_short_{n}" for n in SHORT_LENGTHS] + ["arxiv", "arxiv_version", "doi"]
    for kind in (k for k in order if k not in derived and k in by_kind):
        index, value = by_kind[kind][0]
        checks.append(
            _check(
                f"alias.{kind}",
                Status.NOT_CHECKABLE,
                f"the signed record's source is {record.source_kind!r}, not arXiv, so no {kind} alias "
                f"derives from it; {value!r} is not routed",
                f"current.source_aliases[{index}].alias_value",
                observed=value,
            )
        )
    for kind in (k for k in order if k in derived):
        check_id = f"alias.{kind}"
        found = by_kind.get(kind, [])
        if not found:
            checks.append(
                _check(
                    check_id,
                    Status.NOT_CHECKABLE,
                    f"the state has no {kind} alias",
                    "current.source_aliases",
                    observed=derived[kind],
                )
            )
            continue
        index, value = next(((i, v) for i, v in found if v != derived[kind]), found[0])
        checks.append(
            _equal(
                check_id,
                f"current.source_aliases[{index}].alias_value",
                f"{kind} alias",
                value,
                derived[kind],
                "derived",
            )
        )
    return checks


# -- signatures ----------------------------------------------------------------------


def check_ed25519(key: RegistryKey, digest: bytes, signature_b64: str) -> tuple[Status, str]:
    """Verify an Ed25519 signature over raw digest bytes; return a status and a reason."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:  # binascii.Error, or a string that is not ASCII
        return Status.FAILED, "signature is not valid base64"
    if len(signature) != 64:
        return Status.FAILED, f"an Ed25519 signature has 64 bytes, got {len(signature)}"
    try:
        _ed25519_key(key.public_key).verify(signature, digest)
    except InvalidSignature:
        return Status.FAILED, f"signature does not verify with trusted key {key.key_id}"
    return Status.VERIFIED, f"signature verifies with trusted key {key.key_id}"


@functools.lru_cache(maxsize=64)
def _ed25519_key(public_key: bytes) -> Ed25519PublicKey:
    """The key object of 32 raw key bytes, made once a process for each trusted key, not once a paper."""
    return Ed25519PublicKey.from_public_bytes(public_key)


def public_key_pem(key: RegistryKey) -> bytes:
    """The key as a PEM SubjectPublicKeyInfo, the form ``openssl pkeyutl`` reads."""
    return Ed25519PublicKey.from_public_bytes(key.public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def check_receipt(state: StateFile, digest_hex: str, keyring: Keyring) -> list[Check]:
    """Key selection, fingerprint, validity window and signature of the receipt.

    The receipt's ``key_id`` only selects a key from the operator's keyring; its stated
    fingerprint must then equal that key's. The signature is checked over the digest
    recomputed here, never over the stated one.
    """
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
            f"fingerprint of key {key.key_id}",
            receipt.public_key_fingerprint,
            key.fingerprint_hex,
            "trusted key",
        ),
        _check_validity(key, receipt.signed_at),
    ]
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
        checks.append(_check(SIGNATURE_CHECK, status, reason, f"{_RECEIPT}.signature_b64"))
    return checks


def _check_validity(key: RegistryKey, signed_at_text: str) -> Check:
    """The receipt's stated ``signed_at`` lies in the key's window (not covered by the signature)."""
    path = f"{_RECEIPT}.signed_at"
    if key.not_before is None and key.not_after is None:
        return _check(
            "receipt.key_validity", Status.VERIFIED, f"key {key.key_id} states no validity window", path
        )
    window = f"[{format_timestamp(key.not_before)}, {format_timestamp(key.not_after)})"
    signed_at = parse_timestamp(signed_at_text)
    if signed_at is None:
        return _check(
            "receipt.key_validity",
            Status.FAILED,
            f"signed_at is not an ISO 8601 time with a zone: {signed_at_text!r}",
            path,
            expected=window,
            observed=signed_at_text,
        )
    if (key.not_before is not None and signed_at < key.not_before) or (
        key.not_after is not None and signed_at >= key.not_after
    ):
        return _check(
            "receipt.key_validity",
            Status.FAILED,
            f"signed at {signed_at_text} (stated), outside key {key.key_id}'s validity {window}",
            path,
            expected=window,
            observed=signed_at_text,
        )
    return _check(
        "receipt.key_validity",
        Status.VERIFIED,
        f"signed at {signed_at_text} (stated), inside key {key.key_id}'s validity {window}",
        path,
        expected=window,
        observed=signed_at_text,
    )


# -- state-level facts ---------------------------------------------------------------


def check_state_sha256(raw: Mapping[str, JSONValue], state: StateFile) -> Check:
    """The state hash over the raw JSON without ``state_sha256``; it is not signed, only consistent."""
    return _equal(
        "state.state_sha256",
        "state_sha256",
        "state hash",
        state.state_sha256,
        state_sha256_hex(raw),
        "recomputed",
    )


def check_title(state: StateFile) -> Check:
    """The title shown (from the latest graph snapshot) must hash to the signed ``title_canon_sha256``."""
    snapshot = state.latest_snapshot
    path = f"{_SIGNED_RECORD}.metadata.title_canon_sha256"
    if snapshot is None:
        return _check(
            "title.canon_sha256", Status.NOT_CHECKABLE, "the state has no graph snapshot with a title", path
        )
    return _equal(
        "title.canon_sha256",
        path,
        "title hash",
        state.signed_record.title_canon_sha256,
        title_canon_sha256_hex(snapshot.paper.title),
        f"recomputed from the title {_quoted(snapshot.paper.title)}",
    )


MESSAGE_VALUE_CHARS = 300
"""Characters of an input's value a check's message quotes (real titles have under 300); the report
and every page repeat a message, so a hostile value is not multiplied at full length."""


def _quoted(value: str) -> str:
    """``value`` as Python quotes it, cut to ``MESSAGE_VALUE_CHARS`` with its full length named.

    >>> _quoted("Attention")
    "'Attention'"
    >>> _quoted("<" * 1000)[-26:]
    "<<<<<'… (1,000 characters)"
    """
    if len(value) <= MESSAGE_VALUE_CHARS:
        return repr(value)
    return f"{value[:MESSAGE_VALUE_CHARS]!r}… ({len(value):,} characters)"


def _id_problem(group: list[tuple[str, str]]) -> Check | None:
    """The first malformed or repeated id of a group of (json path, event id), as a FAILED check."""
    seen: set[str] = set()
    for path, event_id in group:
        if _EVENT_ID.fullmatch(event_id) is None:
            return _check(
                "events.ids",
                Status.FAILED,
                f"malformed event id: expected sha256:<64 lower-case hex digits>, got {event_id!r}",
                path,
                expected="sha256:<64 lower-case hex digits>",
                observed=event_id,
            )
        if event_id in seen:
            return _check(
                "events.ids", Status.FAILED, f"event id {event_id} appears twice", path, observed=event_id
            )
        seen.add(event_id)
    return None


def check_event_ids(state: StateFile) -> list[Check]:
    """Event ids are well formed and unique, and every event is listed in ``applied_event_ids``."""
    events = [("current.record_created.event_id", state.record_created.event_id)] + [
        (f"current.graph_snapshots[{i}].event_id", s.event.event_id)
        for i, s in enumerate(state.graph_snapshots)
    ]
    applied = [(f"applied_event_ids[{i}]", v) for i, v in enumerate(state.applied_event_ids)]
    ids_check = _id_problem(events) or _id_problem(applied)
    if ids_check is None:
        ids_check = _check(
            "events.ids",
            Status.VERIFIED,
            f"{len(events)} event ids and {len(applied)} applied ids are well formed and unique",
            "applied_event_ids",
        )
    listed = set(state.applied_event_ids)
    missing = [(path, event_id) for path, event_id in events if event_id not in listed]
    if missing:
        path, event_id = missing[0]
        applied_check = _check(
            "events.applied_ids",
            Status.FAILED,
            f"event {event_id!r} is not listed in applied_event_ids",
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
    """The four counts agree with the lists they count (the first disagreement is reported)."""
    relations = [
        ("valid_event_count", state.valid_event_count, "applied_event_ids", len(state.applied_event_ids)),
        ("invalid_event_count", state.invalid_event_count, "invalid_events", state.invalid_events),
        ("equivocation_count", state.equivocation_count, "equivocations", state.equivocations),
        (
            "event_count",
            state.event_count,
            "valid_event_count + invalid_event_count",
            state.valid_event_count + state.invalid_event_count,
        ),
    ]
    for field, stated, what, counted in relations:
        if stated != counted:
            return _equal("events.counts", field, field, str(stated), str(counted), f"counted: {what}")
    return _check("events.counts", Status.VERIFIED, "event counts agree with the lists", "event_count")


_UNCHECKABLE = tuple(
    _check(check_id, Status.NOT_CHECKABLE, why, json_path)
    for check_id, why, json_path in (
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
)
"""The checks no state file can pass or fail: the same (immutable) objects in every report."""


def verify_state(parsed: ParsedState, keyring: Keyring, input_name: str) -> InputReport:
    """Run every check on one parsed state file and decide its verdict. Never raises for bad data.

    A file nested deeper than the interpreter can hash (possible only when the depth limit
    is raised near Python's recursion limit) is ``rejected`` with check ``json.depth``.
    """
    try:
        checks = _state_checks(parsed, keyring)
    except RecursionError:
        too_deep = ParseError(input_name, "", "json.depth", "nesting is too deep to hash canonically")
        return rejected_report(input_name, too_deep)
    state = parsed.state
    return InputReport(
        input=input_name,
        kind="state",
        verdict=decide_verdict(checks, SIGNATURE_CHECK),
        checks=tuple(checks),
        errors=tuple(_messages(input_name, checks)),
        pith_number=state.pith_number,
        source_id=state.signed_record.source_id,
    )


def _state_checks(parsed: ParsedState, keyring: Keyring) -> list[Check]:
    state, raw = parsed.state, parsed.raw
    hash_check, digest_hex = check_canonical_sha256(raw, state)
    checks: list[Check] = [hash_check, check_current_record(raw, digest_hex)]
    derived_suffix = pith_suffix(bytes.fromhex(digest_hex))
    checks += check_pith_number(state, derived_suffix)
    checks += check_aliases(state, derived_suffix)
    checks += check_receipt(state, digest_hex, keyring)
    checks.append(check_state_sha256(raw, state))
    checks.append(check_title(state))
    checks += check_event_ids(state)
    checks.append(check_counts(state))
    checks += _UNCHECKABLE
    return checks


def check_message(input_name: str, check: Check) -> str:
    """``file: json path: check id: reason``, the one-line form of a check in every message."""
    return ": ".join(
        part for part in (printable(input_name), check.json_path, check.id, check.summary) if part
    )


def _messages(input_name: str, checks: list[Check]) -> list[str]:
    return [check_message(input_name, c) for c in checks if c.status is Status.FAILED]


def rejected_report(input_name: str, error: ParseError | InputError, kind: str = "state") -> InputReport:
    """The report of a file that could not be read as a state or integrity file at all."""
    check = _check(f"{kind}.parse", Status.FAILED, f"{error.check}: {error.detail}", error.field)
    return InputReport(
        input=input_name,
        kind=kind,
        verdict=Verdict.REJECTED,
        checks=(check,),
        errors=(printable(str(error)),),
    )


# -- integrity files -----------------------------------------------------------------


def verify_integrity(parsed: ParsedIntegrity, keyring: Keyring, input_name: str) -> InputReport:
    """Check each integrity event's signature over its stated payload digest.

    The first check summarises the events (``integrity.signatures``): verified only
    when every event is signed by a trusted key; failed when any signature fails;
    not checkable when some key is not trusted or there are no events. An event whose
    payload names another paper than the file fails ``integrity.event_subject``.

    The verdict is never ``verified`` while the digest-to-payload link is not checkable:
    a signature over a stated digest then binds nothing in the file, so its findings are
    only stated by the registry.
    """
    checks: list[Check] = []
    for index, event in enumerate(parsed.integrity.events):
        status, reason = _integrity_event_status(event, keyring)
        checks.append(
            _check(
                INTEGRITY_EVENT_CHECK,
                status,
                f"event {event.event_id}: {reason}",
                f"events[{index}].signature_b64",
            )
        )
    statuses = [c.status for c in checks]
    if not statuses:
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK, Status.NOT_CHECKABLE, "the file has no signed events", "events"
        )
    elif Status.FAILED in statuses:
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK,
            Status.FAILED,
            f"{statuses.count(Status.FAILED)} of {len(statuses)} event signatures do not verify",
            "events",
        )
    elif all(s is Status.VERIFIED for s in statuses):
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK,
            Status.VERIFIED,
            f"all {len(statuses)} event signatures verify with trusted keys over their stated payload digests",
            "events",
        )
    else:
        summary = _check(
            INTEGRITY_SIGNATURE_CHECK,
            Status.NOT_CHECKABLE,
            f"{statuses.count(Status.NOT_CHECKABLE)} of {len(statuses)} events are signed by keys "
            "this site does not trust",
            "events",
        )
    link = _payload_digest_check(parsed.integrity.events)
    all_checks = [summary, *checks, _event_subject_check(parsed.integrity), link]
    verdict = decide_verdict(all_checks, INTEGRITY_SIGNATURE_CHECK)
    if verdict is Verdict.VERIFIED and link.status is not Status.VERIFIED:
        verdict = Verdict.UNVERIFIABLE  # signed digests bind nothing in the file while the link is unknown
    return InputReport(
        input=input_name,
        kind="integrity",
        verdict=verdict,
        checks=tuple(all_checks),
        errors=tuple(_messages(input_name, all_checks)),
        source_id=parsed.integrity.arxiv_id,
    )


def _integrity_event_status(event: IntegrityEvent, keyring: Keyring) -> tuple[Status, str]:
    key = keyring.get(event.signing_key_id)
    if key is None:
        return Status.NOT_CHECKABLE, f"key {event.signing_key_id!r} is not in this site's keyring"
    if _HEX64.fullmatch(event.payload_sha256) is None:
        return Status.FAILED, f"payload_sha256 is not 64 lower-case hex digits: {event.payload_sha256!r}"
    return check_ed25519(key, bytes.fromhex(event.payload_sha256), event.signature_b64)


def _event_subject_check(integrity: IntegrityFile) -> Check:
    """Each event's payload must name the file's paper: a real signed event copied from another
    paper's file is caught here, since its signature binds only its digest."""
    others = []
    unnamed = 0
    for index, event in enumerate(integrity.events):
        named = event.payload.get("arxiv_id") if event.payload is not None else None
        if not isinstance(named, str):
            unnamed += 1
        elif named != integrity.arxiv_id:
            others.append((index, event.event_id, named))
    if others:
        index, event_id, named = others[0]
        return _check(
            INTEGRITY_SUBJECT_CHECK,
            Status.FAILED,
            f"{len(others)} of {len(integrity.events)} events name another paper than the file's "
            f"{integrity.arxiv_id!r}: event {event_id} names {named!r}",
            f"events[{index}].payload.arxiv_id",
            expected=integrity.arxiv_id,
            observed=named,
        )
    if not integrity.events or unnamed:
        return _check(
            INTEGRITY_SUBJECT_CHECK,
            Status.NOT_CHECKABLE,
            f"{unnamed} of {len(integrity.events)} events name no paper in their payload"
            if integrity.events
            else "the file has no events",
            "events",
        )
    return _check(
        INTEGRITY_SUBJECT_CHECK,
        Status.VERIFIED,
        f"all {len(integrity.events)} events name {integrity.arxiv_id!r}, as the file does",
        "events",
    )


def _payload_digest_check(events: tuple[IntegrityEvent, ...]) -> Check:
    """The payload-to-digest link is verified only where it recomputes; otherwise it is unknown.

    A mismatch is not a failure: the registry has not published how ``payload_sha256``
    is derived, so a different recipe is as likely as tampering.
    """
    linked = [e for e in events if _payload_recomputes(e)]
    if events and len(linked) == len(events):
        return _check(
            "integrity.payload_sha256", Status.VERIFIED, "every payload digest recomputes", "events"
        )
    return _check(
        "integrity.payload_sha256",
        Status.NOT_CHECKABLE,
        "how payload_sha256 is derived from the payload is not published, so the signed digests "
        "are not linked to the payloads shown",
        "events",
    )


def _payload_recomputes(event: IntegrityEvent) -> bool:
    if event.payload is None:
        return False
    try:
        return canonical_sha256_hex(event.payload) == event.payload_sha256
    except RecursionError:  # nested deeper than can be hashed: the link stays unknown
        return False


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

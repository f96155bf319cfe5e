"""Build the test vectors: the real seed, each time with one deliberate change.

Run it with ``make vectors`` and commit the result; ``tests/unit/test_vectors.py`` fails
when regenerating would change, add or remove a committed file, and checks every
vector's verdict, failing checks and message against the table below, which is also
the source of ``README.md``.

Keys. The registry's public key (``content/keys/pith-v1-2026-05.json``) is the only real
key; it is copied into ``keys/``. Every other key is an Ed25519 *test* key whose private
half is derived from a fixed 32-byte seed, ``SHA-256("pith-sitegen test vectors: <label>")``
(see ``_test_key``): anyone can re-derive them, so they prove nothing outside these tests.
Ed25519 signatures are deterministic, so the files are byte for byte reproducible.

Unless a vector says otherwise, its ``state_sha256`` is recomputed after the change (a
tamperer who knows the public recipe would do so), so that only the checks the change is
about fail.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.pith.canonical import title_canon_sha256_hex
from sitegen.pith.parse import Limits
from tests.synth import SigningKey, dump_state, make_state, resign_state, restate_hash

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEED_PATH = ROOT / "tests" / "data" / "seed.state.json"
REGISTRY_KEY_PATH = ROOT / "content" / "keys" / "pith-v1-2026-05.json"
REGISTRY_VECTORS_PATH = ROOT / "tests" / "data" / "registry_vectors.json"
REGISTRY_KEY_ID = "pith-v1-2026-05"
REGISTRY_FINGERPRINT = "8d4b5ee74e4693bcd1df2446408b0d54"
SEED_DIGEST = "d841dd34a99acaca94f0636d5b8a4767e6a0d0546b317553de6c9d86e9291c39"

VECTOR_LIMITS = Limits(max_bytes=64 * 1024, max_depth=64)
"""The limits every vector is checked with (``--max-bytes 65536 --max-depth 64``): small
enough that ``oversized`` need not be a 4 MiB file in the repository."""

State = dict[str, Any]


def _test_key(label: str, key_id: str) -> SigningKey:
    """A test key from the fixed 32-byte seed SHA-256("pith-sitegen test vectors: <label>")."""
    return SigningKey.from_seed(f"pith-sitegen test vectors: {label}".encode(), key_id)


IMPOSTOR = _test_key("impostor", REGISTRY_KEY_ID)
"""Claims the registry's key id (and, in one vector, its fingerprint); never trusted."""
UNTRUSTED = _test_key("untrusted", "test-untrusted-2026")
"""Signs under its own id, which no keyring here holds."""
CURRENT = _test_key("current", "test-current-2026")
"""Trusted in ``keys/`` from 2026-06-01: the new key of a rotation."""
RETIRED = _test_key("retired", "test-retired-2026")
"""Trusted in ``keys/`` from 2026-01-01 until it ``rotates_at`` 2026-06-01."""

TEST_KEY_FILES = {
    CURRENT: {"not_before": "2026-06-01T00:00:00Z"},
    RETIRED: {"not_before": "2026-01-01T00:00:00Z", "rotates_at": "2026-06-01T00:00:00Z"},
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Vector:
    """One vector: how it is made and what the verifier must say about it."""

    name: str
    change: str
    """One line: what differs from the seed."""
    verdict: str
    failing: tuple[str, ...]
    """Exactly the checks that fail; for ``unverifiable`` the check that could not be made."""
    message: str
    """The message of the first failing check: ``{file}`` stands for the file name, ``<hex>``
    for a 64-digit hash, ``<any>`` for wording that is Python's (JSON syntax errors);
    empty for ``verified``."""
    build: Callable[[], bytes]
    kind: str = "state"

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.kind}.json"


# -- helpers -------------------------------------------------------------------------


def _seed_bytes() -> bytes:
    return SEED_PATH.read_bytes()


def _seed() -> State:
    state: State = json.loads(_seed_bytes())
    return state


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    if data.count(old) != 1:
        raise SystemExit(f"make_vectors: {old!r} is not in the seed exactly once")
    return data.replace(old, new)


def _edited(edit: Callable[[State], object], *, restate: bool = True) -> Callable[[], bytes]:
    """A builder: the seed, edited in place, with its state hash recomputed unless told not to."""

    def build() -> bytes:
        state = _seed()
        edit(state)
        if restate:
            restate_hash(state)
        return dump_state(state)

    return build


def _bytes_edit(old: bytes, new: bytes) -> Callable[[], bytes]:
    return lambda: _replace_once(_seed_bytes(), old, new)


def _payload(state: State) -> State:
    payload: State = state["current"]["record_created"]["payload"]
    return payload


def _receipt(state: State) -> State:
    receipt: State = _payload(state)["receipt"]
    return receipt


def _records(state: State) -> list[State]:
    """Both copies of the canonical record: current, and the signed one in record_created."""
    return [state["current"]["canonical_record"], _payload(state)["canonical_record"]]


def _snapshot(state: State) -> State:
    snapshot: State = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]
    return snapshot


def _alias(state: State, kind: str) -> State:
    alias: State = next(a for a in state["current"]["source_aliases"] if a["alias_kind"] == kind)
    return alias


def _set_primary_cat(state: State) -> None:
    for record in _records(state):
        record["metadata"]["primary_cat"] = "cs.CR"


def _signers(state: State) -> list[State]:
    current = state["current"]
    return [current["record_created"]["signer"], *(s["signer"] for s in current["graph_snapshots"])]


def _rehash_keep_signature(state: State) -> None:
    """Re-derive hashes, Pith number and aliases for the edited record; keep the old receipt signature."""
    receipt = _receipt(state)
    kept = {k: receipt[k] for k in ("key_id", "public_key_fingerprint", "signature_b64")}
    signers = copy.deepcopy(_signers(state))
    resign_state(state, IMPOSTOR)
    receipt.update(kept)
    for signer, old in zip(_signers(state), signers, strict=True):
        signer.update(old)


def _claim_registry_fingerprint(state: State) -> None:
    _receipt(state)["public_key_fingerprint"] = REGISTRY_FINGERPRINT
    for signer in _signers(state):
        signer["public_key_fingerprint"] = REGISTRY_FINGERPRINT


def _flip_bit(signature_b64: str) -> str:
    raw = bytearray(base64.b64decode(signature_b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


def _resigned(key: SigningKey, *, signed_at: str | None = None) -> Callable[[], bytes]:
    def build() -> bytes:
        return dump_state(resign_state(_seed(), key, signed_at=signed_at))

    return build


def _old_style_id() -> bytes:
    state = make_state(
        _seed(),
        CURRENT,
        source_id="hep-lat/0305021",
        title="Lattice QCD at finite density: a test vector title",
        authors=["A. Tester", "B. Vector"],
        submitted_at="2003-05-21T17:43:30Z",
        primary_cat="hep-lat",
        event_seed="old-style-id",
    )
    return dump_state(state)


# -- integrity files -------------------------------------------------------------------


def _real_event() -> State:
    """Event 3600 of 2604.23340, copied from the registry's page and re-checked (registry_vectors.json)."""
    vectors = json.loads(REGISTRY_VECTORS_PATH.read_text(encoding="utf-8"))
    event: State = next(e for e in vectors["integrity_events"] if e["event_id"] == 3600)
    return event


def _integrity(edit: Callable[[State], object] | None = None) -> Callable[[], bytes]:
    """An integrity file in the real shape of 2604.23340's, holding its real signed event 3600.

    The event's payload was published only in part, so it is given as null: the
    signature covers the stated digest, and the digest-to-payload link stays unknown.
    """

    def build() -> bytes:
        real = _real_event()
        document: State = {
            "schema": "https://pith.science/schemas/pith-integrity/v1.json",
            "pith_number": "2604.23340",
            "arxiv_id": "2604.23340",
            "integrity": {
                "available": True,
                "endpoint": "/pith/2604.23340/integrity.json",
                "summary": {
                    "critical": 0,
                    "advisory": 1,
                    "informational": 0,
                    "by_detector": {
                        "doi_compliance": {"total": 1, "critical": 0, "advisory": 1, "informational": 0}
                    },
                },
                "clean": False,
                "detectors_run": [
                    {
                        "name": "doi_compliance",
                        "version": "1.0.0",
                        "status": "completed",
                        "ran_at": "2026-05-19T23:15:25.767223Z",
                        "findings_count": 1,
                    }
                ],
                "findings": [
                    {
                        "detector": "doi_compliance",
                        "finding_type": "recoverable_identifier",
                        "severity": "advisory",
                        "verdict_class": "incontrovertible",
                        "note": "DOI in the printed bibliography is fragmented by whitespace or line breaks.",
                        "detected_doi": "10.1007/978-1-84800-044-5_11.URL",
                        "detected_arxiv_id": None,
                        "ref_index": 19,
                        "audited_at": "2026-05-19T23:15:25.767223Z",
                    }
                ],
                "snapshot_sha256": "a2d052abc68881ebf9385ed5d4ea5671e5feba515016aeaba507fdf6c3a0997f",
            },
            "events": [
                {
                    "event_id": real["event_id"],
                    "event_type": "pith.integrity.v1",
                    "payload_sha256": real["payload_sha256"],
                    "signature_b64": real["signature_b64"],
                    "signing_key_id": real["signing_key_id"],
                    "created_at": "2026-05-19T23:17:27.287442+00:00",
                    "payload": None,
                }
            ],
        }
        if edit is not None:
            edit(document["events"][0])
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    return build


def _untrusted_event(event: State) -> None:
    event["signing_key_id"] = UNTRUSTED.key_id
    event["signature_b64"] = UNTRUSTED.sign_b64(bytes.fromhex(event["payload_sha256"]))


# -- the table -------------------------------------------------------------------------

_FILE = "{file}"
_PAYLOAD = "current.record_created.payload"
_RECEIPT = f"{_PAYLOAD}.receipt"
_KEY_MISSING = "key 'test-untrusted-2026' is not in this site's keyring"

VECTORS: tuple[Vector, ...] = (
    # -- rejected: not a state file at all ---------------------------------------------
    Vector(
        name="empty",
        change="zero bytes",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: json.syntax: file is empty",
        build=lambda: b"",
    ),
    Vector(
        name="truncated",
        change="only the first half of the seed's bytes",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: json.syntax: <any>: line 1 column 2350",
        build=lambda: _seed_bytes()[: len(_seed_bytes()) // 2],
    ),
    Vector(
        name="malformed_trailing_comma",
        change="a comma before the final closing brace",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: json.syntax: <any>: line 1 column 5768",
        build=lambda: _seed_bytes()[:-1] + b",}",
    ),
    Vector(
        name="invalid_utf8",
        change="byte 0xff inside the title",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: json.utf8: not UTF-8: invalid byte at offset 3270",
        build=_bytes_edit(b'"title":"Staleness', b'"title":"Stal\xffeness'),
    ),
    Vector(
        name="byte_order_mark",
        change="a UTF-8 byte order mark before the JSON",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: json.utf8: file starts with a byte order mark",
        build=lambda: b"\xef\xbb\xbf" + _seed_bytes(),
    ),
    Vector(
        name="lone_surrogate",
        change="the title starts with the escape \\udcff, a lone surrogate that no UTF-8 can hold",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: current.graph_snapshots[0].payload.graph_snapshot.paper.title: json.string: a string holds a lone surrogate escape",
        build=_bytes_edit(b'"title":"Staleness', b'"title":"\\udcffStaleness'),
    ),
    Vector(
        name="duplicate_json_key",
        change="the receipt holds signature_b64 twice (the first one 'AAAA')",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: json.duplicate_key: key appears twice in one object",
        build=_bytes_edit(b'"signature_b64":"', b'"signature_b64":"AAAA","signature_b64":"'),
    ),
    Vector(
        name="nan_value",
        change="equivocation_count is NaN",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: equivocation_count: json.constant: non-standard constant NaN",
        build=_bytes_edit(b'"equivocation_count":0', b'"equivocation_count":NaN'),
    ),
    Vector(
        name="infinite_number",
        change="equivocation_count is 1e999, which a float can only hold as infinity",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: equivocation_count: json.constant: number 1e999 is out of range for a finite float",
        build=_bytes_edit(b'"equivocation_count":0', b'"equivocation_count":1e999'),
    ),
    Vector(
        name="deep_nesting",
        change="current.mirror_hints is 70 nested lists, deeper than the limit of 64",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: json.depth: nesting is deeper than the limit of 64",
        build=_bytes_edit(b'"mirror_hints":[]', b'"mirror_hints":' + b"[" * 70 + b"]" * 70),
    ),
    Vector(
        name="oversized",
        change="a 65,536-character headline makes the file larger than the vectors' 65,536-byte limit",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: json.size: file has 71303 bytes, the limit is 65536",
        build=_bytes_edit(b'"headline":""', b'"headline":"' + b"x" * 65536 + b'"'),
    ),
    Vector(
        name="top_level_array",
        change="the state object wrapped in a list",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: (top level): state.type: expected an object, got a list",
        build=lambda: b"[" + _seed_bytes() + b"]",
    ),
    Vector(
        name="unknown_state_version",
        change="state_version is '2.0'",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: state_version: state.state_version: expected '1.0', got '2.0'",
        build=_edited(lambda s: s.update(state_version="2.0")),
    ),
    Vector(
        name="unknown_state_type",
        change="state_type is 'pith_open_graph_bundle'",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: state_type: state.state_type: expected 'pith_open_graph_state', "
        "got 'pith_open_graph_bundle'",
        build=_edited(lambda s: s.update(state_type="pith_open_graph_bundle")),
    ),
    Vector(
        name="record_version_as_string",
        change='source.version is the string "1" in both records, not the integer 1',
        verdict="rejected",
        failing=("state.parse",),
        message=f'{_FILE}: current.canonical_record.source.version: state.type: expected an integer, got a string ("1")',
        build=_edited(lambda s: [r["source"].update(version="1") for r in _records(s)]),
    ),
    Vector(
        name="event_count_as_float",
        change="event_count is 2.0, a number but not an integer",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: event_count: state.type: expected an integer, got a number (2.0)",
        build=_edited(lambda s: s.update(event_count=2.0)),
    ),
    Vector(
        name="missing_receipt",
        change="record_created.payload has no receipt",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: {_RECEIPT}: state.missing_field: required field is missing",
        build=_edited(lambda s: _payload(s).pop("receipt")),
    ),
    Vector(
        name="missing_signature",
        change="the receipt has no signature_b64",
        verdict="rejected",
        failing=("state.parse",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: state.missing_field: required field is missing",
        build=_edited(lambda s: _receipt(s).pop("signature_b64")),
    ),
    # -- failed: tampering and inconsistency ---------------------------------------------
    Vector(
        name="tampered_record",
        change="primary_cat changed to cs.CR in both records; nothing re-derived or re-signed",
        verdict="failed",
        failing=(
            "record.canonical_sha256",
            "pith_number.suffix",
            "alias.pith_short_8",
            "alias.pith_short_12",
            "alias.pith_short_16",
            "receipt.signature",
        ),
        message=f"{_FILE}: {_PAYLOAD}.canonical_sha256: record.canonical_sha256: canonical hash: "
        f"expected {SEED_DIGEST} (stated), got <hex> (recomputed)",
        build=_edited(_set_primary_cat),
    ),
    Vector(
        name="tampered_current_record",
        change="only current.canonical_record's primary_cat changed; the signed record is intact",
        verdict="failed",
        failing=("record.current_matches_created",),
        message=f"{_FILE}: current.canonical_record.metadata.primary_cat: record.current_matches_created: "
        "current.canonical_record differs from the signed record at current.canonical_record.metadata.primary_cat: "
        "expected canonical hash <hex> (signed record), got <hex> (current record)",
        build=_edited(lambda s: s["current"]["canonical_record"]["metadata"].update(primary_cat="cs.CR")),
    ),
    Vector(
        name="receipt_hash_differs_from_payload",
        change="the receipt's canonical_sha256 is the seed's with its last digit changed",
        verdict="failed",
        failing=("record.canonical_sha256",),
        message=f"{_FILE}: {_RECEIPT}.canonical_sha256: record.canonical_sha256: canonical hash: "
        f"expected {SEED_DIGEST[:-1]}0 (stated), got {SEED_DIGEST} (recomputed)",
        build=_edited(lambda s: _receipt(s).update(canonical_sha256=SEED_DIGEST[:-1] + "0")),
    ),
    Vector(
        name="rehashed_not_resigned",
        change="primary_cat changed to cs.CR; hashes, Pith number and aliases re-derived; old signature kept",
        verdict="failed",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: receipt.signature: "
        "signature does not verify with trusted key pith-v1-2026-05",
        build=_edited(lambda s: (_set_primary_cat(s), _rehash_keep_signature(s))),
    ),
    Vector(
        name="resigned_by_impostor_claiming_registry_fingerprint",
        change="primary_cat changed, re-derived and re-signed by a test key that states the registry's "
        "key id and fingerprint",
        verdict="failed",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: receipt.signature: "
        "signature does not verify with trusted key pith-v1-2026-05",
        build=_edited(
            lambda s: (_set_primary_cat(s), resign_state(s, IMPOSTOR), _claim_registry_fingerprint(s))
        ),
    ),
    Vector(
        name="resigned_by_impostor_with_own_fingerprint",
        change="re-signed by a test key that states the registry's key id but its own fingerprint",
        verdict="failed",
        failing=("receipt.key_fingerprint", "receipt.signature"),
        message=f"{_FILE}: {_RECEIPT}.public_key_fingerprint: receipt.key_fingerprint: "
        f"fingerprint of key pith-v1-2026-05: expected {IMPOSTOR.fingerprint_hex} (stated), "
        f"got {REGISTRY_FINGERPRINT} (trusted key)",
        build=_edited(lambda s: resign_state(s, IMPOSTOR)),
    ),
    Vector(
        name="receipt_signature_flipped_bit",
        change="the lowest bit of the signature's first byte flipped",
        verdict="failed",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: receipt.signature: "
        "signature does not verify with trusted key pith-v1-2026-05",
        build=_edited(lambda s: _receipt(s).update(signature_b64=_flip_bit(_receipt(s)["signature_b64"]))),
    ),
    Vector(
        name="receipt_signature_truncated",
        change="the signature's last byte removed (63 bytes)",
        verdict="failed",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: receipt.signature: "
        "an Ed25519 signature has 64 bytes, got 63",
        build=_edited(
            lambda s: _receipt(s).update(
                signature_b64=base64.b64encode(base64.b64decode(_receipt(s)["signature_b64"])[:63]).decode()
            )
        ),
    ),
    Vector(
        name="receipt_signature_not_base64",
        change="signature_b64 is 'not base64!'",
        verdict="failed",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: receipt.signature: signature is not valid base64",
        build=_edited(lambda s: _receipt(s).update(signature_b64="not base64!")),
    ),
    Vector(
        name="wrong_pith_number",
        change="the Pith number's last character is 6 instead of 7",
        verdict="failed",
        failing=("pith_number.suffix",),
        message=f"{_FILE}: pith_number: pith_number.suffix: pith number suffix: "
        "expected 3BA52NFJTLFMVFHQMNWVXCSHM6 (stated), got 3BA52NFJTLFMVFHQMNWVXCSHM7 (derived)",
        build=_edited(lambda s: s.update(pith_number="pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM6")),
    ),
    Vector(
        name="wrong_pith_year",
        change="the Pith number's year is 2025, the record was submitted in 2026",
        verdict="failed",
        failing=("pith_number.year",),
        message=f"{_FILE}: pith_number: pith_number.year: pith number year: "
        "expected 2025 (stated), got 2026 (year of submitted_at)",
        build=_edited(lambda s: s.update(pith_number="pith:2025:3BA52NFJTLFMVFHQMNWVXCSHM7")),
    ),
    Vector(
        name="fullwidth_pith_year",
        change="the Pith number's year is written in full-width digits (２０２６)",
        verdict="failed",
        failing=("pith_number.suffix",),
        message=f"{_FILE}: pith_number: pith_number.suffix: pith number "
        "'pith:２０２６:3BA52NFJTLFMVFHQMNWVXCSHM7' (stated) is not pith:YEAR:SUFFIX; "
        "derived pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7",
        build=_edited(lambda s: s.update(pith_number="pith:２０２６:3BA52NFJTLFMVFHQMNWVXCSHM7")),
    ),
    Vector(
        name="wrong_short_alias",
        change="the pith_short_8 alias is 3BA52NFK",
        verdict="failed",
        failing=("alias.pith_short_8",),
        message=f"{_FILE}: current.source_aliases[5].alias_value: alias.pith_short_8: pith_short_8 alias: "
        "expected 3BA52NFK (stated), got 3BA52NFJ (derived)",
        build=_edited(lambda s: _alias(s, "pith_short_8").update(alias_value="3BA52NFK")),
    ),
    Vector(
        name="wrong_doi_alias",
        change="the doi alias names 2607.01084",
        verdict="failed",
        failing=("alias.doi",),
        message=f"{_FILE}: current.source_aliases[2].alias_value: alias.doi: doi alias: "
        "expected 10.48550/arxiv.2607.01084 (stated), got 10.48550/arxiv.2607.01083 (derived)",
        build=_edited(lambda s: _alias(s, "doi").update(alias_value="10.48550/arxiv.2607.01084")),
    ),
    Vector(
        name="wrong_arxiv_version_alias",
        change="the arxiv_version alias is 2607.01083v2, the signed record is version 1",
        verdict="failed",
        failing=("alias.arxiv_version",),
        message=f"{_FILE}: current.source_aliases[1].alias_value: alias.arxiv_version: arxiv_version alias: "
        "expected 2607.01083v2 (stated), got 2607.01083v1 (derived)",
        build=_edited(lambda s: _alias(s, "arxiv_version").update(alias_value="2607.01083v2")),
    ),
    Vector(
        name="wrong_title",
        change="the graph snapshot's title is changed; the signed title hash is not",
        verdict="failed",
        failing=("title.canon_sha256",),
        message=f"{_FILE}: {_PAYLOAD}.canonical_record.metadata.title_canon_sha256: title.canon_sha256: title hash: "
        "expected 7bec57620db6c4e71ff39a1b7d597965b98a6e7611740ceb43f52e0f42f9f606 (stated), "
        f"got {title_canon_sha256_hex('A Different Title')} "
        "(recomputed from the title 'A Different Title')",
        build=_edited(lambda s: _snapshot(s)["paper"].update(title="A Different Title")),
    ),
    Vector(
        name="stale_state_hash",
        change="the graph snapshot's headline is changed and state_sha256 is NOT recomputed",
        verdict="failed",
        failing=("state.state_sha256",),
        message=f"{_FILE}: state_sha256: state.state_sha256: state hash: "
        "expected eb44db014ecd83921290240c642eaf91722ebb0f1897a01a291a103796d8d4de (stated), "
        "got <hex> (recomputed)",
        build=_edited(lambda s: _snapshot(s)["paper"].update(headline="Edited"), restate=False),
    ),
    Vector(
        name="inconsistent_counts",
        change="event_count is 3; the lists hold 2 valid and 0 invalid events",
        verdict="failed",
        failing=("events.counts",),
        message=f"{_FILE}: event_count: events.counts: event_count: "
        "expected 3 (stated), got 2 (counted: valid_event_count + invalid_event_count)",
        build=_edited(lambda s: s.update(event_count=3)),
    ),
    Vector(
        name="event_missing_from_applied_ids",
        change="the graph snapshot's event id is removed from applied_event_ids",
        verdict="failed",
        failing=("events.applied_ids", "events.counts"),
        message=f"{_FILE}: current.graph_snapshots[0].event_id: events.applied_ids: event "
        "'sha256:a9809987db02fef2cfa218df18d9d926d1da97dede444c2670f6822045392785' "
        "is not listed in applied_event_ids",
        build=_edited(lambda s: s["applied_event_ids"].pop()),
    ),
    Vector(
        name="malformed_event_id",
        change="the graph snapshot's event id is 'sha256:XYZ', here and in applied_event_ids",
        verdict="failed",
        failing=("events.ids",),
        message=f"{_FILE}: current.graph_snapshots[0].event_id: events.ids: malformed event id: "
        "expected sha256:<64 lower-case hex digits>, got 'sha256:XYZ'",
        build=_edited(
            lambda s: (
                s["current"]["graph_snapshots"][0].update(event_id="sha256:XYZ"),
                s["applied_event_ids"].__setitem__(1, "sha256:XYZ"),
            )
        ),
    ),
    Vector(
        name="receipt_signed_after_rotates_at",
        change="re-signed by the test key that rotates_at 2026-06-01; signed_at stays 2026-07-02",
        verdict="failed",
        failing=("receipt.key_validity",),
        message=f"{_FILE}: {_RECEIPT}.signed_at: receipt.key_validity: signed at 2026-07-02T01:18:28.252501Z "
        "(stated), outside key test-retired-2026's validity [2026-01-01T00:00:00Z, 2026-06-01T00:00:00Z)",
        build=_resigned(RETIRED),
    ),
    Vector(
        name="receipt_signed_before_not_before",
        change="re-signed by the test key valid from 2026-06-01, with signed_at 2026-05-01",
        verdict="failed",
        failing=("receipt.key_validity",),
        message=f"{_FILE}: {_RECEIPT}.signed_at: receipt.key_validity: signed at 2026-05-01T00:00:00Z "
        "(stated), outside key test-current-2026's validity [2026-06-01T00:00:00Z, -)",
        build=_resigned(CURRENT, signed_at="2026-05-01T00:00:00Z"),
    ),
    # -- unverifiable: nothing failed, but the signature could not be checked ---------------
    Vector(
        name="signed_by_untrusted_key",
        change="re-signed by a test key under its own id, which no keyring here trusts",
        verdict="unverifiable",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: receipt.signature: {_KEY_MISSING}",
        build=_resigned(UNTRUSTED),
    ),
    Vector(
        name="unknown_key_id",
        change="the receipt's key_id is pith-v2-2027-01; the registry's real signature is kept",
        verdict="unverifiable",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.signature_b64: receipt.signature: "
        "key 'pith-v2-2027-01' is not in this site's keyring",
        build=_edited(lambda s: _receipt(s).update(key_id="pith-v2-2027-01")),
    ),
    Vector(
        name="unsupported_signed_message",
        change="signed_message is 'canonical_sha256_hex', a scheme this verifier does not know",
        verdict="unverifiable",
        failing=("receipt.signature",),
        message=f"{_FILE}: {_RECEIPT}.algorithm: receipt.signature: unsupported scheme: "
        "algorithm 'ed25519', signed_message 'canonical_sha256_hex'",
        build=_edited(lambda s: _receipt(s).update(signed_message="canonical_sha256_hex")),
    ),
    # -- verified: valid variations -------------------------------------------------------
    Vector(
        name="old_style_id_with_slash",
        change="a new record for old-style arXiv id hep-lat/0305021 (submitted 2003), signed by a trusted test key",
        verdict="verified",
        failing=(),
        message="",
        build=_old_style_id,
    ),
    Vector(
        name="rotated_to_new_key",
        change="re-signed by the trusted test key valid from 2026-06-01 (the new key of a rotation)",
        verdict="verified",
        failing=(),
        message="",
        build=_resigned(CURRENT),
    ),
    Vector(
        name="unknown_extra_fields",
        change="an unknown top-level field and an unknown list in current (the format may grow)",
        verdict="verified",
        failing=(),
        message="",
        build=_edited(
            lambda s: (
                s.update(future_field={"note": "kept, hashed, not trusted"}),
                s["current"].update(future_list=[]),
            )
        ),
    ),
    # -- integrity files --------------------------------------------------------------------
    Vector(
        name="registry_signed_event",
        kind="integrity",
        change="the registry's real signed event 3600 of 2604.23340, its payload omitted (null): "
        "the signature verifies, but binds nothing in the file, so the file is not verified",
        verdict="unverifiable",
        failing=(),
        message=f"{_FILE}: events: integrity.payload_sha256: how payload_sha256 is derived from the "
        "payload is not published, so the signed digests are not linked to the payloads shown",
        build=_integrity(),
    ),
    Vector(
        name="event_signature_flipped_bit",
        kind="integrity",
        change="event 3600's signature with one bit flipped",
        verdict="failed",
        failing=("integrity.signatures", "integrity.event_signature"),
        message=f"{_FILE}: events: integrity.signatures: 1 of 1 event signatures do not verify",
        build=_integrity(lambda e: e.update(signature_b64=_flip_bit(e["signature_b64"]))),
    ),
    Vector(
        name="event_payload_sha256_not_hex",
        kind="integrity",
        change="event 3600's payload_sha256 is 'not-a-digest'",
        verdict="failed",
        failing=("integrity.signatures", "integrity.event_signature"),
        message=f"{_FILE}: events: integrity.signatures: 1 of 1 event signatures do not verify",
        build=_integrity(lambda e: e.update(payload_sha256="not-a-digest")),
    ),
    Vector(
        name="event_signed_by_untrusted_key",
        kind="integrity",
        change="event 3600 re-signed by a test key under its own id",
        verdict="unverifiable",
        failing=("integrity.signatures",),
        message=f"{_FILE}: events: integrity.signatures: "
        "1 of 1 events are signed by keys this site does not trust",
        build=_integrity(_untrusted_event),
    ),
    Vector(
        name="event_copied_from_another_paper",
        kind="integrity",
        change="event 3600, signature intact, with a payload naming another paper (2605.06340) than the file",
        verdict="failed",
        failing=("integrity.event_subject",),
        message=f"{_FILE}: events[0].payload.arxiv_id: integrity.event_subject: 1 of 1 events name another "
        "paper than the file's '2604.23340': event 3600 names '2605.06340'",
        build=_integrity(lambda e: e.update(payload={"arxiv_id": "2605.06340", "severity": "critical"})),
    ),
    Vector(
        name="event_id_as_string",
        kind="integrity",
        change='event 3600\'s event_id is the string "3600"',
        verdict="rejected",
        failing=("integrity.parse",),
        message=f'{_FILE}: events[0].event_id: integrity.type: expected an integer, got a string ("3600")',
        build=_integrity(lambda e: e.update(event_id="3600")),
    ),
)


def _key_files() -> dict[str, bytes]:
    files = {f"keys/{REGISTRY_KEY_PATH.name}": REGISTRY_KEY_PATH.read_bytes()}
    for key, window in TEST_KEY_FILES.items():
        document = key.key_document(**window)
        files[f"keys/{key.key_id}.json"] = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    return files


def _readme() -> bytes:
    lines = [
        "# Test vectors",
        "",
        "Generated by `make_vectors.py` (`make vectors`); do not edit by hand. Each file is the real seed",
        "(`tests/data/seed.state.json`, Pith number `pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7`) with one",
        "deliberate change, or for `*.integrity.json` the registry's real signed event 3600 of 2604.23340",
        "in the shape of its integrity file. Unless a line says otherwise, `state_sha256` was recomputed",
        "after the change, so only the checks the change is about fail.",
        "",
        "Check them with the keyring in `keys/` (the registry's real public key and two test keys",
        "derived from fixed seeds, see `make_vectors.py`) and the vectors' limits:",
        "",
        "    python -m sitegen verify --keys tests/vectors/keys --max-bytes 65536 --max-depth 64 tests/vectors/*.json",
        "",
        "| file | what changed | verdict | failing check |",
        "|---|---|---|---|",
    ]
    for vector in VECTORS:
        failing = ", ".join(f"`{c}`" for c in vector.failing) or "none"
        if vector.verdict == "rejected":  # name the parse check that refused it, e.g. json.utf8
            failing += f" (`{re.findall(r': ((?:json|state|integrity)[.][a-z0-9_]+):', vector.message)[0]}`)"
        lines.append(f"| `{vector.filename}` | {vector.change} | {vector.verdict} | {failing} |")
    return ("\n".join(lines) + "\n").encode("utf-8")


def build_vectors() -> dict[str, bytes]:
    """Every generated file, by path relative to ``tests/vectors/``."""
    files = {vector.filename: vector.build() for vector in VECTORS}
    files.update(_key_files())
    files["README.md"] = _readme()
    return files


def generated_paths(directory: Path) -> set[str]:
    """The generated files present in ``directory`` (everything but the script and caches)."""
    return {
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.suffix in (".json", ".md")
    }


def main() -> int:
    files = build_vectors()
    for stale in generated_paths(HERE) - files.keys():
        (HERE / stale).unlink()
    for rel, data in sorted(files.items()):
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            print(f"wrote tests/vectors/{rel}")
    print(f"{len(files)} files in tests/vectors/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

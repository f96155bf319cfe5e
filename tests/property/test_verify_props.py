"""Properties of verification: any change to what is signed fails, and nothing makes the verifier raise."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.fs.sources import load_keyring
from sitegen.pith.keys import Keyring, parse_key
from sitegen.pith.report import Status, Verdict
from sitegen.pith.verify import verify_integrity_bytes, verify_state_bytes
from tests.conftest import REGISTRY_KEY_PATH
from tests.strategies import (
    SIGNED_RECORD,
    TEST_KEY,
    get_at,
    json_values,
    mutated_seed_bytes,
    record_edits,
    set_at,
    signed_seed,
)
from tests.synth import dump_state, restate_hash

REGISTRY = load_keyring(REGISTRY_KEY_PATH.parent)
KEYRING = Keyring.of([parse_key(TEST_KEY.key_document(), "keys/property-test-key.json")])
SIGNED = signed_seed()
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _verdict(state: dict[str, object]) -> tuple[Verdict, dict[str, Status]]:
    report, _ = verify_state_bytes(dump_state(state), "prop.json", KEYRING)
    return report.verdict, {c.id: c.status for c in report.checks}


def test_the_signed_starting_point_is_verified() -> None:
    """The properties below start from a verified state (else they would prove nothing)."""
    assert _verdict(signed_seed())[0] is Verdict.VERIFIED


@PROPERTY
@given(record_edits(), st.sampled_from(["signed", "both", "current"]))
def test_any_change_to_a_record_field_fails(edit: tuple[tuple[str | int, ...], object], where: str) -> None:
    """Changing any canonical-record field (to a value of the same type) turns verified into failed:
    in the signed record (alone, or with current.canonical_record alike) the hash and signature fail;
    in current.canonical_record alone, it no longer matches the signed record. state_sha256 is
    recomputed each time, so it is never what catches the change."""
    path, value = edit
    state = signed_seed()
    if where in ("signed", "both"):
        set_at(state, SIGNED_RECORD + path, value)
    if where in ("current", "both"):
        set_at(state, ("current", "canonical_record", *path), value)
    verdict, statuses = _verdict(restate_hash(state))
    assert verdict is Verdict.FAILED
    assert statuses["state.state_sha256"] is Status.VERIFIED
    if where == "current":
        assert statuses["record.current_matches_created"] is Status.FAILED
    else:
        assert statuses["record.canonical_sha256"] is Status.FAILED
        assert statuses["receipt.signature"] is Status.FAILED


@PROPERTY
@given(st.integers(min_value=0, max_value=511))
def test_one_flipped_signature_bit_fails(bit: int) -> None:
    """Flipping any one of the 512 bits of the receipt signature turns verified into failed."""
    state = signed_seed()
    receipt = get_at(state, (*SIGNED_RECORD[:-1], "receipt"))
    raw = bytearray(base64.b64decode(receipt["signature_b64"]))
    raw[bit // 8] ^= 1 << (bit % 8)
    receipt["signature_b64"] = base64.b64encode(bytes(raw)).decode("ascii")
    verdict, statuses = _verdict(restate_hash(state))
    assert verdict is Verdict.FAILED
    assert statuses["receipt.signature"] is Status.FAILED


@PROPERTY
@given(st.binary(max_size=300))
def test_verify_never_raises_for_any_bytes(data: bytes) -> None:
    """Arbitrary short bytes are rejected with one parse check, never an exception."""
    report, _ = verify_state_bytes(data, "any.json", KEYRING)
    assert report.verdict is Verdict.REJECTED
    assert [c.id for c in report.checks] == ["state.parse"]


@PROPERTY
@given(json_values)
def test_verify_never_raises_for_any_json(value: object) -> None:
    """Any JSON hypothesis can build is a report, for state files and for integrity files."""
    data = json.dumps(value).encode("utf-8")
    assert verify_state_bytes(data, "any.json", KEYRING)[0].verdict is Verdict.REJECTED
    assert verify_integrity_bytes(data, "any.json", KEYRING)[0].verdict is Verdict.REJECTED


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_seed_bytes())
def test_any_one_field_changed_in_the_real_seed_is_never_verified(mutation: tuple[bytes, bool]) -> None:
    """The real seed with any one leaf replaced by any JSON value: never an exception, a verdict that
    agrees with its checks, and never verified when the value really changed."""
    data, changed = mutation
    report, _ = verify_state_bytes(data, "mutated.json", REGISTRY)
    failed = [c for c in report.checks if c.status is Status.FAILED]
    if report.verdict is Verdict.REJECTED:
        assert [c.id for c in report.checks] == ["state.parse"]
    else:
        assert (report.verdict is Verdict.FAILED) == bool(failed)
    if changed:
        assert report.verdict is not Verdict.VERIFIED


@PROPERTY
@given(st.integers(min_value=0, max_value=len(dump_state(SIGNED)) - 1))
def test_verify_never_raises_for_a_truncated_seed(length: int) -> None:
    """Every prefix of a signed state is rejected as a file that could not be read."""
    report, _ = verify_state_bytes(dump_state(SIGNED)[:length], "cut.json", KEYRING)
    assert report.verdict is Verdict.REJECTED

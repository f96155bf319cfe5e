"""The committed test vectors: reproducible, each gets exactly the verdict, checks and message of its
line, and (checked apart from sitegen's verifier) each really is what its line says."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sitegen.fs.sources import load_keyring
from sitegen.pith.keys import Keyring
from sitegen.pith.report import InputReport, Status
from sitegen.pith.verify import (
    CHECK_EXPLANATIONS,
    INTEGRITY_SIGNATURE_CHECK,
    SIGNATURE_CHECK,
    check_message,
    verify_integrity_bytes,
    verify_state_bytes,
)
from tests.synth import SigningKey
from tests.vectors.make_vectors import (
    CURRENT,
    HERE,
    IMPOSTOR,
    REGISTRY_FINGERPRINT,
    REGISTRY_KEY_ID,
    RETIRED,
    SEED_DIGEST,
    UNTRUSTED,
    VECTOR_LIMITS,
    VECTORS,
    Vector,
    build_vectors,
    generated_paths,
)


def _pattern(vector: Vector) -> str:
    """The vector's message template as a regular expression."""
    parts = re.split(r"(<hex>|<any>)", vector.message.replace("{file}", vector.filename))
    tokens = {"<hex>": "[0-9a-f]{64}", "<any>": ".+"}
    return "".join(tokens.get(part, re.escape(part)) for part in parts)


def _failing(report: InputReport) -> tuple[str, ...]:
    """Ids of the failed checks in report order (for unverifiable: the signature check not made)."""
    if report.verdict.value == "unverifiable":
        wanted = (SIGNATURE_CHECK, INTEGRITY_SIGNATURE_CHECK)
        return tuple(c.id for c in report.checks if c.id in wanted and c.status is Status.NOT_CHECKABLE)
    return tuple(dict.fromkeys(c.id for c in report.failed_checks))


def _first_message(report: InputReport) -> str:
    if report.errors:
        return report.errors[0]
    return check_message(report.input, report.reasons[0])


@pytest.fixture(scope="module")
def vector_keyring() -> Keyring:
    return load_keyring(HERE / "keys")


def test_regenerating_the_vectors_changes_no_committed_file() -> None:
    """`make vectors` reproduces every committed vector byte for byte, adds none and removes none."""
    files = build_vectors()
    committed = generated_paths(HERE)
    assert sorted(files.keys() - committed) == [], "run `make vectors` and commit the new files"
    assert sorted(committed - files.keys()) == [], "run `make vectors`: these files are stale"
    differing = sorted(rel for rel, data in files.items() if (HERE / rel).read_bytes() != data)
    assert differing == [], "run `make vectors` and review the diff"


def test_vector_names_are_unique_and_every_verdict_is_covered() -> None:
    """Each vector has its own file, and the set exercises all four verdicts."""
    assert len({v.filename for v in VECTORS}) == len(VECTORS)
    assert {v.verdict for v in VECTORS} == {"verified", "failed", "unverifiable", "rejected"}


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_vector_gets_its_verdict_failing_checks_and_message(vector: Vector, vector_keyring: Keyring) -> None:
    """The vector's verdict, the exact set of failing checks, and the first message as listed."""
    data = (HERE / vector.filename).read_bytes()
    verify = verify_integrity_bytes if vector.kind == "integrity" else verify_state_bytes
    report, _ = verify(data, vector.filename, vector_keyring, VECTOR_LIMITS)
    assert report.verdict.value == vector.verdict, report.errors
    assert _failing(report) == vector.failing
    if vector.verdict == "verified":
        assert report.errors == ()
    else:
        assert re.fullmatch(_pattern(vector), _first_message(report)), _first_message(report)


def test_every_check_a_vector_produces_has_an_explanation(vector_keyring: Keyring) -> None:
    """The site explains each check in a sentence: no check id may lack one."""
    seen = set()
    for vector in VECTORS:
        verify = verify_integrity_bytes if vector.kind == "integrity" else verify_state_bytes
        report, _ = verify(
            (HERE / vector.filename).read_bytes(), vector.filename, vector_keyring, VECTOR_LIMITS
        )
        seen |= {c.id for c in report.checks}
    assert sorted(seen - CHECK_EXPLANATIONS.keys()) == []


# -- an independent check of what the vectors claim to be (hashlib, json, cryptography only) ----


def _load(name: str) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((HERE / f"{name}.state.json").read_bytes())
    return state


def _payload(state: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = state["current"]["record_created"]["payload"]
    return payload


def _sha256_canonical(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signed_by(public_key: bytes, state: dict[str, Any], digest_hex: str) -> bool:
    signature = base64.b64decode(_payload(state)["receipt"]["signature_b64"])
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, bytes.fromhex(digest_hex))
    except InvalidSignature:
        return False
    return True


REGISTRY_PUBLIC = bytes.fromhex("b2d552b68890857171a78b36a5dccf368a953413288c353f7c9d9d6f94b709b3")


def test_rehashed_vector_restates_every_hash_but_keeps_the_registrys_old_signature() -> None:
    """rehashed_not_resigned: its stated digests recompute, and its signature is the registry's over the seed's."""
    state = _load("rehashed_not_resigned")
    payload = _payload(state)
    digest = _sha256_canonical(payload["canonical_record"])
    assert payload["canonical_sha256"] == payload["receipt"]["canonical_sha256"] == digest != SEED_DIGEST
    assert _signed_by(REGISTRY_PUBLIC, state, SEED_DIGEST)
    assert not _signed_by(REGISTRY_PUBLIC, state, digest)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("resigned_by_impostor_claiming_registry_fingerprint", IMPOSTOR),
        ("resigned_by_impostor_with_own_fingerprint", IMPOSTOR),
        ("signed_by_untrusted_key", UNTRUSTED),
        ("rotated_to_new_key", CURRENT),
        ("receipt_signed_before_not_before", CURRENT),
        ("receipt_signed_after_rotates_at", RETIRED),
        ("old_style_id_with_slash", CURRENT),
    ],
)
def test_resigned_vectors_really_carry_their_test_keys_signature(name: str, key: SigningKey) -> None:
    """Each re-signed vector's signature verifies with the test key it names, over its recomputed digest."""
    state = _load(name)
    digest = _sha256_canonical(_payload(state)["canonical_record"])
    assert _payload(state)["canonical_sha256"] == digest
    assert _signed_by(key.public_bytes, state, digest)
    assert not _signed_by(REGISTRY_PUBLIC, state, digest)


def test_impostor_vector_states_the_registrys_key_id_and_fingerprint() -> None:
    """The impostor claims to be the registry in every field a reader would look at."""
    receipt = _payload(_load("resigned_by_impostor_claiming_registry_fingerprint"))["receipt"]
    assert (receipt["key_id"], receipt["public_key_fingerprint"]) == (REGISTRY_KEY_ID, REGISTRY_FINGERPRINT)


def test_flipped_bit_vector_differs_from_the_seed_signature_in_one_bit(seed_state: dict[str, Any]) -> None:
    """receipt_signature_flipped_bit changes exactly one of the 512 signature bits."""
    ours = base64.b64decode(_payload(_load("receipt_signature_flipped_bit"))["receipt"]["signature_b64"])
    seed = base64.b64decode(_payload(seed_state)["receipt"]["signature_b64"])
    assert sum(bin(a ^ b).count("1") for a, b in zip(ours, seed, strict=True)) == 1


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if v.kind == "state" and v.verdict != "rejected"], ids=lambda v: v.name
)
def test_state_hash_is_restated_in_every_vector_but_the_stale_one(
    vector: Vector, seed_state: dict[str, Any]
) -> None:
    """Every parsable state vector has a recomputed state_sha256, except stale_state_hash, which keeps the seed's."""
    state = _load(vector.name)
    recomputed = _sha256_canonical({k: v for k, v in state.items() if k != "state_sha256"})
    if vector.name == "stale_state_hash":
        assert state["state_sha256"] == seed_state["state_sha256"] != recomputed
    else:
        assert state["state_sha256"] == recomputed

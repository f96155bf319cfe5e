"""Canonical bytes and the hashes built on them, against the seed's and the registry's real values."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest

from sitegen.pith.canonical import (
    canonical_bytes,
    canonical_sha256_hex,
    sha256_hex,
    state_sha256_hex,
    title_canon_sha256_hex,
)
from sitegen.pith.model import RegistryKey
from sitegen.pith.numbers import fingerprint_b32, fingerprint_hex
from sitegen.pith.report import Status
from sitegen.pith.verify import check_ed25519
from tests.conftest import SEED_PATH
from tests.realdata import REGISTRY, SEED

REGISTRY_KEY_HEX = REGISTRY["registry_key"]["public_key_hex"]
SIGNED_RECORDS = [r for r in REGISTRY["records"] if "signature_b64" in r]
FULL_RECORDS = [r for r in REGISTRY["records"] if "canonical_record" in r]


def _registry_key() -> RegistryKey:
    raw = bytes.fromhex(REGISTRY_KEY_HEX)
    return RegistryKey(
        key_id=REGISTRY["registry_key"]["key_id"],
        public_key=raw,
        fingerprint_hex=fingerprint_hex(raw),
        fingerprint_b32=fingerprint_b32(raw),
    )


def _vector_id(entry: dict[str, Any]) -> str:
    return str(entry["source_url"]).rstrip("/").split("/pith/")[-1]


# -- the seed ------------------------------------------------------------------------


def test_seed_record_canonical_bytes_are_the_documented_recipe() -> None:
    """The seed's canonical record serialises to exactly the committed canonical bytes."""
    assert canonical_bytes(SEED["canonical_record"]) == SEED["canonical_bytes"].encode("utf-8")


def test_seed_canonical_sha256_is_the_registrys() -> None:
    """SHA-256 of the seed record's canonical bytes is the hash the registry stated and signed."""
    assert canonical_sha256_hex(SEED["canonical_record"]) == SEED["canonical_sha256"]
    assert sha256_hex(SEED["canonical_bytes"].encode("utf-8")) == SEED["canonical_sha256"]


def test_seed_state_sha256_is_the_stated_one() -> None:
    """The state hash of the real seed file, without its own field, is its stated state_sha256."""
    state = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    assert state_sha256_hex(state) == SEED["state_sha256"]


def test_state_sha256_ignores_only_its_own_field() -> None:
    """Changing state_sha256 leaves the state hash alone; changing any other field does not."""
    state = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    before = state_sha256_hex(state)
    state["state_sha256"] = "0" * 64
    assert state_sha256_hex(state) == before
    state["event_count"] = 3
    assert state_sha256_hex(state) != before


def test_seed_title_hash_is_the_signed_one() -> None:
    """The lower-cased title of the seed hashes to the title_canon_sha256 in its signed record."""
    assert title_canon_sha256_hex(SEED["title"]) == SEED["title_canon_sha256"]


def test_seed_receipt_signs_the_32_raw_digest_bytes() -> None:
    """The seed's receipt verifies over the raw digest bytes and not over their hex text."""
    key = _registry_key()
    digest_hex = SEED["canonical_sha256"]
    assert check_ed25519(key, bytes.fromhex(digest_hex), SEED["receipt_signature_b64"])[0] is Status.VERIFIED
    assert check_ed25519(key, digest_hex.encode(), SEED["receipt_signature_b64"])[0] is Status.FAILED


# -- the registry's published vectors --------------------------------------------------


@pytest.mark.parametrize("entry", FULL_RECORDS, ids=_vector_id)
def test_registry_record_canonical_sha256_recomputes(entry: dict[str, Any]) -> None:
    """Each real canonical record, in whatever key order it was published, hashes to its stated hash."""
    assert canonical_sha256_hex(entry["canonical_record"]) == entry["canonical_sha256"]


@pytest.mark.parametrize("entry", SIGNED_RECORDS, ids=_vector_id)
def test_registry_receipt_signature_verifies(entry: dict[str, Any]) -> None:
    """Each real receipt signature verifies with the registry key over the 32 bytes of its digest.

    These pages showed no record, only its digest; test_pithnum binds the digest to the Pith number.
    """
    digest = bytes.fromhex(entry["canonical_sha256"])
    status, reason = check_ed25519(_registry_key(), digest, entry["signature_b64"])
    assert status is Status.VERIFIED, reason


@pytest.mark.parametrize("entry", REGISTRY["titles"], ids=lambda e: e["title"][:30])
def test_registry_title_hash_recomputes(entry: dict[str, Any]) -> None:
    """Each real title, lower-cased, hashes to the registry's title_canon_sha256."""
    assert title_canon_sha256_hex(entry["title"]) == entry["title_canon_sha256"]


@pytest.mark.parametrize("event", REGISTRY["integrity_events"], ids=lambda e: str(e["event_id"]))
def test_registry_integrity_event_signature_verifies(event: dict[str, Any]) -> None:
    """Each real integrity event's signature verifies over the 32 bytes of its payload_sha256."""
    status, reason = check_ed25519(
        _registry_key(), bytes.fromhex(event["payload_sha256"]), event["signature_b64"]
    )
    assert status is Status.VERIFIED, reason


def test_registry_vectors_are_not_vacuous() -> None:
    """The registry vectors hold enough real data for the tests above to mean something."""
    assert len(FULL_RECORDS) >= 25
    assert len(SIGNED_RECORDS) >= 5
    assert len(REGISTRY["titles"]) >= 5
    assert len(REGISTRY["integrity_events"]) >= 5


# -- the recipe itself -------------------------------------------------------------------


def test_canonical_bytes_sort_keys_and_drop_whitespace() -> None:
    """Keys sorted at every level, no spaces, non-ASCII kept as UTF-8."""
    assert (
        canonical_bytes({"b": {"z": 1, "y": [2, "é"]}, "a": None})
        == b'{"a":null,"b":{"y":[2,"\xc3\xa9"],"z":1}}'
    )


def test_integer_and_string_versions_have_different_canonical_bytes() -> None:
    """A version given as "1" is a different record from version 1."""
    assert canonical_bytes({"version": 1}) != canonical_bytes({"version": "1"})


def test_hashing_published_bytes_as_they_are_gives_the_wrong_digest() -> None:
    """A bundle publishes its record in another key order: only rebuilt canonical bytes hash right."""
    entry = next(
        r for r in REGISTRY["records"] if list(r["canonical_record"]) != sorted(r["canonical_record"])
    )
    published = json.dumps(entry["canonical_record"], separators=(",", ":"), ensure_ascii=False).encode()
    assert hashlib.sha256(published).hexdigest() != entry["canonical_sha256"]
    assert canonical_sha256_hex(entry["canonical_record"]) == entry["canonical_sha256"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_canonical_bytes_refuse_non_finite_numbers(value: float) -> None:
    """NaN and the infinities are not JSON and have no canonical bytes."""
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_bytes({"x": value})


def test_canonical_bytes_refuse_values_that_are_not_json() -> None:
    """Bytes, sets and other Python objects are refused rather than stringified."""
    with pytest.raises(TypeError):
        canonical_bytes({"x": b"raw"})


def test_derivation_vectors_match_the_seed_file() -> None:
    """The committed derivation vectors were copied from the real seed, not made up."""
    state = json.loads(Path(SEED_PATH).read_text(encoding="utf-8"))
    payload = state["current"]["record_created"]["payload"]
    assert payload["canonical_record"] == SEED["canonical_record"]
    assert payload["canonical_sha256"] == SEED["canonical_sha256"]
    assert payload["receipt"]["signature_b64"] == SEED["receipt_signature_b64"]
    assert state["pith_number"] == SEED["pith_number"]

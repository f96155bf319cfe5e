"""Pith numbers, short forms and fingerprints, against every real vector we hold."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sitegen.pith.canonical import canonical_sha256_hex
from sitegen.pith.numbers import (
    base32_nopad,
    fingerprint_b32,
    fingerprint_hex,
    is_suffix,
    pith_number,
    pith_suffix,
    short_forms,
    split_pith_number,
)
from tests.realdata import DERIVATION, REGISTRY, SEED

ALL_NUMBERS = REGISTRY["records"] + REGISTRY["pith_numbers"]


def _vector_id(entry: dict[str, Any]) -> str:
    return str(entry["pith_number"])


def test_seed_pith_number_derives_from_its_record() -> None:
    """The seed's Pith number is pith:YEAR:SUFFIX of its recomputed canonical digest."""
    digest = bytes.fromhex(canonical_sha256_hex(SEED["canonical_record"]))
    assert pith_number(int(SEED["submitted_at"][:4]), digest) == SEED["pith_number"]


def test_seed_short_forms_are_its_aliases() -> None:
    """The 8/12/16-character prefixes of the seed's suffix are its pith_short aliases."""
    suffix = pith_suffix(bytes.fromhex(SEED["canonical_sha256"]))
    assert {str(n): v for n, v in short_forms(suffix).items()} == SEED["short_forms"]


@pytest.mark.parametrize("entry", ALL_NUMBERS, ids=_vector_id)
def test_registry_pith_number_suffix_is_base32_of_the_digest(entry: dict[str, Any]) -> None:
    """Each real Pith number's suffix is the first 26 base32 characters of its canonical digest."""
    parts = split_pith_number(entry["pith_number"])
    assert parts is not None
    assert pith_suffix(bytes.fromhex(entry["canonical_sha256"])) == parts[1]
    assert is_suffix(parts[1])


@pytest.mark.parametrize("entry", [r for r in REGISTRY["records"] if "canonical_record" in r], ids=_vector_id)
def test_registry_pith_number_year_is_the_submission_year(entry: dict[str, Any]) -> None:
    """Where the record is known, the whole Pith number derives from it, year included."""
    record = entry["canonical_record"]
    year = int(record["metadata"]["submitted_at"][:4])
    assert pith_number(year, bytes.fromhex(canonical_sha256_hex(record))) == entry["pith_number"]


def test_registry_vectors_span_old_years() -> None:
    """The vectors include records from before 2000, so four-digit years are really exercised."""
    assert min(int(e["pith_number"].split(":")[1]) for e in ALL_NUMBERS) < 2000


@pytest.mark.parametrize(
    "text",
    [
        "pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM",  # 25 characters
        "pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7A",  # 27 characters
        "pith:2026:3ba52nfjtlfmvfhqmnwvxcshm7",  # lower case
        "pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM1",  # 1 is not base32
        "pith:26:3BA52NFJTLFMVFHQMNWVXCSHM7",
        "pith:２０２６:3BA52NFJTLFMVFHQMNWVXCSHM7",  # full-width digits match \\d, not a year
        "PITH:2026:3BA52NFJTLFMVFHQMNWVXCSHM7",
        " pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7",
        "pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7\n",
        "pith:2026:../../../../etc/passwd",
    ],
)
def test_split_pith_number_refuses_malformed_text(text: str) -> None:
    """Anything but exactly pith:DDDD:<26 base32> is not a Pith number."""
    assert split_pith_number(text) is None


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_pith_suffix_refuses_digests_that_are_not_32_bytes(length: int) -> None:
    """A suffix is only derived from a 32-byte SHA-256 digest (a hex string's bytes would be 64)."""
    with pytest.raises(ValueError, match=f"a SHA-256 digest has 32 bytes, got {length}"):
        pith_suffix(bytes(length))


def test_base32_has_no_padding() -> None:
    """RFC 4648 base32 without '=' padding, as in every real suffix."""
    assert base32_nopad(b"f") == "MY"


def test_registry_key_fingerprints() -> None:
    """Hex and base32 fingerprints of the real registry key recompute from its bytes; both encodings
    of the key agree, and the seed's receipt names the same fingerprint."""
    key = DERIVATION["registry_key"]
    raw = bytes.fromhex(key["public_key_hex"])
    assert base64.b64decode(key["public_key_b64"]) == raw
    assert fingerprint_hex(raw) == key["fingerprint_sha256_hex"] == SEED["receipt_public_key_fingerprint"]
    assert fingerprint_b32(raw) == key["fingerprint_sha256_b32_first128bits"]

"""Properties of canonical bytes, base32 and Pith number shapes."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.pith.canonical import canonical_bytes, sha256_hex
from sitegen.pith.numbers import (
    SUFFIX_LENGTH,
    base32_nopad,
    fingerprint_hex,
    is_suffix,
    pith_number,
    pith_suffix,
    short_forms,
    split_pith_number,
)
from tests.strategies import json_values

BASE32 = re.compile(r"[A-Z2-7]*")


def _reordered(value: object) -> object:
    """The same JSON value with every object's keys inserted in reverse order."""
    if isinstance(value, dict):
        return {key: _reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(item) for item in value]
    return value


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_bytes_round_trip_through_json_loads(value: object) -> None:
    """Canonical bytes load back to an equal value, whose canonical bytes are the same bytes."""
    data = canonical_bytes(value)
    loaded = json.loads(data.decode("utf-8"))
    assert loaded == value
    assert canonical_bytes(loaded) == data


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_bytes_ignore_key_order(value: object) -> None:
    """Inserting an object's keys in another order changes neither its canonical bytes nor its hash."""
    assert canonical_bytes(_reordered(value)) == canonical_bytes(value)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_our_base32_agrees_with_the_standard_library(data: bytes) -> None:
    """base32_nopad is RFC 4648 base32 as base64.b32encode writes it, minus the padding."""
    assert base32_nopad(data) == base64.b32encode(data).decode("ascii").rstrip("=")
    assert BASE32.fullmatch(base32_nopad(data))


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(min_value=0, max_value=9999))
def test_suffix_shape_short_forms_and_pith_number(digest: bytes, year: int) -> None:
    """A suffix is 26 base32 characters, short forms are its prefixes, and a Pith number splits back."""
    suffix = pith_suffix(digest)
    assert len(suffix) == SUFFIX_LENGTH and is_suffix(suffix)
    assert all(suffix.startswith(short) and len(short) == n for n, short in short_forms(suffix).items())
    assert split_pith_number(pith_number(year, digest)) == (year, suffix)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_fingerprint_is_the_first_16_bytes_of_the_key_hash(public_key: bytes) -> None:
    """The hex fingerprint is 32 hex digits, the start of the key's SHA-256."""
    fingerprint = fingerprint_hex(public_key)
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprint)
    assert sha256_hex(public_key).startswith(fingerprint)
    assert hashlib.sha256(public_key).digest()[:16].hex() == fingerprint

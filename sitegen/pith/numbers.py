"""Pith numbers, short forms and key fingerprints (layer 1, pure).

Implements "Pith Number" and the fingerprint part of "Receipt signature" in
``docs/pith-format.md`` (both CONFIRMED).
"""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = [
    "SHORT_LENGTHS",
    "SUFFIX_LENGTH",
    "base32_nopad",
    "fingerprint_b32",
    "fingerprint_hex",
    "is_suffix",
    "pith_number",
    "pith_suffix",
    "short_forms",
    "split_pith_number",
]

SUFFIX_LENGTH = 26
SHORT_LENGTHS = (8, 12, 16)
_SUFFIX_RE = re.compile(r"[A-Z2-7]{26}")
_PITH_RE = re.compile(r"pith:([0-9]{4}):([A-Z2-7]{26})")  # ASCII digits only: \d matches "２"


def base32_nopad(data: bytes) -> str:
    """RFC 4648 base32 (A–Z, 2–7) without ``=`` padding.

    >>> base32_nopad(b"foobar")
    'MZXW6YTBOI'
    """
    return base64.b32encode(data).decode("ascii").rstrip("=")


def pith_suffix(digest: bytes) -> str:
    """First 26 base32 characters of a 32-byte SHA-256 digest.

    >>> pith_suffix(bytes.fromhex(
    ...     "d841dd34a99acaca94f0636d5b8a4767e6a0d0546b317553de6c9d86e9291c39"))
    '3BA52NFJTLFMVFHQMNWVXCSHM7'

    Raises:
        ValueError: the digest is not 32 bytes.
    """
    if len(digest) != 32:
        raise ValueError(f"a SHA-256 digest has 32 bytes, got {len(digest)}")
    return base32_nopad(digest)[:SUFFIX_LENGTH]


def pith_number(year: int, digest: bytes) -> str:
    """``pith:YEAR:SUFFIX`` for a canonical digest.

    >>> pith_number(2026, bytes.fromhex(
    ...     "d841dd34a99acaca94f0636d5b8a4767e6a0d0546b317553de6c9d86e9291c39"))
    'pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7'
    """
    return f"pith:{year:04d}:{pith_suffix(digest)}"


def split_pith_number(text: str) -> tuple[int, str] | None:
    """Return ``(year, suffix)`` of a well-formed Pith number, else ``None``.

    >>> split_pith_number("pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7")
    (2026, '3BA52NFJTLFMVFHQMNWVXCSHM7')
    >>> split_pith_number("pith:2026:../../etc") is None
    True
    >>> split_pith_number("pith:\uff12\uff10\uff12\uff16:3BA52NFJTLFMVFHQMNWVXCSHM7") is None
    True
    """
    match = _PITH_RE.fullmatch(text)
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def is_suffix(text: str) -> bool:
    """True for a 26-character base32 suffix."""
    return _SUFFIX_RE.fullmatch(text) is not None


def short_forms(suffix: str) -> dict[int, str]:
    """The 8, 12 and 16 character prefixes of a suffix, keyed by length.

    >>> short_forms("3BA52NFJTLFMVFHQMNWVXCSHM7")[8]
    '3BA52NFJ'
    """
    return {n: suffix[:n] for n in SHORT_LENGTHS}


def fingerprint_hex(public_key: bytes) -> str:
    """First 16 bytes, hex, of SHA-256 of the raw public key.

    >>> fingerprint_hex(bytes.fromhex(
    ...     "b2d552b68890857171a78b36a5dccf368a953413288c353f7c9d9d6f94b709b3"))
    '8d4b5ee74e4693bcd1df2446408b0d54'
    """
    return hashlib.sha256(public_key).digest()[:16].hex()


def fingerprint_b32(public_key: bytes) -> str:
    """Base32 form of the fingerprint, as the registry publishes it.

    The registry's ``fingerprint_sha256_b32_first128bits`` is the first 26
    characters of base32 of the *whole* SHA-256 of the key (the same recipe as a
    Pith suffix), so its last character carries bits beyond the first 128.

    >>> fingerprint_b32(bytes.fromhex(
    ...     "b2d552b68890857171a78b36a5dccf368a953413288c353f7c9d9d6f94b709b3"))
    'RVFV5Z2OI2J3ZUO7ERDEBCYNKS'
    """
    return pith_suffix(hashlib.sha256(public_key).digest())

"""Canonical JSON bytes and the hashes derived from them (layer 1, pure).

Implements "Canonical JSON and hashes" of ``docs/pith-format.md`` (CONFIRMED).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

__all__ = [
    "canonical_bytes",
    "canonical_sha256_hex",
    "sha256_hex",
    "state_sha256_hex",
    "title_canon_sha256_hex",
]


def canonical_bytes(value: object) -> bytes:
    """Return the canonical bytes of a JSON value.

    UTF-8 of ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.
    NaN and infinities are refused (they are not JSON).

    >>> canonical_bytes({"b": 1, "a": [True, None, "é"]})
    b'{"a":[true,null,"\\xc3\\xa9"],"b":1}'

    Raises:
        TypeError: the value holds something that is not JSON.
        ValueError: the value holds NaN or an infinity.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``.

    >>> sha256_hex(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return hashlib.sha256(data).hexdigest()


def canonical_sha256_hex(record: object) -> str:
    """SHA-256 of a canonical record's canonical bytes: the ``canonical_sha256`` (CONFIRMED)."""
    return sha256_hex(canonical_bytes(record))


def state_sha256_hex(state: Mapping[str, object]) -> str:
    """SHA-256 of a state object's canonical bytes with ``state_sha256`` removed (CONFIRMED)."""
    return sha256_hex(canonical_bytes({k: v for k, v in state.items() if k != "state_sha256"}))


def title_canon_sha256_hex(title: str) -> str:
    """SHA-256 of the UTF-8 of the lower-cased title (CONFIRMED on 11 real titles).

    >>> title_canon_sha256_hex("Staleness-Learning Rate Scaling Laws for Asynchronous RLHF")[:16]
    '7bec57620db6c4e7'
    """
    return sha256_hex(title.lower().encode("utf-8"))

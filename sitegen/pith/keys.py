"""The operator's keyring: trusted registry keys read from ``content/keys/*.json`` (layer 1).

A key file has the shape of the registry's published ``public_key`` object
(``key_id``, ``algorithm``, ``public_key_b64`` and/or ``public_key_hex``,
``fingerprint_sha256_hex``, ``fingerprint_sha256_b32_first128bits``, ``rotates_at``),
optionally with ``not_before``/``not_after``. The trust anchor must be
self-consistent: a file that states no fingerprint, or one that does not match its
key bytes, or base64 and hex forms of two different keys, is refused.

Validity window: ``[not_before, min(not_after, rotates_at))``, half-open. A receipt is
judged by its stated ``signed_at``, which the registry's signature does not cover: the
window catches a key used after its rotation by an honest signer, not an attacker who
holds a retired private key (remove such a key from the keyring instead).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sitegen.errors import ConfigError
from sitegen.pith.model import JSONValue, RegistryKey
from sitegen.pith.numbers import fingerprint_b32, fingerprint_hex

__all__ = ["Keyring", "format_timestamp", "parse_key", "parse_timestamp"]

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


@dataclass(frozen=True, slots=True)
class Keyring:
    """Trusted keys by ``key_id``; several may be trusted at once (rotation)."""

    keys: tuple[RegistryKey, ...] = ()
    skipped: tuple[str, ...] = ()
    """Names in the keys directory that are not key files (hidden, or not ``*.json``): not read,
    not trusted, and named in a build warning so that a key put there by mistake is noticed."""

    def get(self, key_id: str) -> RegistryKey | None:
        for key in self.keys:
            if key.key_id == key_id:
                return key
        return None

    @classmethod
    def of(cls, keys: Iterable[RegistryKey], skipped: Iterable[str] = ()) -> Keyring:
        """A keyring sorted by key id (``skipped``: see the field); two keys with one id are refused.

        Ids that differ only in case count as one: each key is published as
        ``keys/<key_id>.json``, and those two files are one on a case-insensitive host.
        """
        ordered = sorted(keys, key=lambda k: k.key_id)
        for first, second in itertools.pairwise(sorted(ordered, key=lambda k: k.key_id.casefold())):
            if first.key_id.casefold() == second.key_id.casefold():
                case = (
                    ""
                    if first.key_id == second.key_id
                    else f" (as {first.key_id!r}: ids differ only in case)"
                )
                raise ConfigError(
                    second.source,
                    "key_id",
                    f"key id {second.key_id!r} is also in {first.source}{case}",
                    check="key.duplicate_id",
                )
        return cls(tuple(ordered), tuple(sorted(skipped)))


def parse_timestamp(text: str) -> dt.datetime | None:
    """An aware UTC datetime from ISO 8601 text (``Z`` or an offset), else None."""
    try:
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            return None
        return value.astimezone(dt.UTC)
    except (ValueError, OverflowError):  # OverflowError: "9999-12-31T23:59:59-23:59"
        return None


def parse_key(document: JSONValue, source: str) -> RegistryKey:
    """Build a trusted key from a key object, checking it against its own fingerprints.

    Raises:
        ConfigError: a field is missing or mistyped, the key is not 32 bytes of
            Ed25519, its base64 and hex forms differ, or a stated fingerprint does
            not match the key bytes.
    """
    if not isinstance(document, dict):
        raise ConfigError(source, "(top level)", "expected a key object", check="key.type")

    def text(name: str, *, required: bool = True) -> str | None:
        value = document.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            what = "missing" if value is None else f"expected a string, got {type(value).__name__}"
            raise ConfigError(source, name, what, check="key.field")
        return value

    key_id = text("key_id")
    assert key_id is not None
    if not key_id.strip():
        raise ConfigError(source, "key_id", "the key id is empty", check="key.field")
    algorithm = text("algorithm")
    if algorithm != "ed25519":
        raise ConfigError(
            source, "algorithm", f"expected 'ed25519', got {algorithm!r}", check="key.algorithm"
        )
    key_bytes = _key_bytes(
        text("public_key_b64", required=False), text("public_key_hex", required=False), source
    )
    derived_hex = fingerprint_hex(key_bytes)
    derived_b32 = fingerprint_b32(key_bytes)
    fingerprints = (
        ("fingerprint_sha256_hex", derived_hex),
        ("fingerprint_sha256_b32_first128bits", derived_b32),
    )
    if all(document.get(name) is None for name, _ in fingerprints):
        raise ConfigError(
            source,
            "fingerprint_sha256_hex",
            f"no fingerprint is stated; the key's is {derived_hex} (compare it with the registry's)",
            check="key.fingerprint",
        )
    for name, derived in fingerprints:
        stated = text(name, required=False)
        if stated is not None and stated != derived:
            raise ConfigError(
                source,
                name,
                f"expected {derived} (recomputed from the key), got {stated} (stated)",
                check="key.fingerprint",
            )
    not_before = _window_edge(document, "not_before", source)
    not_after = _window_edge(document, "not_after", source)
    rotates_at = _window_edge(document, "rotates_at", source)
    if rotates_at is not None and (not_after is None or rotates_at < not_after):
        not_after = rotates_at
    if not_before is not None and not_after is not None and not_before >= not_after:
        raise ConfigError(
            source,
            "not_before",
            f"the validity window is empty: not_before {format_timestamp(not_before)} is not before "
            f"not_after/rotates_at {format_timestamp(not_after)}",
            check="key.validity",
        )
    return RegistryKey(
        key_id=key_id,
        public_key=key_bytes,
        fingerprint_hex=derived_hex,
        fingerprint_b32=derived_b32,
        not_before=not_before,
        not_after=not_after,
        source=source,
        document=document,
    )


def _key_bytes(b64: str | None, hex_text: str | None, source: str) -> bytes:
    forms: list[tuple[str, bytes]] = []
    if b64 is not None:
        try:
            forms.append(("public_key_b64", base64.b64decode(b64, validate=True)))
        except ValueError as exc:  # binascii.Error, or a non-ASCII string
            raise ConfigError(source, "public_key_b64", "not valid base64", check="key.encoding") from exc
    if hex_text is not None:
        if _HEX.fullmatch(hex_text) is None:  # bytes.fromhex would also take spaces
            raise ConfigError(source, "public_key_hex", "not valid hex", check="key.encoding")
        forms.append(("public_key_hex", bytes.fromhex(hex_text)))
    if not forms:
        raise ConfigError(
            source, "public_key_b64", "neither public_key_b64 nor public_key_hex is given", check="key.field"
        )
    for name, value in forms:
        if len(value) != 32:
            raise ConfigError(
                source, name, f"an Ed25519 public key has 32 bytes, got {len(value)}", check="key.length"
            )
    if len(forms) == 2 and forms[0][1] != forms[1][1]:
        raise ConfigError(
            source,
            "public_key_hex",
            "public_key_b64 and public_key_hex are different keys",
            check="key.encoding",
        )
    return forms[0][1]


def _window_edge(document: Mapping[str, JSONValue], name: str, source: str) -> dt.datetime | None:
    value = document.get(name)
    if value is None:
        return None
    parsed = parse_timestamp(value) if isinstance(value, str) else None
    if parsed is None:
        raise ConfigError(
            source, name, "expected an ISO 8601 time with a zone, or null", check="key.validity"
        )
    return parsed


def format_timestamp(value: dt.datetime | None) -> str:
    """ISO 8601 in UTC with ``Z``, or ``-`` for an open edge of a validity window."""
    return "-" if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

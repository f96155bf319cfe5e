"""The keyring: self-consistent key files only, several keys at once, validity windows."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from sitegen.errors import ConfigError
from sitegen.fs.sources import load_keyring
from sitegen.pith.keys import Keyring, parse_key
from sitegen.pith.parse import parse_state
from sitegen.pith.report import Status, Verdict
from sitegen.pith.verify import verify_state
from tests.conftest import DATA, REGISTRY_KEY_PATH
from tests.synth import SigningKey, dump_state, resign_state

REGISTRY_DOC: dict[str, Any] = json.loads(REGISTRY_KEY_PATH.read_text(encoding="utf-8"))


def _refused(document: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_key(document, "keys/k.json")
    return info.value


def _registry(**changes: object) -> dict[str, Any]:
    document = dict(REGISTRY_DOC)
    document.update(changes)
    return {k: v for k, v in document.items() if v is not ...}


def _verdict_and_validity(state: dict[str, Any], keyring: Keyring) -> tuple[Verdict, str]:
    report = verify_state(parse_state(dump_state(state), "s.json"), keyring, "s.json")
    validity = next(c for c in report.checks if c.id == "receipt.key_validity")
    return report.verdict, validity.summary


def test_registry_key_file_loads_with_its_fingerprints() -> None:
    """The shipped registry key is accepted and its fingerprints are recomputed, not copied."""
    key = parse_key(REGISTRY_DOC, "keys/pith-v1-2026-05.json")
    assert key.key_id == "pith-v1-2026-05"
    assert key.public_key.hex() == REGISTRY_DOC["public_key_hex"]
    assert key.fingerprint_hex == "8d4b5ee74e4693bcd1df2446408b0d54"
    assert key.fingerprint_b32 == "RVFV5Z2OI2J3ZUO7ERDEBCYNKS"
    assert (key.not_before, key.not_after) == (None, None)


def test_hex_fingerprint_that_does_not_match_the_key_is_refused() -> None:
    """A key file whose stated hex fingerprint is not its key's is refused, naming both values."""
    error = _refused(_registry(fingerprint_sha256_hex="00" * 16))
    assert str(error) == (
        "keys/k.json: fingerprint_sha256_hex: key.fingerprint: expected 8d4b5ee74e4693bcd1df2446408b0d54 "
        "(recomputed from the key), got 00000000000000000000000000000000 (stated)"
    )


def test_base32_fingerprint_that_does_not_match_the_key_is_refused() -> None:
    """The registry's base32 fingerprint form is checked too."""
    error = _refused(_registry(fingerprint_sha256_b32_first128bits="A" * 26))
    assert (error.field, error.check) == ("fingerprint_sha256_b32_first128bits", "key.fingerprint")


def test_key_file_stating_no_fingerprint_is_refused() -> None:
    """Without a stated fingerprint an operator never compared the key with the registry's: refused."""
    error = _refused(_registry(fingerprint_sha256_hex=..., fingerprint_sha256_b32_first128bits=...))
    assert error.check == "key.fingerprint"
    assert "no fingerprint is stated; the key's is 8d4b5ee74e4693bcd1df2446408b0d54" in str(error)


def test_base64_and_hex_that_disagree_are_refused() -> None:
    """Two encodings of two different keys in one file are refused."""
    other = SigningKey.generate().public_bytes
    error = _refused(_registry(public_key_b64=base64.b64encode(other).decode()))
    assert str(error) == (
        "keys/k.json: public_key_hex: key.encoding: public_key_b64 and public_key_hex are different keys"
    )


@pytest.mark.parametrize("missing", ["public_key_b64", "public_key_hex"])
def test_either_encoding_alone_is_enough(missing: str) -> None:
    """The registry publishes both encodings; one suffices."""
    assert (
        parse_key(_registry(**{missing: ...}), "k.json").fingerprint_hex == "8d4b5ee74e4693bcd1df2446408b0d54"
    )


@pytest.mark.parametrize(
    ("changes", "field", "check"),
    [
        ({"public_key_b64": "not base64!"}, "public_key_b64", "key.encoding"),
        ({"public_key_b64": "é" * 44}, "public_key_b64", "key.encoding"),
        ({"public_key_hex": "b2 d5" + REGISTRY_DOC["public_key_hex"][4:]}, "public_key_hex", "key.encoding"),
        (
            {"public_key_hex": REGISTRY_DOC["public_key_hex"][:62], "public_key_b64": ...},
            "public_key_hex",
            "key.length",
        ),
        ({"public_key_b64": ..., "public_key_hex": ...}, "public_key_b64", "key.field"),
        ({"algorithm": "rsa"}, "algorithm", "key.algorithm"),
        ({"key_id": " "}, "key_id", "key.field"),
        ({"key_id": 7}, "key_id", "key.field"),
        ({"rotates_at": "2026-06-01"}, "rotates_at", "key.validity"),
        ({"not_before": "yesterday"}, "not_before", "key.validity"),
        (
            {"not_before": "2026-06-01T00:00:00Z", "rotates_at": "2026-06-01T00:00:00Z"},
            "not_before",
            "key.validity",
        ),
    ],
)
def test_malformed_key_files_are_refused(changes: dict[str, object], field: str, check: str) -> None:
    """Bad encodings, wrong lengths, other algorithms, empty ids and bad windows are configuration errors."""
    error = _refused(_registry(**changes))
    assert (error.field, error.check) == (field, check)


def test_key_file_that_is_not_an_object_is_refused() -> None:
    """A list is not a key object."""
    assert _refused([REGISTRY_DOC]).check == "key.type"


def test_rotates_at_closes_the_window_unless_not_after_is_earlier() -> None:
    """rotates_at ends the validity window; an earlier not_after wins."""
    key = parse_key(_registry(rotates_at="2026-09-01T00:00:00+02:00"), "k.json")
    assert key.not_after is not None and key.not_after.isoformat() == "2026-08-31T22:00:00+00:00"
    earlier = parse_key(
        _registry(rotates_at="2026-09-01T00:00:00Z", not_after="2026-08-01T00:00:00Z"), "k.json"
    )
    assert earlier.not_after is not None and earlier.not_after.isoformat() == "2026-08-01T00:00:00+00:00"


def test_two_keys_with_one_id_are_refused() -> None:
    """A keyring cannot trust two different keys under one key id."""
    first = parse_key(REGISTRY_DOC, "keys/a.json")
    second = parse_key(SigningKey.generate("pith-v1-2026-05").key_document(), "keys/b.json")
    with pytest.raises(
        ConfigError, match=r"keys/b\.json: key_id: key\.duplicate_id: .* is also in keys/a\.json"
    ):
        Keyring.of([first, second])


def test_rotation_trusts_old_and_new_key_at_once(seed_state: dict[str, Any]) -> None:
    """With two trusted keys, a receipt picks its key by key_id and verifies with either."""
    old, new = SigningKey.generate("registry-2026-01"), SigningKey.generate("registry-2026-06")
    keyring = Keyring.of(
        [
            parse_key(old.key_document(rotates_at="2026-06-01T00:00:00Z"), "keys/old.json"),
            parse_key(new.key_document(not_before="2026-06-01T00:00:00Z"), "keys/new.json"),
        ]
    )
    by_old = resign_state(json.loads(json.dumps(seed_state)), old, signed_at="2026-05-31T23:59:59Z")
    by_new = resign_state(seed_state, new, signed_at="2026-06-01T00:00:00Z")
    assert _verdict_and_validity(by_old, keyring)[0] is Verdict.VERIFIED
    assert _verdict_and_validity(by_new, keyring)[0] is Verdict.VERIFIED


@pytest.mark.parametrize(
    ("signed_at", "verdict"),
    [
        ("2026-05-31T23:59:59.999999Z", Verdict.FAILED),
        ("2026-06-01T00:00:00Z", Verdict.VERIFIED),
        ("2026-06-01T02:00:00+02:00", Verdict.VERIFIED),
        ("2026-08-31T23:59:59Z", Verdict.VERIFIED),
        ("2026-09-01T00:00:00Z", Verdict.FAILED),
        ("2026-09-01T01:00:00+00:00", Verdict.FAILED),
        ("2026-07-01", Verdict.FAILED),
        ("9999-12-31T23:59:59-23:59", Verdict.FAILED),
    ],
)
def test_receipt_signed_outside_the_window_fails(
    seed_state: dict[str, Any], signed_at: str, verdict: Verdict
) -> None:
    """[not_before, rotates_at) is half-open; a time without a zone or out of range cannot be inside."""
    key = SigningKey.generate("windowed")
    keyring = Keyring.of(
        [
            parse_key(
                key.key_document(not_before="2026-06-01T00:00:00Z", rotates_at="2026-09-01T00:00:00Z"), "k"
            )
        ]
    )
    got, summary = _verdict_and_validity(resign_state(seed_state, key, signed_at=signed_at), keyring)
    assert got is verdict, summary
    if verdict is Verdict.FAILED:
        assert (
            "validity [2026-06-01T00:00:00Z, 2026-09-01T00:00:00Z)" in summary or "not an ISO 8601" in summary
        )


def test_window_check_is_verified_only_inside_it(seed_state: dict[str, Any]) -> None:
    """A receipt inside the window gets a verified validity check that names the window."""
    key = SigningKey.generate("windowed")
    keyring = Keyring.of([parse_key(key.key_document(not_before="2026-01-01T00:00:00Z"), "k")])
    report = verify_state(
        parse_state(
            dump_state(resign_state(seed_state, key)),
            "s",
        ),
        keyring,
        "s",
    )
    validity = next(c for c in report.checks if c.id == "receipt.key_validity")
    assert validity.status is Status.VERIFIED
    assert validity.summary == (
        "signed at 2026-07-02T01:18:28.252501Z (stated), inside key windowed's validity [2026-01-01T00:00:00Z, -)"
    )


def test_load_keyring_reads_every_key_file_sorted(tmp_path: Path) -> None:
    """A keyring directory with two key files gives both keys, sorted by key id."""
    SigningKey.generate("b-key").write_key_file(tmp_path)
    SigningKey.generate("a-key").write_key_file(tmp_path)
    assert [k.key_id for k in load_keyring(tmp_path).keys] == ["a-key", "b-key"]


def test_load_keyring_refuses_a_bad_key_file_by_name(tmp_path: Path) -> None:
    """One malformed key file stops the run with an error naming it: trust is never partial."""
    (tmp_path / "bad.json").write_text('{"key_id": "x", "key_id": "y"}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"/bad\.json: key_id: json\.duplicate_key: "):
        load_keyring(tmp_path)


def test_load_keyring_refuses_symlinked_key_files(tmp_path: Path) -> None:
    """A key file may not be a symlink to somewhere else."""
    target = SigningKey.generate("k").write_key_file(tmp_path / "elsewhere")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k.json").symlink_to(target)
    with pytest.raises(ConfigError, match=r"/k\.json: [a-z.]+: key files may not be symlinks"):
        load_keyring(tmp_path / "keys")


def test_the_registrys_published_key_object_is_a_key_file() -> None:
    """The public_key object of the registry's real mirror manifest loads as the shipped key."""
    manifest = json.loads((DATA / "pith-mirrors.json").read_text(encoding="utf-8"))
    published = parse_key(manifest["mirrors"][0]["public_key"], "pith-mirrors.json")
    shipped = parse_key(REGISTRY_DOC, "keys/pith-v1-2026-05.json")
    assert (published.key_id, published.public_key) == (shipped.key_id, shipped.public_key)

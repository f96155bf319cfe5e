"""verify_state and verify_integrity: every check on real and self-signed data, and the four verdicts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from sitegen.fs.sources import load_keyring
from sitegen.pith.canonical import canonical_sha256_hex, sha256_hex
from sitegen.pith.keys import Keyring, parse_key
from sitegen.pith.parse import Limits, parse_integrity, parse_state
from sitegen.pith.report import Check, InputReport, Status, Verdict, decide_verdict
from sitegen.pith.verify import CHECK_EXPLANATIONS, verify_integrity, verify_state, verify_state_bytes
from tests.conftest import REGISTRY_KEY_PATH, ROOT
from tests.synth import SigningKey, dump_state, resign_state
from tests.vectors.make_vectors import HERE as VECTORS

SEED_CHECKS = [
    "record.canonical_sha256",
    "record.current_matches_created",
    "pith_number.suffix",
    "pith_number.year",
    "alias.pith_short_8",
    "alias.pith_short_12",
    "alias.pith_short_16",
    "alias.arxiv",
    "alias.arxiv_version",
    "alias.doi",
    "receipt.key_fingerprint",
    "receipt.key_validity",
    "receipt.signature",
    "state.state_sha256",
    "title.canon_sha256",
    "events.ids",
    "events.applied_ids",
    "events.counts",
    "events.signatures",
    "events.id_derivation",
    "graph.snapshot_sha256",
    "record.abstract_canon_sha256",
    "state.merge_rules",
]
UNKNOWN_IN_THE_FORMAT = SEED_CHECKS[-5:]


@pytest.fixture(scope="module")
def registry() -> Keyring:
    return load_keyring(REGISTRY_KEY_PATH.parent)


def _verify(state: dict[str, Any], keyring: Keyring) -> InputReport:
    return verify_state(parse_state(dump_state(state), "in.json"), keyring, "in.json")


def _trusting(key: SigningKey) -> Keyring:
    return Keyring.of([parse_key(key.key_document(), f"keys/{key.key_id}.json")])


def _check(report: InputReport, check_id: str) -> Check:
    return next(c for c in report.checks if c.id == check_id)


def test_seed_is_verified_with_the_registry_key(seed_bytes: bytes, registry: Keyring) -> None:
    """The real seed passes every checkable check with the real registry key."""
    report, parsed = verify_state_bytes(seed_bytes, "seed.json", registry)
    assert parsed is not None
    assert report.verdict is Verdict.VERIFIED
    assert [c.id for c in report.checks] == SEED_CHECKS
    assert report.errors == ()
    assert {c.id for c in report.checks if c.status is Status.NOT_CHECKABLE} == set(UNKNOWN_IN_THE_FORMAT)
    assert (
        _check(report, "receipt.signature").summary == "signature verifies with trusted key pith-v1-2026-05"
    )


def test_seed_is_unverifiable_with_an_empty_keyring(seed_bytes: bytes) -> None:
    """Without a trusted key nothing fails, but the signature cannot be checked: unverifiable."""
    report, _ = verify_state_bytes(seed_bytes, "seed.json", Keyring())
    assert report.verdict is Verdict.UNVERIFIABLE
    assert report.failed_checks == ()
    signature = _check(report, "receipt.signature")
    assert signature.status is Status.NOT_CHECKABLE
    assert signature.summary == "key 'pith-v1-2026-05' is not in this site's keyring"


def test_what_the_format_does_not_publish_is_never_verified(seed_bytes: bytes, registry: Keyring) -> None:
    """Event signatures, event-id and snapshot derivations, the abstract hash and merge rules: not checkable."""
    report, _ = verify_state_bytes(seed_bytes, "seed.json", registry)
    for check_id in UNKNOWN_IN_THE_FORMAT:
        assert _check(report, check_id).status is Status.NOT_CHECKABLE, check_id


def test_hash_checks_report_both_sides_in_full(seed_bytes: bytes, registry: Keyring) -> None:
    """A verified hash check carries the full stated and recomputed digests for the JSON report."""
    report, _ = verify_state_bytes(seed_bytes, "seed.json", registry)
    check = _check(report, "state.state_sha256")
    assert (
        check.expected == check.observed == "eb44db014ecd83921290240c642eaf91722ebb0f1897a01a291a103796d8d4de"
    )
    assert check.to_json()["json_path"] == "state_sha256"


def test_self_signed_state_verifies_with_its_own_trusted_key(seed_state: dict[str, Any]) -> None:
    """A state signed by a fresh test key verifies when that key is trusted, and only then."""
    key = SigningKey.generate("test-registry")
    state = resign_state(seed_state, key)
    assert _verify(state, _trusting(key)).verdict is Verdict.VERIFIED
    assert _verify(state, _trusting(SigningKey.generate("other"))).verdict is Verdict.UNVERIFIABLE


def test_signature_is_checked_over_the_recomputed_digest_not_the_stated_one(
    seed_state: dict[str, Any],
) -> None:
    """Restating the old digest beside a changed record cannot make the old signature fit it."""
    key = SigningKey.generate("k")
    state = resign_state(seed_state, key)
    for record in (
        state["current"]["canonical_record"],
        state["current"]["record_created"]["payload"]["canonical_record"],
    ):
        record["metadata"]["license"] = ""
    report = _verify(state, _trusting(key))
    assert _check(report, "receipt.signature").status is Status.FAILED
    assert _check(report, "record.canonical_sha256").status is Status.FAILED


def test_checks_derive_from_the_signed_record_not_the_current_one(
    seed_state: dict[str, Any], registry: Keyring
) -> None:
    """With current.canonical_record's year, id and title hash changed, the Pith number, aliases and
    title still check against the signed record, and only the current-vs-signed check fails."""
    current = seed_state["current"]["canonical_record"]
    current["metadata"]["submitted_at"] = "2025-01-01T00:00:00Z"
    current["metadata"]["title_canon_sha256"] = sha256_hex(b"another title")
    current["source"]["id"] = "2501.00001"
    seed_state["state_sha256"] = sha256_hex(b"")
    report = _verify(seed_state, registry)
    assert {c.id for c in report.failed_checks} == {"record.current_matches_created", "state.state_sha256"}
    assert (
        _check(report, "record.current_matches_created").json_path
        == "current.canonical_record.metadata.submitted_at"
    )


def test_state_without_graph_snapshot_has_no_title_to_check(seed_state: dict[str, Any]) -> None:
    """No snapshot, no title: the title check is not checkable and the verdict can still be verified."""
    key = SigningKey.generate("k")
    seed_state["current"]["graph_snapshots"] = []
    seed_state["applied_event_ids"] = seed_state["applied_event_ids"][:1]
    seed_state["event_count"] = seed_state["valid_event_count"] = 1
    report = _verify(resign_state(seed_state, key), _trusting(key))
    assert _check(report, "title.canon_sha256").status is Status.NOT_CHECKABLE
    assert report.verdict is Verdict.VERIFIED


def test_missing_alias_is_not_checkable_not_failed(seed_state: dict[str, Any], registry: Keyring) -> None:
    """A state without a doi alias does not fail: there is nothing stated to compare."""
    aliases = seed_state["current"]["source_aliases"]
    seed_state["current"]["source_aliases"] = [a for a in aliases if a["alias_kind"] != "doi"]
    seed_state["state_sha256"] = canonical_sha256_hex(
        {k: v for k, v in seed_state.items() if k != "state_sha256"}
    )
    report = _verify(seed_state, registry)
    assert _check(report, "alias.doi").status is Status.NOT_CHECKABLE
    assert report.verdict is Verdict.VERIFIED


def test_title_with_unusual_whitespace_fails_with_both_values(seed_state: dict[str, Any]) -> None:
    """Whitespace folding is not established: a title that differs only in spacing fails, showing both hashes."""
    key = SigningKey.generate("k")
    state = resign_state(seed_state, key)
    title = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["paper"]
    title["title"] = title["title"].replace(" ", "  ", 1)
    check = _check(_verify(resign_state(state, key), _trusting(key)), "title.canon_sha256")
    assert check.status is Status.FAILED
    assert check.expected == "7bec57620db6c4e71ff39a1b7d597965b98a6e7611740ceb43f52e0f42f9f606"
    assert check.observed == sha256_hex(title["title"].lower().encode())


def test_untrusted_text_in_a_message_cannot_forge_a_line(
    seed_state: dict[str, Any], registry: Keyring
) -> None:
    """An alias value with a newline and an escape sequence is escaped in the message, which stays one line."""
    alias = next(a for a in seed_state["current"]["source_aliases"] if a["alias_kind"] == "arxiv")
    alias["alias_value"] = "x\nverified     forged.json\x1b[2J\u202e"
    report = _verify(seed_state, registry)
    message = next(m for m in report.errors if "alias.arxiv:" in m)
    assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
    assert message.endswith(
        "expected x\\nverified     forged.json\\x1b[2J\\u202e (stated), got 2607.01083 (derived)"
    )


@pytest.mark.parametrize(
    ("edit", "check_id"),
    [
        (
            lambda s: s["current"]["record_created"]["payload"]["receipt"].update(signature_b64="é" * 88),
            "receipt.signature",
        ),
        (
            lambda s: [
                r["metadata"].update(submitted_at="²026-07-01T15:40:12Z")
                for r in (
                    s["current"]["canonical_record"],
                    s["current"]["record_created"]["payload"]["canonical_record"],
                )
            ],
            "pith_number.year",
        ),
        (lambda s: s.update(pith_number="pith:2026:" + "３" * 26), "pith_number.suffix"),
    ],
    ids=["non_ascii_signature", "superscript_year", "fullwidth_suffix"],
)
def test_inputs_that_used_to_crash_the_verifier_now_fail(
    seed_state: dict[str, Any], registry: Keyring, edit: Any, check_id: str
) -> None:
    """Values that raised from base64 or int() are now failed checks, never exceptions."""
    edit(seed_state)
    report = _verify(seed_state, registry)
    assert report.verdict is Verdict.FAILED
    assert _check(report, check_id).status is Status.FAILED


def test_one_event_id_problem_is_reported_once(seed_state: dict[str, Any], registry: Keyring) -> None:
    """A duplicate applied id fails events.ids only; the events themselves are still found as applied."""
    ids = seed_state["applied_event_ids"]
    seed_state["applied_event_ids"] = [ids[0], ids[0], ids[1]]
    seed_state["valid_event_count"] = seed_state["event_count"] = 3
    report = _verify(seed_state, registry)
    assert [c.id for c in report.failed_checks] == ["state.state_sha256", "events.ids"]
    assert _check(report, "events.ids").json_path == "applied_event_ids[1]"


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        ([Status.VERIFIED, Status.VERIFIED], Verdict.VERIFIED),
        ([Status.NOT_CHECKABLE, Status.VERIFIED], Verdict.VERIFIED),
        ([Status.VERIFIED, Status.NOT_CHECKABLE], Verdict.UNVERIFIABLE),
        ([Status.FAILED, Status.VERIFIED], Verdict.FAILED),
        ([Status.VERIFIED, Status.FAILED], Verdict.FAILED),
        ([Status.FAILED, Status.NOT_CHECKABLE], Verdict.FAILED),
    ],
)
def test_verdict_needs_the_signature_and_no_failure(statuses: list[Status], verdict: Verdict) -> None:
    """verified = nothing failed and the signature ("sig", second) verified; any failure wins; else unverifiable."""
    checks = [
        Check(id="other", status=statuses[0], summary=""),
        Check(id="sig", status=statuses[1], summary=""),
    ]
    assert decide_verdict(checks, "sig") is verdict


def test_integrity_events_by_trusted_and_untrusted_keys(registry: Keyring) -> None:
    """One registry-signed event and one by an untrusted key: nothing failed, but not all signed: unverifiable."""
    document = json.loads((VECTORS / "registry_signed_event.integrity.json").read_bytes())
    stranger = SigningKey.generate("stranger")
    extra = copy.deepcopy(document["events"][0])
    extra.update(
        event_id=1,
        signing_key_id="stranger",
        signature_b64=stranger.sign_b64(bytes(32)),
        payload_sha256="00" * 32,
    )
    document["events"].append(extra)
    report = verify_integrity(parse_integrity(json.dumps(document).encode(), "i.json"), registry, "i.json")
    assert report.verdict is Verdict.UNVERIFIABLE
    assert [(c.id, c.status) for c in report.checks[:3]] == [
        ("integrity.signatures", Status.NOT_CHECKABLE),
        ("integrity.event_signature", Status.VERIFIED),
        ("integrity.event_signature", Status.NOT_CHECKABLE),
    ]
    assert report.checks[0].summary == "1 of 2 events are signed by keys this site does not trust"


def test_integrity_payload_digest_is_verified_only_when_it_recomputes() -> None:
    """Where payload_sha256 is the canonical hash of the payload, the link is verified; elsewhere unknown."""
    key = SigningKey.generate("k")
    payload = {"detector": "doi_compliance", "severity": "advisory"}
    digest = canonical_sha256_hex(payload)
    document = json.loads((VECTORS / "registry_signed_event.integrity.json").read_bytes())
    document["events"][0].update(
        payload=payload,
        payload_sha256=digest,
        signing_key_id="k",
        signature_b64=key.sign_b64(bytes.fromhex(digest)),
    )
    parsed = parse_integrity(json.dumps(document).encode(), "i.json")
    report = verify_integrity(parsed, _trusting(key), "i.json")
    assert report.verdict is Verdict.VERIFIED
    assert report.checks[-1].id == "integrity.payload_sha256"
    assert report.checks[-1].status is Status.VERIFIED
    document["events"][0]["payload"]["severity"] = "critical"
    report = verify_integrity(
        parse_integrity(json.dumps(document).encode(), "i.json"), _trusting(key), "i.json"
    )
    assert report.checks[-1].status is Status.NOT_CHECKABLE
    assert report.verdict is Verdict.UNVERIFIABLE  # signed digests bind nothing while the link is unknown


def test_a_real_signed_event_never_makes_an_integrity_file_verified(registry: Keyring) -> None:
    """The registry's real signature over a stated digest verifies, but the digest is not linked to
    anything in the file: the file is unverifiable, and the signature check says what it proves."""
    document = json.loads((VECTORS / "registry_signed_event.integrity.json").read_bytes())
    report = verify_integrity(parse_integrity(json.dumps(document).encode(), "i.json"), registry, "i.json")
    assert report.checks[0].id == "integrity.signatures"
    assert report.checks[0].status is Status.VERIFIED
    assert report.verdict is Verdict.UNVERIFIABLE
    assert {c.id: c.status for c in report.checks}["integrity.payload_sha256"] is Status.NOT_CHECKABLE


def test_an_event_copied_from_another_papers_file_fails_the_subject_check(registry: Keyring) -> None:
    """A real registry-signed event whose payload names another paper, in a file about this one: failed."""
    document = json.loads((VECTORS / "registry_signed_event.integrity.json").read_bytes())
    document["events"][0]["payload"] = {"arxiv_id": "2605.06340", "severity": "critical"}
    report = verify_integrity(parse_integrity(json.dumps(document).encode(), "i.json"), registry, "i.json")
    subject = {c.id: c for c in report.checks}["integrity.event_subject"]
    assert subject.status is Status.FAILED
    assert subject.expected == document["arxiv_id"] and subject.observed == "2605.06340"
    assert report.verdict is Verdict.FAILED
    assert any("integrity.event_subject" in e and "2605.06340" in e for e in report.errors)


def test_report_json_names_verdict_checks_and_errors(seed_bytes: bytes) -> None:
    """The machine-readable entry carries the verdict word, every check and the messages."""
    report, _ = verify_state_bytes(seed_bytes, "seed.json", Keyring())
    document = report.to_json()
    assert document["status"] == "unverifiable"
    assert document["pith_number"] == "pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7"
    assert [c["id"] for c in document["checks"]] == SEED_CHECKS  # type: ignore[union-attr]


def test_nesting_near_the_interpreters_limit_is_rejected_never_raised(
    seed_bytes: bytes, registry: Keyring
) -> None:
    """With the depth limit raised far above Python's recursion limit, nesting that parses but is too deep
    to hash is rejected (json.depth), never an uncaught RecursionError."""
    verdicts = set()
    for depth in range(900, 1100, 4):
        data = seed_bytes[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}"
        report, _ = verify_state_bytes(data, "deep.json", registry, Limits(max_depth=100_000))
        verdicts.add(report.verdict)
        if report.verdict is Verdict.REJECTED:
            assert report.errors[0].startswith("deep.json: json.depth: nesting is too deep to ")
    assert verdicts <= {Verdict.FAILED, Verdict.REJECTED}
    assert Verdict.REJECTED in verdicts


def test_the_reviewers_guide_names_every_check() -> None:
    """docs/verification.md classifies every check id the verifier can report."""
    guide = (ROOT / "docs" / "verification.md").read_text(encoding="utf-8")
    assert sorted(c for c in CHECK_EXPLANATIONS if f"`{c}`" not in guide) == []


def test_snapshot_fields_other_than_the_title_are_not_bound_by_the_signature(
    seed_state: dict[str, Any], registry: Keyring
) -> None:
    """A limit the guide states: edited authors with a recomputed state hash still verify (they are stated)."""
    seed_state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["paper"]["authors_text"] = (
        "Someone Else"
    )
    seed_state["state_sha256"] = canonical_sha256_hex(
        {k: v for k, v in seed_state.items() if k != "state_sha256"}
    )
    assert _verify(seed_state, registry).verdict is Verdict.VERIFIED

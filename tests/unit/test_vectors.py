"""The committed test vectors: reproducible, and each gets exactly the verdict, checks and message of its line."""

from __future__ import annotations

import re

import pytest

from sitegen.keys import Keyring
from sitegen.report import InputReport, Status
from sitegen.sources import load_keyring
from sitegen.verify import (
    CHECK_EXPLANATIONS,
    INTEGRITY_SIGNATURE_CHECK,
    SIGNATURE_CHECK,
    check_message,
    verify_integrity_bytes,
    verify_state_bytes,
)
from tests.vectors.make_vectors import HERE, VECTOR_LIMITS, VECTORS, Vector, build_vectors, generated_paths


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
    wanted = (SIGNATURE_CHECK, INTEGRITY_SIGNATURE_CHECK)
    return next(check_message(report.input, c) for c in report.checks if c.id in wanted)


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

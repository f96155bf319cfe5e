"""Check results, verdicts and their plain-JSON form (layer 1).

A report is data, not a boolean: it has no ``__bool__``, so callers must write
``report.verdict is Verdict.VERIFIED`` and cannot mistake "has a report" for "passed".
"""

from __future__ import annotations

import enum
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "REPORT_SCHEMA",
    "SITE_REPORT_SCHEMA",
    "Check",
    "InputReport",
    "InputReports",
    "Status",
    "Verdict",
    "VerifiedReports",
    "decide_verdict",
    "printable",
    "report_document",
    "report_from_json",
]

REPORT_SCHEMA = "pith-sitegen/verification-report/v1"
"""The full report: one entry per input (``verify --json``, ``build --json``)."""
SITE_REPORT_SCHEMA = "pith-sitegen/verification-report/v2"
"""The site's ``/verification-report.json``: counts per verdict and entries only for inputs that
are not verified, so its size follows what needs attention, not the corpus."""


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x1b``, ``\\u202e``).

    Messages quote values from untrusted files; escaped, such a value cannot add a
    line to a terminal or log, move the cursor, or reorder text with bidi controls.

    >>> printable("ok\\nverified  forged.json\\x1b[2J")
    'ok\\\\nverified  forged.json\\\\x1b[2J'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class Status(enum.Enum):
    """Outcome of one check."""

    VERIFIED = "verified"
    FAILED = "failed"
    NOT_CHECKABLE = "not_checkable"

    @property
    def words(self) -> str:
        return self.value.replace("_", " ")


class Verdict(enum.Enum):
    """Outcome for one input file; the site and every report use exactly these four words."""

    VERIFIED = "verified"
    FAILED = "failed"
    UNVERIFIABLE = "unverifiable"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    status: Status
    summary: str
    """One line for people: why this status."""
    json_path: str = ""
    expected: str | None = None
    observed: str | None = None

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "id": self.id,
            "status": self.status.value,
            "summary": self.summary,
            "json_path": self.json_path,
        }
        if self.expected is not None:
            doc["expected"] = self.expected
        if self.observed is not None:
            doc["observed"] = self.observed
        return doc


def alias_status(kind: str, checks: Mapping[str, str], verdict: Verdict) -> Status:
    """What a paper's alias of ``kind`` may be called, from its ``alias.<kind>`` check and the verdict.

    ``verified`` only when the alias derives from the record (its check verified) and the record
    is verified; an alias that derives from a record that is not verified, or of a kind with no
    rule, is ``not_checkable``; a failed derivation stays ``failed``.
    """
    status = checks.get(f"alias.{kind}")
    if status == Status.FAILED.value:
        return Status.FAILED
    if status == Status.VERIFIED.value and verdict is Verdict.VERIFIED:
        return Status.VERIFIED
    return Status.NOT_CHECKABLE


def decide_verdict(checks: Iterable[Check], signature_check_id: str) -> Verdict:
    """``failed`` if any check failed; ``verified`` only if the signature check verified too.

    Everything else (nothing failed, but the signature could not be checked, e.g. an
    untrusted key) is ``unverifiable``.
    """
    signature_verified = False
    for check in checks:
        if check.status is Status.FAILED:
            return Verdict.FAILED
        if check.id == signature_check_id and check.status is Status.VERIFIED:
            signature_verified = True
    return Verdict.VERIFIED if signature_verified else Verdict.UNVERIFIABLE


VERDICT_CHECKS = frozenset({"receipt.signature", "integrity.signatures", "integrity.payload_sha256"})
"""The checks that decide whether an input that failed nothing is ``verified``: a state's receipt
signature; an integrity file's signatures and the link from their digests to the payloads."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InputReport:
    """The verification result of one input file."""

    input: str
    """Path relative to the content directory, ``/``-separated."""
    kind: str
    """``state`` or ``integrity``."""
    verdict: Verdict
    checks: tuple[Check, ...] = ()
    errors: tuple[str, ...] = ()
    pith_number: str | None = None
    source_id: str | None = None

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status is Status.FAILED)

    @property
    def reasons(self) -> tuple[Check, ...]:
        """The checks that explain why the input is not verified: the failed ones, else those
        that decide a verdict (``VERDICT_CHECKS``) and were not verified, else the first check not verified. Empty when verified."""
        if self.verdict is Verdict.VERIFIED:
            return ()
        if failed := self.failed_checks:
            return failed
        unverified = tuple(c for c in self.checks if c.status is not Status.VERIFIED)
        deciding = tuple(c for c in unverified if c.id in VERDICT_CHECKS)
        return deciding or unverified[:1]

    def to_json(self) -> dict[str, object]:
        """The report entry: plain JSON (only ``str``, ``None``, lists and dicts; see
        ``render.is_plain_json``), so the writers need not walk it to know."""
        return {
            "input": self.input,
            "kind": self.kind,
            "status": self.verdict.value,
            "pith_number": self.pith_number,
            "source_id": self.source_id,
            "checks": [c.to_json() for c in self.checks],
            "errors": list(self.errors),
        }


def report_from_json(doc: Mapping[str, Any]) -> InputReport:
    """The inverse of ``InputReport.to_json`` (for reports a sharded build logged; see ``shardlog.py``).

    Raises:
        KeyError, TypeError, ValueError: ``doc`` is not a report ``to_json`` wrote.
    """
    checks = tuple(
        Check(
            id=c["id"],
            status=Status(c["status"]),
            summary=c["summary"],
            json_path=c["json_path"],
            expected=c.get("expected"),
            observed=c.get("observed"),
        )
        for c in doc["checks"]
    )
    return InputReport(
        input=doc["input"],
        kind=doc["kind"],
        verdict=Verdict(doc["status"]),
        checks=checks,
        errors=tuple(doc["errors"]),
        pith_number=doc["pith_number"],
        source_id=doc["source_id"],
    )


@dataclass(frozen=True, slots=True)
class VerifiedReports:
    """The reports of verified state files, kept as three columns and made when read: a large
    mirror's rebuild reuses most of its papers, and needs each one's report only to list it."""

    inputs: Sequence[str]
    pith_numbers: Sequence[str | None]
    source_ids: Sequence[str | None]

    def __len__(self) -> int:
        return len(self.inputs)

    def __iter__(self) -> Iterator[InputReport]:
        verified = Verdict.VERIFIED
        for name, pith_number, source_id in zip(self.inputs, self.pith_numbers, self.source_ids, strict=True):
            yield InputReport(
                input=name, kind="state", verdict=verified, pith_number=pith_number, source_id=source_id
            )


class InputReports:
    """Every input's report, in the order they were added: reports one by one (``append``,
    ``extend``) and runs of verified ones made only when read (``add_verified``).

    Counting and picking the inputs that are not verified never makes a verified run's reports.
    """

    def __init__(self, reports: Iterable[InputReport] = ()) -> None:
        self._parts: list[list[InputReport] | VerifiedReports] = [list(reports)]
        self._verified_runs = 0
        """The reports in the ``VerifiedReports`` parts."""

    def append(self, report: InputReport) -> None:
        self._tail().append(report)

    def extend(self, reports: Iterable[InputReport]) -> None:
        self._tail().extend(reports)

    def add_verified(self, run: VerifiedReports) -> None:
        self._parts.append(run)
        self._verified_runs += len(run)

    def _tail(self) -> list[InputReport]:
        tail = self._parts[-1]
        if isinstance(tail, VerifiedReports):
            tail = []
            self._parts.append(tail)
        return tail

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)

    def __iter__(self) -> Iterator[InputReport]:
        for part in self._parts:
            yield from part

    def counts(self) -> dict[str, int]:
        """The inputs per verdict (every verdict, 0 for none)."""
        tally: Counter[str] = Counter()
        for part in self._parts:
            if isinstance(part, list):
                tally.update(map(_VERDICT_VALUE, part))  # by value: a str hashes in C, an Enum in Python
        tally[Verdict.VERIFIED.value] += self._verified_runs
        return {v.value: tally[v.value] for v in Verdict}

    def not_verified(self) -> list[InputReport]:
        """The reports of the inputs that are not verified, in the order added."""
        verified = Verdict.VERIFIED
        return [
            report
            for part in self._parts
            if isinstance(part, list)
            for report in part
            if report.verdict is not verified
        ]


_VERDICT_VALUE = operator.attrgetter("verdict.value")


def report_document(reports: Iterable[InputReport], warnings: Iterable[str] = ()) -> dict[str, object]:
    """The machine-readable report: schema, counts per verdict, one entry per input."""
    entries = sorted(reports, key=lambda r: r.input)
    counts = {v.value: 0 for v in Verdict}
    for entry in entries:
        counts[entry.verdict.value] += 1
    return {
        "schema": REPORT_SCHEMA,
        "counts": counts,
        "total": len(entries),
        "inputs": [e.to_json() for e in entries],
        "warnings": sorted(warnings),
    }

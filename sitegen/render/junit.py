"""A build's report as JUnit XML, so CI systems list each input that did not verify (layer 3).

One ``testcase`` per input (``classname`` is the input kind, ``name`` the input path).
An input that is not ``verified`` is a ``failure`` whose ``type`` is its verdict,
whose message lists the failed (or, when none failed, the not-checkable) check ids,
and whose text holds every check message. Build errors (inputs that are not papers
and could not be used, such as a page with bad front matter) make one failing
``errors`` test case. Warnings go to the suite's ``system-out``; with ``strict``
they also make one failing ``warnings`` test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

from sitegen.pith.report import InputReport, Status, Verdict
from sitegen.render.xmlbytes import xml_bytes, xml_safe

__all__ = ["junit_xml"]


def _failure_message(report: InputReport) -> str:
    failed = [c.id for c in report.checks if c.status is Status.FAILED]
    if failed:
        return f"{report.verdict.value}: " + ", ".join(failed)
    unknown = [c.id for c in report.checks if c.status is Status.NOT_CHECKABLE]
    return (
        f"{report.verdict.value}: not checkable: " + ", ".join(unknown) if unknown else report.verdict.value
    )


def _failure_text(report: InputReport) -> str:
    lines = list(report.errors)
    for check in report.checks:
        if check.status is Status.VERIFIED:
            continue
        line = f"{check.id} ({check.status.value}) at {check.json_path or '(top level)'}: {check.summary}"
        if check.expected is not None or check.observed is not None:
            line += f" [expected {check.expected}, got {check.observed}]"
        lines.append(line)
    return "\n".join(lines)


def junit_xml(
    reports: Iterable[InputReport],
    warnings: Sequence[str],
    errors: Sequence[str] = (),
    *,
    strict: bool,
    seconds: float,
) -> bytes:
    """The JUnit XML document of a build."""
    ordered = sorted(reports, key=lambda r: (r.kind, r.input))
    failures = sum(1 for r in ordered if r.verdict is not Verdict.VERIFIED) + bool(errors)
    strict_failure = strict and bool(warnings)
    suites = ET.Element("testsuites", name="pith-sitegen")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="pith-sitegen build",
        tests=str(len(ordered) + bool(errors) + strict_failure),
        failures=str(failures + strict_failure),
        errors="0",
        skipped="0",
        time=f"{seconds:.3f}",
    )
    for report in ordered:
        case = ET.SubElement(suite, "testcase", classname=report.kind, name=xml_safe(report.input), time="0")
        if report.verdict is not Verdict.VERIFIED:
            failure = ET.SubElement(
                case, "failure", type=report.verdict.value, message=xml_safe(_failure_message(report))
            )
            failure.text = xml_safe(_failure_text(report))
    if errors:
        case = ET.SubElement(suite, "testcase", classname="build", name="errors", time="0")
        failure = ET.SubElement(
            case, "failure", type="error", message=f"{len(errors)} inputs could not be used"
        )
        failure.text = xml_safe("\n".join(sorted(errors)))
    if strict_failure:
        case = ET.SubElement(suite, "testcase", classname="build", name="warnings", time="0")
        failure = ET.SubElement(
            case, "failure", type="warning", message=f"{len(warnings)} warnings (--strict)"
        )
        failure.text = xml_safe("\n".join(sorted(warnings)))
    ET.SubElement(suite, "system-out").text = xml_safe("\n".join(sorted(warnings)))
    return xml_bytes(suites)

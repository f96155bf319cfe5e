"""What `python -m sitegen build` tells an operator: summary, progress, --json, --junit, --strict, --quiet."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from tests.cli.helpers import run_cli, run_on_terminal, summary_line
from tests.synth import SigningKey


def _mixed_content(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_bytes: bytes,
) -> Path:
    tampered = json.loads(new_paper(signing_key, "2607.10003", "To be tampered with"))
    tampered["current"]["canonical_record"]["metadata"]["license"] = "tampered"
    untrusted = SigningKey.generate("untrusted-2026")
    return make_content(
        {
            "seed.state.json": seed_bytes,
            'a&b<c>"x.state.json': json.dumps(tampered).encode(),
            "broken.state.json": b'{"state_type": ',
            "untrusted.state.json": new_paper(untrusted, "2607.10009", "Signed by a stranger"),
        },
        keys=[signing_key],
        site_yaml="title: Test mirror\nbase_url: https://mirror.example/\n",
    )


def test_summary_json_and_junit_report_every_verdict(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_bytes: bytes,
    tmp_path: Path,
) -> None:
    """One input per verdict: exit 1, a summary with counts, pages and time, the report on stdout, JUnit XML."""
    content = _mixed_content(make_content, new_paper, signing_key, seed_bytes)
    junit = tmp_path / "junit.xml"
    proc = run_cli("build", "--content", content, "--out", tmp_path / "site", "--json", "--junit", junit)
    assert proc.returncode == 1, proc.stderr
    summary = summary_line(proc.stderr)
    assert summary.startswith(
        "summary: 1 verified, 1 failed, 1 unverifiable, 1 rejected; 0 errors, 0 warnings; "
    )
    assert "3 paper pages; 4 inputs rendered, 0 reused;" in summary
    assert re.search(r" files written to .*site in \d+\.\d s$", summary)
    full = json.loads(proc.stdout)  # every input, with all its checks
    site = json.loads((tmp_path / "site" / "verification-report.json").read_bytes())
    assert full["schema"] == "pith-sitegen/verification-report/v1" and len(full["inputs"]) == 4
    assert site["schema"] == "pith-sitegen/verification-report/v2"
    assert site["counts"] == full["counts"] and site["warnings"] == full["warnings"]
    assert site["not_verified"] == [e for e in full["inputs"] if e["status"] != "verified"]

    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("4", "3")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {
        "states/seed.state.json",
        'states/a&b<c>"x.state.json',
        "states/broken.state.json",
        "states/untrusted.state.json",
    }
    assert cases["states/seed.state.json"].find("failure") is None
    failed = cases['states/a&b<c>"x.state.json'].find("failure")
    assert failed is not None
    assert failed.get("type") == "failed"
    assert failed.get("message") == "failed: record.current_matches_created, state.state_sha256"
    assert "expected" in (failed.text or "")
    rejected = cases["states/broken.state.json"].find("failure")
    assert rejected is not None and rejected.get("type") == "rejected"
    unverifiable = cases["states/untrusted.state.json"].find("failure")
    assert unverifiable is not None
    assert (unverifiable.get("message") or "").startswith("unverifiable: not checkable: receipt.")


def test_strict_fails_on_warnings(
    make_content: Callable[..., Path], seed_bytes: bytes, tmp_path: Path
) -> None:
    """A base_url without a host is a warning: exit 0 normally, 1 with --strict (and a JUnit failure)."""
    content = make_content({"seed.state.json": seed_bytes})
    plain = run_cli("build", "--content", content, "--out", tmp_path / "site")
    assert plain.returncode == 0, plain.stderr
    assert "warning: site.yaml: base_url: site.absolute_url: '/mirror/' names no host" in plain.stderr
    assert "; 0 errors, 1 warnings;" in summary_line(plain.stderr)
    junit = tmp_path / "junit.xml"
    strict = run_cli("build", "--content", content, "--out", tmp_path / "site", "--strict", "--junit", junit)
    assert strict.returncode == 1
    case = ET.parse(junit).getroot().find("testsuite/testcase[@name='warnings']")
    assert case is not None and case.find("failure") is not None


def test_quiet_prints_only_the_summary_and_progress_needs_a_terminal(
    make_content: Callable[..., Path], seed_bytes: bytes, tmp_path: Path
) -> None:
    """--quiet leaves only the summary line; the progress line appears on a terminal (outside CI), never in a pipe."""
    content = make_content({"seed.state.json": seed_bytes, "broken.state.json": b"{"})
    quiet = run_cli("build", "--content", content, "--out", tmp_path / "site", "--quiet")
    assert quiet.returncode == 1
    assert quiet.stderr.splitlines() == [summary_line(quiet.stderr)]
    assert "verifying and rendering" not in quiet.stderr

    returncode, shown = run_on_terminal("build", "--content", content, "--out", tmp_path / "site2")
    assert returncode == 1
    assert "\rverifying and rendering 2/2 state files; writing the site-wide files" in shown
    assert "summary: 1 verified" in shown

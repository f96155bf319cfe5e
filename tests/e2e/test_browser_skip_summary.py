"""Without Chromium, the browser tests are skipped in plain sight: the run ends by counting them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BROWSER_TESTS = [
    "tests/e2e/test_serve_reload.py::test_open_page_reloads_after_a_content_change",
    "tests/e2e/test_build_http.py::test_pages_load_in_chromium_without_errors_or_blocked_requests",
]


def test_missing_chromium_is_named_with_the_count_and_the_fix(tmp_path: Path) -> None:
    """Two browser tests, run as ``make test`` runs them, with Chromium pointed at a missing file:
    exit 0, and the line above pytest's count says how many did not run and how to get them."""
    missing = tmp_path / "no-chromium-here"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'run'}",
         "-n", "2", *BROWSER_TESTS],
        cwd=ROOT,
        env={**os.environ, "SITEGEN_TEST_CHROMIUM": str(missing)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    said = (
        f"2 browser tests did not run: {missing} is missing; "
        "install it with `apt-get install -y chromium` (.ci/run does)"
    )
    assert lines[-2] == said, proc.stdout
    assert lines[-1].startswith("2 skipped"), proc.stdout

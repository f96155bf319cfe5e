"""The shipped command works on the real seed."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT, SEED_PATH


def test_verify_real_seed_prints_verified_and_exits_0() -> None:
    """`python -m sitegen verify` on the real seed says verified and exits 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen", "verify", str(SEED_PATH)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("verified")
    assert "1 verified, 0 failed, 0 unverifiable, 0 rejected" in proc.stdout

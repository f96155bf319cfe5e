"""`python -m sitegen verify` as users run it: lines, summary, --json, and exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEED_PATH
from tests.vectors.make_vectors import HERE as VECTORS
from tests.vectors.make_vectors import VECTORS as VECTOR_TABLE

SHARED_SEED = ROOT.parent / "shared" / "seed" / "2607.01083.state.json"


def _verify(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=60,
    )


def test_seed_prints_verified_and_exits_0() -> None:
    """The real seed with the shipped keyring: one `verified` line, a summary, exit 0."""
    proc = _verify(SEED_PATH)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"verified     {SEED_PATH}  pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7",
        "summary: 1 verified, 0 failed, 0 unverifiable, 0 rejected",
    ]
    assert proc.stderr == ""


@pytest.mark.skipif(not SHARED_SEED.is_file(), reason="the shared seed ../shared/seed is not on this machine")
def test_the_issues_command_on_the_shared_seed() -> None:
    """`python -m sitegen verify ../shared/seed/2607.01083.state.json` prints verified and exits 0."""
    proc = _verify("../shared/seed/2607.01083.state.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("verified ")


def test_empty_keyring_gives_unverifiable_and_exit_1(tmp_path: Path) -> None:
    """With --keys naming an empty directory the seed is unverifiable, says why, and exits 1."""
    proc = _verify("--keys", tmp_path, SEED_PATH)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f"unverifiable {SEED_PATH}  pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7",
        f"    {SEED_PATH}: current.record_created.payload.receipt.signature_b64: receipt.signature: "
        "key 'pith-v1-2026-05' is not in this site's keyring",
        "summary: 0 verified, 0 failed, 1 unverifiable, 0 rejected",
    ]


def test_a_bad_file_exits_1_with_its_message_and_does_not_stop_the_others() -> None:
    """A tampered file among good ones: every file gets its line, the bad one its message, exit 1."""
    tampered = VECTORS / "rehashed_not_resigned.state.json"
    proc = _verify(tampered, SEED_PATH)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == f"failed       {tampered}  pith:2026:67FLGYPDMTXMBGRYCWZ5WRWYDW  [receipt.signature]"
    assert lines[1] == (
        f"    {tampered}: current.record_created.payload.receipt.signature_b64: receipt.signature: "
        "signature does not verify with trusted key pith-v1-2026-05"
    )
    assert lines[2].startswith("verified ")
    assert lines[3] == "summary: 1 verified, 1 failed, 0 unverifiable, 0 rejected"


def test_unreadable_input_is_rejected_not_fatal(tmp_path: Path) -> None:
    """A missing file and a directory are rejected with input.read; the run goes on and exits 1."""
    proc = _verify(tmp_path / "missing.json", tmp_path, SEED_PATH)
    assert proc.returncode == 1
    assert f"    {tmp_path / 'missing.json'}: input.read: no such file" in proc.stdout
    assert f"    {tmp_path}: input.read: not a regular file" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "summary: 1 verified, 0 failed, 0 unverifiable, 2 rejected"


def test_json_report_on_stdout_and_lines_on_stderr() -> None:
    """--json puts the machine-readable report on stdout and keeps the human lines on stderr."""
    proc = _verify("--json", SEED_PATH, VECTORS / "empty.state.json")
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    assert document["schema"] == "pith-sitegen/verification-report/v1"
    assert document["counts"] == {"verified": 1, "failed": 0, "unverifiable": 0, "rejected": 1}
    by_input = {entry["input"]: entry for entry in document["inputs"]}
    assert by_input[str(SEED_PATH)]["status"] == "verified"
    rejected = by_input[str(VECTORS / "empty.state.json")]
    assert rejected["errors"] == [f"{VECTORS / 'empty.state.json'}: json.syntax: file is empty"]
    assert proc.stderr.splitlines()[-1] == "summary: 1 verified, 0 failed, 0 unverifiable, 1 rejected"


def test_every_vector_at_once_gets_the_verdicts_of_its_table() -> None:
    """All vectors in one run with their keyring and limits: the summary counts the table's verdicts."""
    files = sorted(VECTORS.glob("*.json"))
    proc = _verify("--keys", VECTORS / "keys", "--max-bytes", "65536", "--json", *files)
    assert proc.returncode == 1
    expected = Counter(v.verdict for v in VECTOR_TABLE)
    assert json.loads(proc.stdout)["counts"] == {
        v: expected[v] for v in ("verified", "failed", "unverifiable", "rejected")
    }


def test_integrity_file_is_checked_by_its_name_and_never_called_verified() -> None:
    """A file named *.integrity.json is checked as a registry integrity file: its real signature
    verifies, but binds nothing in the file, so it is unverifiable and the line says why (exit 1)."""
    proc = _verify(VECTORS / "registry_signed_event.integrity.json")
    assert proc.returncode == 1, proc.stdout
    assert proc.stdout.startswith("unverifiable ")
    assert (
        "integrity.payload_sha256: how payload_sha256 is derived from the payload is not published"
        in proc.stdout
    )


def test_missing_keyring_directory_exits_2(tmp_path: Path) -> None:
    """A --keys directory that does not exist cannot silently mean 'trust nothing': exit 2."""
    proc = _verify("--keys", tmp_path / "nope", SEED_PATH)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert (
        proc.stderr
        == f"error: {tmp_path / 'nope'}: keys.read: keyring directory does not exist (name one with --keys DIR)\n"
    )


def test_unreadable_key_file_exits_2(tmp_path: Path) -> None:
    """A key file that cannot be read stops the run before any file is judged: exit 2."""
    (tmp_path / "broken.json").mkdir()
    proc = _verify("--keys", tmp_path, SEED_PATH)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {tmp_path}/broken.json: keys.read: ")


def test_key_file_with_a_wrong_fingerprint_exits_2(tmp_path: Path) -> None:
    """A key file whose fingerprint does not match its key is refused and nothing is verified."""
    document = json.loads((ROOT / "content" / "keys" / "pith-v1-2026-05.json").read_text(encoding="utf-8"))
    document["fingerprint_sha256_hex"] = "0" * 32
    (tmp_path / "k.json").write_text(json.dumps(document), encoding="utf-8")
    proc = _verify("--keys", tmp_path, SEED_PATH)
    assert proc.returncode == 2
    assert (
        "k.json: fingerprint_sha256_hex: key.fingerprint: expected 8d4b5ee74e4693bcd1df2446408b0d54"
        in proc.stderr
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--bogus", str(SEED_PATH)],
        ["--max-depth", "0", str(SEED_PATH)],
        ["--max-bytes", "many", str(SEED_PATH)],
    ],
    ids=["no_files", "unknown_option", "zero_depth", "non_numeric_size"],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    """Usage errors print the usage and exit 2, verifying nothing."""
    proc = _verify(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "usage: python -m sitegen" in proc.stderr
    assert "error: " in proc.stderr


def test_forged_line_in_a_file_cannot_reach_the_terminal(tmp_path: Path, seed_bytes: bytes) -> None:
    """A newline inside a value from the file is printed escaped: no forged `verified` line appears."""
    forged = tmp_path / "forged.state.json"
    forged.write_bytes(
        seed_bytes.replace(b'"alias_value":"2607.01083"', b'"alias_value":"x\\nverified     evil.json"')
    )
    proc = _verify(forged)
    assert proc.returncode == 1
    assert not any(line.startswith("verified") for line in proc.stdout.splitlines())


def test_size_and_depth_limits_are_set_on_the_command_line() -> None:
    """--max-bytes and --max-depth decide what is too big: the same files pass or are rejected."""
    oversized = VECTORS / "oversized.state.json"
    assert _verify("--max-bytes", "65536", oversized).stdout.startswith("rejected ")
    assert _verify(oversized).stdout.startswith(
        "failed "
    )  # read at the default 4 MiB; its state hash is stale
    shallow = _verify("--max-depth", "3", SEED_PATH)
    assert shallow.returncode == 1
    assert (
        f"    {SEED_PATH}: json.depth: nesting is deeper than the limit of 3" in shallow.stdout.splitlines()
    )

"""The binned manifest on built sites (19.2): ``SHA256SUMS`` lists bins, each paper's files are in the
bin of its suffix, the documented two-line recipe and ``check`` verify it, and an operator's
``SHA256SUMS.sig`` (``build --sign-manifest``) is checked by ``check --operator-key`` and by
``ssh-keygen -Y verify``."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sitegen.pith.sshsig import MANIFEST_NAMESPACE
from tests.cli.helpers import operator_key, run_cli
from tests.conftest import ROOT
from tests.e2e.sitebuild import assert_manifest_lists_the_tree, build, reseal
from tests.synth import SigningKey

RECIPE = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
SSH_KEYGEN = shutil.which("ssh-keygen")


def _recipe() -> str:
    """The two shell lines docs/deploy.md gives for checking a site with standard tools."""
    block = re.search(r"```sh\n(sha256sum -c [^\n]*SHA256SUMS\n[^\n]*sha256sum -c[^\n]*)\n```", RECIPE)
    assert block is not None, "docs/deploy.md has no two-line sha256sum recipe"
    return block.group(1)


@pytest.fixture
def built(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> Path:
    states = {
        f"p{n}.state.json": new_paper(signing_key, f"2607.2{n:04d}", title=f"Paper {n}") for n in range(12)
    }
    out = tmp_path / "site"
    proc = build(make_content(states, keys=[signing_key]), out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_sha256sums_lists_bins_and_every_paper_is_in_its_suffixs_bin(built: Path) -> None:
    lines = (built / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert lines and all(re.fullmatch(r"[0-9a-f]{64}  sums/[a-z0-9A-Z-]+\.sha256", line) for line in lines)
    assert any(line.endswith("sums/site.sha256") for line in lines)
    assert_manifest_lists_the_tree(built)


def test_the_documented_recipe_verifies_the_site_and_catches_a_changed_file(built: Path) -> None:
    recipe = _recipe()
    ok = subprocess.run(["sh", "-c", recipe], cwd=built, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    page = next((built / "pith").glob("*/index.html"))
    page.write_bytes(page.read_bytes() + b"<!-- changed -->")
    bad = subprocess.run(["sh", "-c", recipe], cwd=built, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "FAILED" in bad.stdout + bad.stderr


def test_check_reads_the_bins_and_names_a_tampered_bin(
    built: Path, signing_key: SigningKey, tmp_path: Path
) -> None:
    keys = tmp_path / "content" / "keys"
    assert run_cli("check", built, "--keys", keys).returncode == 0
    sums = built / "SHA256SUMS"
    first_bin = sums.read_text(encoding="utf-8").splitlines()[0][66:]
    with (built / first_bin).open("a", encoding="utf-8") as bin_file:
        bin_file.write(f"{'0' * 64}  planted.html\n")
    proc = run_cli("check", built, "--keys", keys)
    assert proc.returncode == 1
    assert f"FAIL {first_bin}: manifest.sha256: expected " in proc.stderr
    assert "its lines are not used" in proc.stderr


def test_a_signed_manifest_is_checked_with_theoperator_key(built: Path, tmp_path: Path) -> None:
    private, public = operator_key(tmp_path)
    content = tmp_path / "content"
    proc = build(content, built, "--sign-manifest", str(private))
    assert proc.returncode == 0, proc.stderr
    assert (built / "SHA256SUMS.sig").read_bytes().startswith(b"-----BEGIN SSH SIGNATURE-----\n")
    assert_manifest_lists_the_tree(built)  # the signature is beside SHA256SUMS, in no bin
    good = run_cli("check", built, "--keys", content / "keys", "--operator-key", public)
    assert good.returncode == 0, good.stderr
    assert "note: SHA256SUMS is signed by the operator key given" in good.stderr

    (tmp_path / "other").mkdir()
    _, other_public = operator_key(tmp_path / "other")  # another operator's key
    wrong = run_cli("check", built, "--keys", content / "keys", "--operator-key", other_public)
    assert wrong.returncode == 1
    assert (
        "FAIL SHA256SUMS.sig: operator.signature: made with another key than the operator key given"
        in wrong.stderr
    )

    page = next((built / "pith").glob("*/index.html"))
    page.write_bytes(page.read_bytes().replace(b"Paper", b"Papier", 1))
    reseal(built)  # a host rewrote the manifest to match: the operator's signature no longer does
    tampered = run_cli("check", built, "--keys", content / "keys", "--operator-key", public)
    assert tampered.returncode == 1
    assert "FAIL SHA256SUMS.sig: operator.signature: the signature does not match" in tampered.stderr


def test_a_signature_missing_or_not_asked_for(built: Path, tmp_path: Path) -> None:
    _, public = operator_key(tmp_path)
    keys = tmp_path / "content" / "keys"
    missing = run_cli("check", built, "--keys", keys, "--operator-key", public)
    assert (
        missing.returncode == 1
        and "FAIL SHA256SUMS.sig: operator.signature: cannot be read" in missing.stderr
    )
    (built / "SHA256SUMS.sig").write_bytes(b"-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n")
    unasked = run_cli("check", built, "--keys", keys)
    assert unasked.returncode == 0
    assert "note: SHA256SUMS.sig is served but not checked: pass --operator-key" in unasked.stderr


def test_an_unreadable_operator_key_stops_the_build_before_anything_is_written(
    built: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "not-a-key"
    bad.write_text("hello\n", encoding="utf-8")
    before = (built / "SHA256SUMS").read_bytes()
    proc = build(tmp_path / "content", built, "--sign-manifest", str(bad))
    assert proc.returncode == 2
    assert f"error: {bad}: operator.key: not an unencrypted Ed25519 private key" in proc.stderr
    assert (built / "SHA256SUMS").read_bytes() == before


@pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")
def test_ssh_keygen_verifies_our_signature_and_check_verifies_ssh_keygens(
    built: Path, tmp_path: Path
) -> None:
    assert SSH_KEYGEN is not None
    private, public = operator_key(tmp_path)
    private.chmod(0o600)
    content = tmp_path / "content"
    assert build(content, built, "--sign-manifest", str(private)).returncode == 0
    signers = tmp_path / "allowed_signers"
    signers.write_bytes(b"mirror " + public.read_bytes())
    ours = subprocess.run(
        [
            SSH_KEYGEN,
            "-Y",
            "verify",
            "-f",
            signers,
            "-I",
            "mirror",
            "-n",
            MANIFEST_NAMESPACE,
            "-s",
            built / "SHA256SUMS.sig",
        ],
        input=(built / "SHA256SUMS").read_bytes(),
        capture_output=True,
        timeout=30,
    )
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run(
        [SSH_KEYGEN, "-Y", "sign", "-f", private, "-n", MANIFEST_NAMESPACE],
        input=(built / "SHA256SUMS").read_bytes(),
        capture_output=True,
        timeout=30,
    )
    assert theirs.returncode == 0, theirs.stderr
    (built / "SHA256SUMS.sig").write_bytes(theirs.stdout)
    check = run_cli("check", built, "--keys", content / "keys", "--operator-key", signers)
    assert check.returncode == 0, check.stderr

"""`python -m sitegen check` on a built directory and on a deployed site over HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli, static_server, summary_line
from tests.synth import SigningKey


@pytest.fixture
def built(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_bytes: bytes,
    tmp_path: Path,
) -> tuple[Path, Path]:
    """A fresh build of two papers: (content directory, site directory)."""
    content = make_content(
        {"seed.state.json": seed_bytes, "a.state.json": new_paper(signing_key, "2607.10001", "Paper A")},
        keys=[signing_key],
        site_yaml="title: Test mirror\nbase_url: https://mirror.example/m/\n",
    )
    proc = run_cli("build", "--content", content, "--out", tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    return content, tmp_path / "site"


@pytest.fixture
def deployed(built: tuple[Path, Path], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The built site copied to a plain static HTTP server: (URL, served directory)."""
    root = tmp_path / "deployed"
    shutil.copytree(built[1], root)

    with static_server(root) as url:
        yield url, root


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_fresh_build_passes(built: tuple[Path, Path]) -> None:
    """A fresh build checks clean: every file, both papers re-verified, links resolve, exit 0."""
    content, site = built
    proc = run_cli("check", site, "--keys", content / "keys")
    assert proc.returncode == 0, proc.stderr
    summary = summary_line(proc.stderr)
    assert "2 papers re-verified" in summary
    assert summary.endswith("; 0 problems")


def test_one_changed_byte_in_a_directory_names_the_file(built: tuple[Path, Path]) -> None:
    """One flipped byte in a paper page makes check exit 1 and name that file and the manifest check."""
    content, site = built
    page = next((site / "pith").glob("*/index.html"))
    _flip_one_byte(page)
    proc = run_cli("check", site, "--keys", content / "keys")
    assert proc.returncode == 1
    rel = page.relative_to(site).as_posix()
    assert f"FAIL {rel}: manifest.sha256: expected " in proc.stderr
    assert summary_line(proc.stderr).endswith("; 1 problems")


def test_deployed_site_over_http_passes_then_names_a_changed_file(
    built: tuple[Path, Path], deployed: tuple[str, Path]
) -> None:
    """Over HTTP a faithful deployment passes; after one byte of a state file changes, check names it."""
    content, _ = built
    url, root = deployed
    proc = run_cli("check", url, "--keys", content / "keys")
    assert proc.returncode == 0, proc.stderr
    assert "extra files cannot be listed over HTTP" in proc.stderr
    state = next((root / "pith").glob("*/state.json"))
    _flip_one_byte(state)
    proc = run_cli("check", url, "--keys", content / "keys")
    assert proc.returncode == 1
    rel = state.relative_to(root).as_posix()
    assert f"FAIL {rel}: manifest.sha256: expected " in proc.stderr
    assert f"FAIL {rel}: paper.reverify: verification.json shows verified, your keyring gives " in proc.stderr


def test_other_keyring_extra_file_and_broken_link_are_reported(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """Papers that do not verify with your keys, unlisted files and links to missing files are all problems."""
    _, site = built
    registry_only = tmp_path / "registry-only"
    registry_only.mkdir()
    shutil.copy(next((built[0] / "keys").glob("pith-v1-*.json")), registry_only)
    (site / "planted.html").write_text("<p>not from the build</p>", encoding="utf-8")
    (site / "assets" / "site.css").unlink()
    proc = run_cli("check", site, "--keys", registry_only)
    assert proc.returncode == 1
    assert "verification.json shows verified, your keyring gives unverifiable" in proc.stderr
    assert "FAIL planted.html: manifest.extra: not listed in SHA256SUMS" in proc.stderr
    assert "FAIL assets/site.css: manifest.sha256: missing" in proc.stderr
    assert "FAIL index.html: link.internal: './assets/site.css' names no file of the site" in proc.stderr


def test_no_manifest_cannot_run(tmp_path: Path) -> None:
    """A directory without SHA256SUMS cannot be checked: exit 2 with the path."""
    proc = run_cli("check", tmp_path)
    assert proc.returncode == 2
    assert "SHA256SUMS: manifest.read" in proc.stderr


def test_manifest_line_leaving_the_site_is_refused_not_read(built: tuple[Path, Path], tmp_path: Path) -> None:
    """A SHA256SUMS line naming ../something is a problem of its own; the file outside is never read."""
    content, site = built
    (tmp_path / "outside.txt").write_text("secret", encoding="utf-8")
    with (site / "SHA256SUMS").open("a", encoding="utf-8") as sums:
        sums.write("0" * 64 + "  ../outside.txt\n")
    proc = run_cli("check", site, "--keys", content / "keys")
    assert proc.returncode == 1
    assert "FAIL SHA256SUMS: manifest.line: line " in proc.stderr
    assert "outside.txt" not in proc.stderr


def test_page_showing_another_verdict_than_its_state_is_reported(built: tuple[Path, Path]) -> None:
    """A paper page whose verdict badge says failed while its state verifies is named (beside the digest)."""
    content, site = built
    page = next((site / "pith").glob("*/index.html"))
    html = page.read_text(encoding="utf-8")
    assert 'class="verdict verdict-verified verdict-big"' in html
    page.write_text(
        html.replace("verdict-verified verdict-big", "verdict-failed verdict-big"), encoding="utf-8"
    )
    proc = run_cli("check", site, "--keys", content / "keys")
    assert proc.returncode == 1
    rel = page.relative_to(site).as_posix()
    assert (
        f"FAIL {rel}: paper.reverify: the page shows failed, verified, your keyring gives verified"
        in proc.stderr
    )

"""Only visible ``*.json`` files in ``content/keys/`` are trusted keys; a build names every other file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.e2e.sitebuild import report_entries
from tests.synth import SigningKey


def _verdicts(site: Path) -> dict[str, str]:
    return {name: entry["status"] for name, entry in report_entries(site).items()}


@pytest.mark.parametrize("name", ["k.json", ".DS_Store.json"])
def test_a_key_is_trusted_only_under_a_visible_json_name(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path, name: str
) -> None:
    """The same valid key makes its paper verified as ``keys/k.json`` and unverifiable as
    ``keys/.DS_Store.json``, which the build names in a warning (a non-.json file likewise)."""
    key = SigningKey.from_seed(b"\x0d" * 32, "hidden-key")
    content = make_content({"paper.state.json": new_paper(key, "2607.20001", "Signed by the hidden key")})
    key.write_key_file(content / "keys").rename(content / "keys" / name)
    (content / "keys" / "README.txt").write_text("keys for this mirror\n", encoding="utf-8")
    site = tmp_path / "site"
    proc = run_cli("build", "--content", content, "--out", site)
    skipped_txt = "warning: keys/README.txt: keys.skipped: not a visible *.json file, so not read and not trusted as a key"
    skipped_key = "warning: keys/.DS_Store.json: keys.skipped: not a visible *.json file, so not read and not trusted as a key"
    assert skipped_txt in proc.stderr
    if name == "k.json":
        assert proc.returncode == 0, proc.stderr
        assert _verdicts(site)["states/paper.state.json"] == "verified"
        assert skipped_key not in proc.stderr
    else:
        assert proc.returncode == 1, proc.stderr
        assert _verdicts(site)["states/paper.state.json"] == "unverifiable"
        assert skipped_key in proc.stderr
        warnings = json.loads((site / "verification-report.json").read_text(encoding="utf-8"))["warnings"]
        assert any(w.startswith("keys/.DS_Store.json: keys.skipped:") for w in warnings)
        assert not (site / "keys" / "hidden-key.json").exists()

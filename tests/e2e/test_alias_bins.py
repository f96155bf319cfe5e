"""The alias map's bins once they split past two hex digits: nested two digits a directory, found
by the lookup rule /aliases.json states, and the same entries as unsplit bins hold."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sitegen.build.pipeline import build_site
from sitegen.site import manifest_bins
from tests.conftest import site_aliases
from tests.synth import SigningKey


def test_split_alias_bins_nest_two_hex_digits_a_directory(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With bins far smaller (as in a mirror of millions of aliases), every alias is in the file
    aliases/<2 digits>/<2 digits>.json its SHA-256 names, and no directory has more than 256 entries."""
    states = {f"{n}.state.json": new_paper(signing_key, f"2607.5000{n}") for n in range(1, 6)}
    content = make_content(states, keys=[signing_key])
    unsplit = build_site(content, tmp_path / "unsplit", use_cache=False)
    monkeypatch.setattr(manifest_bins, "ALIASES_PER_BIN", 2**-11)  # 30 aliases now split four hex digits deep
    split = build_site(content, tmp_path / "split", use_cache=False)
    assert (
        unsplit.counts() == split.counts() == {"verified": 5, "failed": 0, "unverifiable": 0, "rejected": 0}
    )
    top = json.loads((tmp_path / "split" / "aliases.json").read_bytes())
    assert top["bin_length"] == 4 and "pieces of two digits" in top["lookup"]
    for alias in site_aliases(tmp_path / "split"):
        digits = hashlib.sha256(f"{alias['alias_kind']}:{alias['alias_value']}".encode()).hexdigest()
        listed = json.loads(
            (tmp_path / "split" / "aliases" / digits[:2] / f"{digits[2:4]}.json").read_bytes()
        )
        assert alias in listed["aliases"]
    entries = sorted(site_aliases(tmp_path / "split"), key=json.dumps)
    assert entries == sorted(site_aliases(tmp_path / "unsplit"), key=json.dumps) and len(entries) == 5 * 6
    for directory in (tmp_path / "split" / "aliases").rglob("*"):
        if directory.is_dir():
            assert len(list(directory.iterdir())) <= 256

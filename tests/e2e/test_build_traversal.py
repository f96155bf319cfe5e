"""Hostile ids, aliases and endpoints never make the build write outside its output directory."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import site_aliases
from tests.e2e.sitebuild import build, tamper
from tests.synth import SigningKey


def _set_alias(kind: str, value: str) -> Callable[[dict[str, Any]], None]:
    def edit(state: dict[str, Any]) -> None:
        for alias in state["current"]["source_aliases"]:
            if alias["alias_kind"] == kind:
                alias["alias_value"] = value

    return edit


def _set_endpoint(value: str) -> Callable[[dict[str, Any]], None]:
    def edit(state: dict[str, Any]) -> None:
        state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["integrity"]["endpoint"] = value

    return edit


def _hostile_states(new_paper: Callable[..., bytes], key: SigningKey, absolute: Path) -> dict[str, bytes]:
    """Signed states whose source ids, aliases or integrity endpoints try to leave the output."""
    ids = {
        "dotdot": "../../../../escape-id",
        "absolute": str(absolute / "escape-abs"),
        "backslash": "..\\..\\..\\escape-bs",
        "newline": "esc\nape/../../../../escape-nl",
        "nul": "x\x00/../../../../escape-nul",
        "encoded": "%2e%2e/%2e%2e/escape-enc",
    }
    states = {f"id-{name}.state.json": new_paper(key, source_id) for name, source_id in ids.items()}
    base = new_paper(key, "2607.07777")
    edits = {
        "short8": _set_alias("pith_short_8", "../../../../../escape-short"),
        "version": _set_alias("arxiv_version", "a/../../../../../escape-ver"),
        "doi-abs": _set_alias("doi", str(absolute / "escape-doi")),
        "doi-ctl": _set_alias("doi", "10.1/\x1b[31m/../../../escape-ctl"),
        "endpoint-dotdot": _set_endpoint("/pith/../../../../../escape-endpoint/integrity.json"),
        "endpoint-abs": _set_endpoint(f"/pith/{absolute}/escape-endpoint-abs/integrity.json"),
        "endpoint-bs": _set_endpoint("/pith/..\\..\\..\\escape-endpoint-bs/integrity.json"),
        "endpoint-own-paper": _set_endpoint(
            f"/pith/{json.loads(base)['pith_number'].rsplit(':', 1)[1]}/integrity.json"
        ),
    }
    for name, edit in edits.items():
        states[f"edit-{name}.state.json"] = tamper(base, edit)
    return states


def test_hostile_inputs_write_nothing_outside_the_output(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """Ids and aliases with ../, absolute paths, backslashes, control characters: every file stays inside."""
    states = _hostile_states(new_paper, signing_key, tmp_path)
    content = make_content(states, keys=[signing_key])
    evil_key = signing_key.key_document()
    evil_key["key_id"] = "../../../../evil-key"
    (content / "keys" / "evil.json").write_text(json.dumps(evil_key), encoding="utf-8")
    out = tmp_path / "deep" / "er" / "still" / "site"
    proc = build(content, out, "--json")
    assert proc.returncode in (0, 1), proc.stderr

    outside = sorted(
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if not p.is_relative_to(content) and not p.is_relative_to(out) and p.is_file()
    )
    generation = re.compile(r"/[0-9a-f]+-[0-9]+\.(index|manifest|orders|reports|site|summaries)$")
    compiled = re.compile(r"/templates/[0-9a-f]{40}\.code$")
    kinds = {
        compiled.sub("/templates/<template>.code", generation.sub("/<generation>.\\1", name))
        for name in outside
    }
    assert sorted(kinds) == [
        "deep/er/still/.site.cache/<generation>.index",
        "deep/er/still/.site.cache/<generation>.manifest",
        "deep/er/still/.site.cache/<generation>.orders",
        "deep/er/still/.site.cache/<generation>.reports",
        "deep/er/still/.site.cache/<generation>.site",
        "deep/er/still/.site.cache/<generation>.summaries",
        "deep/er/still/.site.cache/HEAD",
        "deep/er/still/.site.cache/templates/<template>.code",
        "deep/er/still/.site.lock",
    ]  # incremental cache, its compiled templates, lock
    assert not any(
        "escape" in p.name
        for p in tmp_path.rglob("*")
        if not p.is_relative_to(content) and not p.is_relative_to(out)
    )
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve())
        assert not path.is_symlink()
        assert all(ord(c) >= 32 and c != "\\" for c in path.relative_to(out).as_posix()), path

    assert "alias.path" in proc.stderr and "integrity.path" in proc.stderr
    entries = {entry["input"]: entry for entry in json.loads(proc.stdout)["inputs"]}
    assert set(entries) == {f"states/{name}" for name in states}
    aliases = site_aliases(out)
    for alias in aliases:
        value = alias["alias_value"]
        unsafe = value.startswith("/") or ".." in value or "\\" in value or any(ord(c) < 32 for c in value)
        if unsafe:
            assert alias["path"] is None, alias
        elif alias["path"] is not None:  # None also for a path several edited copies claim
            assert (out / alias["path"] / "index.html").is_file(), alias


@pytest.mark.parametrize(
    "endpoint",
    ["/pith/2607.08888/integrity.json", "/pith/hep-th/9901001/integrity.json"],
    ids=["new-style", "old-style"],
)
def test_safe_integrity_endpoint_is_served_inside_the_output(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
    endpoint: str,
) -> None:
    """A safe endpoint path a snapshot names is served, under the output and nowhere else."""
    content = make_content({"p.state.json": new_paper(signing_key, endpoint[6:-15])}, keys=[signing_key])
    out = tmp_path / "site"
    assert build(content, out).returncode == 0
    assert (out / endpoint.lstrip("/")).is_file()

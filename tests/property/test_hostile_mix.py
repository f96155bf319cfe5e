"""The real seed beside any mix of hostile inputs: the build never stops, and always serves the seed verified.

The hostile inputs are those a stranger can send: copies of the seed re-signed with a key the
mirror does not trust, failed copies, byte-identical duplicates, copies with only unsigned
fields changed (aliases and integrity endpoints that would nest under a page's file, case-folded
spellings of the seed's paths, long strings within the limits), and new papers, trusted or not,
naming the seed's ids. Input names are drawn too, so a hostile file may come first.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.build.pipeline import build_site
from tests.conftest import REGISTRY_KEY_PATH, SEED_PATH
from tests.e2e.sitebuild import SEED_SUFFIX, assert_manifest_lists_the_tree
from tests.strategies import SEED, TEST_KEY
from tests.synth import SigningKey, dump_state, make_state, resign_state, restate_hash

STRANGER = SigningKey.from_seed(b"pith-sitegen hostile mix", "a-stranger")
SEED_BYTES = SEED_PATH.read_bytes()
SEED_FILES = ("record.json", "signature.bin")
"""The seed's files whose bytes derive from its signed record alone, whichever state serves it."""

nasty_paths = st.sampled_from(
    [
        "2607.01083/index.html",
        "2607.01083/INDEX.HTML",
        "2607.01083v1/index.html/x",
        "10.48550/arxiv.2607.01083/index.html",
        "10.48550/ARXIV.2607.01083",
        "10.48550/arxiv.2607.01083/state.json",
        "2607.01083",
        "2607.01083V1",
        SEED_SUFFIX,
        SEED_SUFFIX.lower(),
        f"{SEED_SUFFIX[:8]}",
        "../../etc/passwd",
        "x" * 300,
    ]
) | st.text(st.sampled_from("aA/._-<>0123456789"), min_size=1, max_size=40)
"""Alias values and path parts that collide with, nest under, or case-fold onto the seed's paths."""


def _snapshot(state: dict[str, Any]) -> dict[str, Any]:
    snapshot: dict[str, Any] = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]
    return snapshot


@st.composite
def unsigned_edits(draw: st.DrawFn) -> dict[str, Any]:
    """The seed with unsigned fields changed: still verified, with paths that contest the seed's."""
    state = copy.deepcopy(SEED)
    for alias in state["current"]["source_aliases"]:
        if draw(st.booleans()):
            alias["alias_value"] = draw(nasty_paths)
    if draw(st.booleans()):
        _snapshot(state)["integrity"]["endpoint"] = f"/pith/{draw(nasty_paths)}/integrity.json"
    if draw(st.booleans()):
        _snapshot(state)["paper"]["authors_text"] = draw(st.text(min_size=0, max_size=2000))
    return restate_hash(state)


@st.composite
def hostile_input(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["duplicate", "untrusted", "failed", "unsigned", "stranger", "trusted"]))
    if kind == "duplicate":
        return SEED_BYTES
    if kind == "untrusted":
        return dump_state(resign_state(draw(unsigned_edits()), STRANGER))
    if kind == "failed":
        state = draw(unsigned_edits())
        _snapshot(state)["paper"]["title"] = draw(st.text(min_size=1, max_size=5000))
        return dump_state(restate_hash(state))
    if kind == "unsigned":
        return dump_state(draw(unsigned_edits()))
    source_id = draw(st.sampled_from(["2607.01083", "2607.01084", "2607.01083v1"]))
    paper = make_state(
        SEED,
        STRANGER if kind == "stranger" else TEST_KEY,
        source_id=source_id,
        title=draw(st.text(min_size=1, max_size=3000)),
        authors=["A. Stranger"],
        submitted_at="2026-07-01T15:40:12Z",
        event_seed=draw(st.text(max_size=8)),
    )
    if draw(st.booleans()):
        _snapshot(paper)["integrity"]["endpoint"] = f"/pith/{draw(nasty_paths)}/integrity.json"
        restate_hash(paper)
    return dump_state(paper)


input_names = st.text(st.sampled_from("abz-_0"), min_size=1, max_size=6).map(lambda n: f"{n}.state.json")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile=st.dictionaries(input_names, hostile_input(), min_size=1, max_size=5))
def test_the_seed_beside_any_hostile_mix_is_served_verified(hostile: dict[str, bytes]) -> None:
    """Never an exception (exit 2), the seed's page served from a verified state, nothing outside the
    output (beside it only the build's own ``.out.*`` cache and lock)."""
    hostile.pop("seed.state.json", None)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        content = root / "content"
        (content / "states").mkdir(parents=True)
        (content / "keys").mkdir()
        shutil.copy(REGISTRY_KEY_PATH, content / "keys" / REGISTRY_KEY_PATH.name)
        TEST_KEY.write_key_file(content / "keys")
        (content / "states" / "seed.state.json").write_bytes(SEED_BYTES)
        for name, data in hostile.items():
            (content / "states" / name).write_bytes(data)
        out = root / "out"
        result = build_site(content, out, jobs=1, use_cache=False)

        assert {r.input: r.verdict.value for r in result.reports}["states/seed.state.json"] == "verified"
        paper = out / "pith" / SEED_SUFFIX
        verification = json.loads((paper / "verification.json").read_bytes())
        assert verification["status"] == "verified"
        for name in SEED_FILES:
            assert (paper / name).read_bytes() == _seed_alone()[name]
        assert sorted(n for n in os.listdir(root) if not n.startswith(".out.")) == ["content", "out"]
        assert_manifest_lists_the_tree(out)
        assert not any(p.is_symlink() for p in out.rglob("*"))


_ALONE: dict[str, bytes] = {}


def _seed_alone() -> dict[str, bytes]:
    """The seed's record-derived files from a build of the seed alone (built once)."""
    if not _ALONE:
        with tempfile.TemporaryDirectory() as tmp:
            content = Path(tmp) / "content"
            (content / "states").mkdir(parents=True)
            (content / "keys").mkdir()
            shutil.copy(REGISTRY_KEY_PATH, content / "keys" / REGISTRY_KEY_PATH.name)
            (content / "states" / "seed.state.json").write_bytes(SEED_BYTES)
            build_site(content, Path(tmp) / "out", jobs=1, use_cache=False)
            paper = Path(tmp) / "out" / "pith" / SEED_SUFFIX
            _ALONE.update({name: (paper / name).read_bytes() for name in SEED_FILES})
    return _ALONE

"""Fixtures of the visitor's end-to-end tests: headless Chromium and the seed served under /mirror/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_PATH
from tests.e2e.visitor_site import SEED_SUFFIX, Served, chromium, seed_paper, serve_seed_site
from tests.synth import SigningKey, dump_state, restate_hash

REPLACED_TITLE = "A Title the Registry Never Signed"


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium per test module."""
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def seed_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real seed built with ``base_url: /mirror/`` and served; tests that alter a file put it back."""
    root = tmp_path_factory.mktemp("seed-mirror")
    with serve_seed_site(root) as served:
        yield served


@pytest.fixture(scope="module")
def untrusted_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, SigningKey]]:
    """A mirror holding a paper signed by a key the mirror does not trust (so serves no copy of)."""
    root = tmp_path_factory.mktemp("untrusted")
    key = SigningKey.from_seed(b"\x0b" * 32, "another-registry-key")
    paper = seed_paper(key, "2611.00001", "A paper signed by another key", ["Ada Lovelace"])
    with serve_seed_site(root, extra={"2611.00001.state.json": paper}) as served:
        yield served, key


def _served_failed_seed(root: Path, state: dict[str, Any], failing: list[str]) -> Iterator[Served]:
    """``state`` (the altered seed) built and served; the build fails it on ``failing`` alone."""
    with serve_seed_site(root, extra={"2607.01083.state.json": dump_state(state)}) as served:
        page = served.site / "pith" / SEED_SUFFIX / "verification.json"
        report = json.loads(page.read_text(encoding="utf-8"))
        assert report["status"] == "failed"
        assert [c["id"] for c in report["checks"] if c["status"] == "failed"] == failing
        yield served


@pytest.fixture(scope="module")
def title_replaced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The seed with its shown title replaced after signing (state hash redone): failed on the title alone.

    Its record.json, canonical hash, Pith number and signature are all the registry's.
    """
    state = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    state["current"]["graph_snapshots"][-1]["payload"]["graph_snapshot"]["paper"]["title"] = REPLACED_TITLE
    yield from _served_failed_seed(
        tmp_path_factory.mktemp("title-replaced"), restate_hash(state), ["title.canon_sha256"]
    )


@pytest.fixture(scope="module")
def state_hash_wrong(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The seed with a wrong state hash: failed on a check that neither re-check makes."""
    state = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    state["state_sha256"] = "0" * 64
    yield from _served_failed_seed(tmp_path_factory.mktemp("state-hash-wrong"), state, ["state.state_sha256"])

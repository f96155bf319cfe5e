"""Fixtures of the visitor's end-to-end tests: headless Chromium and the seed served under /mirror/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.visitor_site import Served, chromium, seed_paper, serve_seed_site
from tests.synth import SigningKey


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

"""Fixtures of the visitor's end-to-end tests: headless Chromium and the seed served under /mirror/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.visitor_site import Served, build_seed_site, chromium, serve


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium per test module."""
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def seed_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The real seed built with ``base_url: /mirror/`` and served; tests that alter a file put it back."""
    root = tmp_path_factory.mktemp("seed-mirror")
    with serve(root) as served:
        build_seed_site(served, root)
        yield served

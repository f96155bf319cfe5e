"""Shared fixtures: the real seed, the real registry key, fresh signing keys, content trees."""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.synth import SigningKey, dump_state, make_state

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED_PATH = DATA / "seed.state.json"
REGISTRY_KEY_PATH = ROOT / "content" / "keys" / "pith-v1-2026-05.json"
CHROMIUM = Path(os.environ.get("SITEGEN_TEST_CHROMIUM", "/usr/bin/chromium"))
"""Debian's Chromium (``SITEGEN_TEST_CHROMIUM`` names another): browser tests drive it through
Playwright and never download a browser."""
BROWSER_MISSING = f"{CHROMIUM} is missing; install it with `apt-get install -y chromium` (.ci/run does)"
"""Why every test marked ``browser`` is skipped without Chromium; the run's summary counts them."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# No test here is timed: on a busy machine a property test's first example (which compiles a
# template) can pass Hypothesis's default 200 ms deadline, and that made a CI run fail.
settings.register_profile("sitegen", deadline=None)
settings.load_profile("sitegen")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, skip every test marked ``browser``, all for the one reason."""
    if CHROMIUM.exists():
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=BROWSER_MISSING))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Iterator[None]:
    """End the run by saying how many browser tests did not run, and how to get them.

    A wrapper run first, so that this comes after pytest's short summary, just above its count.
    """
    yield
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser" in r.keywords]
    if skipped:
        noun = "browser test did" if len(skipped) == 1 else "browser tests did"
        terminalreporter.write_line(
            f"{len(skipped)} {noun} not run: {BROWSER_MISSING}", yellow=True, bold=True
        )


@pytest.fixture
def seed_bytes() -> bytes:
    return SEED_PATH.read_bytes()


@pytest.fixture
def seed_state() -> dict[str, Any]:
    """A fresh, mutable copy of the real seed state."""
    return json.loads(SEED_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def registry_keys(tmp_path: Path) -> Path:
    """A keyring directory holding only the real registry key."""
    keys = tmp_path / "registry-keys"
    keys.mkdir()
    shutil.copy(REGISTRY_KEY_PATH, keys / REGISTRY_KEY_PATH.name)
    return keys


@pytest.fixture
def signing_key() -> SigningKey:
    """A fresh Ed25519 key standing in for a registry the test trusts."""
    return SigningKey.generate("test-registry-2026")


@pytest.fixture
def make_content(tmp_path: Path) -> Callable[..., Path]:
    """Build a content directory: the registry key, optional extra keys, and state files."""

    def build(
        states: dict[str, bytes] | None = None,
        *,
        keys: list[SigningKey] = (),  # type: ignore[assignment]
        registry_key: bool = True,
        site_yaml: str = "title: Test mirror\nbase_url: /mirror/\n",
        pages: dict[str, str] | None = None,
        name: str = "content",
    ) -> Path:
        content = tmp_path / name
        (content / "states").mkdir(parents=True)
        (content / "keys").mkdir()
        if registry_key:
            shutil.copy(REGISTRY_KEY_PATH, content / "keys" / REGISTRY_KEY_PATH.name)
        for key in keys:
            key.write_key_file(content / "keys")
        for rel, data in (states or {}).items():
            path = content / "states" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (content / "site.yaml").write_text(site_yaml, encoding="utf-8")
        if pages:
            (content / "pages").mkdir()
            for rel, text in pages.items():
                (content / "pages" / rel).write_text(text, encoding="utf-8")
        return content

    return build


@pytest.fixture
def new_paper(seed_state: dict[str, Any]) -> Callable[..., bytes]:
    """Bytes of a new, correctly signed state built on the seed's shape."""

    def build(key: SigningKey, source_id: str, title: str = "A test paper", **kwargs: Any) -> bytes:
        kwargs.setdefault("authors", ["Ada Lovelace", "Alan Turing"])
        kwargs.setdefault("submitted_at", "2026-07-01T15:40:12Z")
        return dump_state(make_state(seed_state, key, source_id=source_id, title=title, **kwargs))

    return build


def site_aliases(site: Path) -> list[dict[str, Any]]:
    """Every entry of the built site's alias map, read from the bins ``aliases.json`` lists."""
    top = json.loads((site / "aliases.json").read_text(encoding="utf-8"))
    bins = sorted((site / "aliases").rglob("*.json"))
    names = [b.relative_to(site / "aliases").as_posix().removesuffix(".json").replace("/", "") for b in bins]
    assert all(len(name) == top["bin_length"] for name in names)
    return [entry for path in bins for entry in json.loads(path.read_text(encoding="utf-8"))["aliases"]]


def sitemap_urls(site: Path) -> list[str]:
    """Every page URL the built site's sitemap lists: the index ``sitemap.xml`` and each part it names."""
    loc = "{http://www.sitemaps.org/schemas/sitemap/0.9}loc"
    index = ET.parse(site / "sitemap.xml").getroot()
    base = index.findtext(f"./*/{loc}", default="").split("/sitemaps/", 1)[0]
    return [
        str(url.text)
        for part in index.iter(loc)
        for url in ET.parse(site / str(part.text).removeprefix(f"{base}/")).getroot().iter(loc)
    ]


def alias_target(site: Path, alias_path: str) -> str:
    """The Pith number the built site's alias map gives for an alias page path like ``arxiv/ID``."""
    return str(next(a["pith_number"] for a in site_aliases(site) if a["path"] == f"{alias_path}/"))

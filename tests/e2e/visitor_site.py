"""The visitor's side of a mirror, for tests and the screenshot script.

A real static host (``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread) that
serves the built site under a sub-path, ``/mirror/``, and a stand-in for the
registry under ``/registry/`` serving a local copy of the registry's key file as
``pith-signing-key.json``; a seed site built for it; and headless Chromium.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sitegen.build.pipeline import build_site
from tests.cli.helpers import stop_server
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, REGISTRY_KEY_PATH, SEED_PATH
from tests.synth import SigningKey, dump_state, make_state

SEED_SUFFIX = "3BA52NFJTLFMVFHQMNWVXCSHM7"
SEED_PITH = f"pith:2026:{SEED_SUFFIX}"
SEED_SHA256 = "d841dd34a99acaca94f0636d5b8a4767e6a0d0546b317553de6c9d86e9291c39"
SEED_KEY_FINGERPRINT = "8d4b5ee74e4693bcd1df2446408b0d54"
SUB_PATH = "/mirror/"
PLACEHOLDER_SITE = "https://this-mirror.example/mirror"
BROWSER_TEST = [pytest.mark.e2e, pytest.mark.browser]
"""Marks for a test that drives the browser: skipped (tests/conftest.py) only when Chromium is absent."""


class _Handler(SimpleHTTPRequestHandler):
    """A plain static host: each URL prefix maps to a directory, anything else is 404."""

    def __init__(self, *args: Any, roots: dict[str, Path], **kwargs: Any) -> None:
        self.roots = roots
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        clean = urlsplit(path).path
        for prefix, root in self.roots.items():
            if clean == prefix.rstrip("/") or clean.startswith(prefix):
                self.directory = str(root)
                return super().translate_path("/" + clean[len(prefix) :])
        return str(Path(self.roots[SUB_PATH]) / ".no-such-file")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what the browser saw."""


@dataclass(frozen=True, slots=True)
class Served:
    """A running server: its origin and the directories it serves."""

    origin: str
    site: Path
    registry: Path

    @property
    def mirror(self) -> str:
        """The mirror's base URL, ending in ``/``."""
        return self.origin + SUB_PATH

    def paper_url(self, suffix: str = SEED_SUFFIX) -> str:
        return f"{self.mirror}pith/{suffix}/"


@contextmanager
def serve(root: Path) -> Iterator[Served]:
    """Serve ``root/site`` under ``/mirror/`` and ``root/registry`` under ``/registry/``."""
    site, registry = root / "site", root / "registry"
    registry.mkdir(parents=True, exist_ok=True)
    shutil.copy(REGISTRY_KEY_PATH, registry / "pith-signing-key.json")
    handler = partial(_Handler, roots={SUB_PATH: site, "/registry/": registry})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(origin=f"http://127.0.0.1:{server.server_address[1]}", site=site, registry=registry)
    finally:
        stop_server(server, thread)


def seed_content(
    content: Path,
    site_yaml: str,
    *,
    extra: dict[str, bytes] | None = None,
    keys: tuple[SigningKey, ...] = (),
    pages: dict[str, str] | None = None,
) -> Path:
    """A content directory with the real seed and registry key, plus ``extra`` states, keys and pages."""
    (content / "states").mkdir(parents=True)
    (content / "keys").mkdir()
    shutil.copy(REGISTRY_KEY_PATH, content / "keys" / REGISTRY_KEY_PATH.name)
    shutil.copy(SEED_PATH, content / "states" / "2607.01083.state.json")
    for key in keys:
        key.write_key_file(content / "keys")
    for name, data in (extra or {}).items():
        (content / "states" / name).write_bytes(data)
    for name, text in (pages or {}).items():
        (content / "pages").mkdir(exist_ok=True)
        (content / "pages" / name).write_text(text, encoding="utf-8")
    (content / "site.yaml").write_text(site_yaml, encoding="utf-8")
    return content


def seed_paper(key: SigningKey, source_id: str, title: str, authors: list[str], **kwargs: Any) -> bytes:
    """A new state file on the seed's shape, signed by ``key``."""
    template = json.loads(SEED_PATH.read_text(encoding="utf-8"))
    kwargs.setdefault("submitted_at", "2026-08-01T10:00:00Z")
    return dump_state(make_state(template, key, source_id=source_id, title=title, authors=authors, **kwargs))


def _build_seed_site(
    served: Served,
    work: Path,
    *,
    absolute: bool = False,
    extra: dict[str, bytes] | None = None,
    keys: tuple[SigningKey, ...] = (),
    registry_url: str | None = None,
    title: str = "Test mirror",
) -> None:
    """Build the real seed (and ``extra`` state files, trusting ``keys`` too) into the served directory.

    The registry is the local stand-in unless ``registry_url`` names another;
    ``base_url`` is the sub-path, or the full served URL when ``absolute``.
    """
    base_url = served.mirror if absolute else SUB_PATH
    registry = registry_url or served.origin + "/registry"
    content = seed_content(
        work / "content",
        f"title: {title}\nbase_url: {base_url}\nregistry_url: {registry}\n",
        extra=extra,
        keys=keys,
    )
    build_site(content, served.site, jobs=1)


@contextmanager
def serve_seed_site(root: Path, **options: Any) -> Iterator[Served]:
    """Serve ``root`` (see ``serve``) with the seed site built into it (options as ``_build_seed_site``)."""
    with serve(root) as served:
        _build_seed_site(served, root, **options)
        yield served


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(slots=True)
class Visit:
    """A page in a fresh browser context, with every console error and request it caused."""

    page: Any
    errors: list[str]
    requests: list[str]

    def foreign_requests(self, origin: str) -> list[str]:
        return [url for url in self.requests if not url.startswith(origin + "/")]


def visit(browser: Any, url: str, *, color_scheme: str = "light") -> Visit:
    """Open ``url`` in a new context (fresh local storage) and record errors and requests."""
    context = browser.new_context(color_scheme=color_scheme, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    seen = Visit(page=page, errors=[], requests=[])
    page.on("console", lambda msg: seen.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
    page.on("request", lambda request: seen.requests.append(request.url))
    page.goto(url)
    return seen

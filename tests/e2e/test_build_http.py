"""The built site served by a plain static HTTP server under a sub-path: every link answers.

The server maps ``/mirror/`` to the site directory and nothing else, as a static host
does: no guessing of ``.html`` suffixes, ``404.html`` for anything missing.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from tests.cli.helpers import stop_server
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, SEED_PATH
from tests.e2e.sitebuild import SEED_SUFFIX, build, tamper
from tests.synth import SigningKey

PREFIX = "/mirror/"


class _SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site directory at ``/mirror/``; anything else is 404 with the site's 404.html."""

    def translate_path(self, path: str) -> str:
        clean = urlsplit(path).path
        if clean == PREFIX.rstrip("/"):
            clean = PREFIX
        if not clean.startswith(PREFIX):
            return str(Path(self.directory) / "no such file outside the prefix")
        return super().translate_path("/" + clean[len(PREFIX) :])

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reports what failed."""


class _QuietServer(http.server.ThreadingHTTPServer):
    """A browser that follows a redirect drops the request it no longer needs: not an error."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _Links(HTMLParser):
    """Every URL a page links to or loads: a/link href, script/img src, and a meta refresh target."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("a", "link") and values.get("href"):
            self.urls.append(str(values["href"]))
        if tag in ("script", "img") and values.get("src"):
            self.urls.append(str(values["src"]))
        content = values.get("content") or ""
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh" and "url=" in content:
            self.urls.append(content.split("url=", 1)[1])


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _links(base: str, html: bytes) -> list[str]:
    parser = _Links()
    parser.feed(html.decode("utf-8"))
    return [urldefrag(urljoin(base, u)).url for u in parser.urls if not u.startswith("#")]


@pytest.fixture
def served(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> Iterator[tuple[str, dict[str, str]]]:
    """A site with verified, failed and old-style papers and the shipped pages, served at /mirror/."""
    old = new_paper(signing_key, "hep-lat/0305021", title="Old style", submitted_at="2003-05-20T00:00:00Z")
    failed = tamper(
        new_paper(signing_key, "2607.00002", title="Tampered"),
        lambda s: s["current"]["record_created"]["payload"]["receipt"].update(canonical_sha256="0" * 64),
    )
    pages = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "content" / "pages").glob("*.md"))}
    content = make_content(
        {"seed.state.json": SEED_PATH.read_bytes(), "old.state.json": old, "failed.state.json": failed},
        keys=[signing_key],
        pages=pages,
    )
    out = tmp_path / "site"
    proc = build(content, out)
    assert proc.returncode == 1, proc.stderr
    server = _QuietServer(("127.0.0.1", 0), partial(_SubPathHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    old_suffix = old.split(b'"pith_number":"', 1)[1].split(b'"', 1)[0].decode().rsplit(":", 1)[1]
    start = {
        "index": root,
        "paper": f"{root}pith/{SEED_SUFFIX}/",
        "old-style paper": f"{root}pith/{old_suffix}/",
        "short alias": f"{root}pith/{SEED_SUFFIX[:8]}/",
        "old-style arXiv alias": f"{root}arxiv/hep-lat/0305021/",
        "DOI alias": f"{root}doi/10.48550/arxiv.2607.01083/",
        "verification": f"{root}verification/",
        "about page": f"{root}about/",
        "how-to page": f"{root}verify-by-hand/",
    }
    try:
        yield root, start
    finally:
        stop_server(server, thread)


def test_every_link_on_the_main_pages_answers_under_a_sub_path(served: tuple[str, dict[str, str]]) -> None:
    """From the index, paper, alias, verification and Markdown pages, every same-site link answers 200."""
    root, start = served
    broken: list[str] = []
    checked: set[str] = set()
    for name, url in start.items():
        status, html = _fetch(url)
        assert status == 200, (name, url)
        for link in _links(url, html):
            if not link.startswith(root.split(PREFIX)[0]):
                continue  # another host: the registry, arXiv, doi.org
            if link in checked:
                continue
            checked.add(link)
            link_status, _ = _fetch(link)
            if link_status != 200:
                broken.append(f"{name}: {link} -> {link_status}")
    assert broken == []
    assert any(link.endswith("/record.json") for link in checked)
    assert any("/arxiv/hep-lat/0305021/" in link for link in checked)
    assert len(checked) > 30


def test_missing_page_gets_the_sites_404_with_working_links(served: tuple[str, dict[str, str]]) -> None:
    """A missing path answers 404 with the site's page, whose stylesheet and home link resolve under /mirror/."""
    root, _ = served
    status, html = _fetch(root + "pith/NOSUCHPAPER/")
    assert status == 404 and b"Not found" in html
    for link in _links(root + "pith/NOSUCHPAPER/", html):
        if link.startswith(root):
            assert _fetch(link)[0] == 200, link


@pytest.mark.e2e
@pytest.mark.browser
def test_pages_load_in_chromium_without_errors_or_blocked_requests(
    served: tuple[str, dict[str, str]],
) -> None:
    """Headless Chromium opens each main page under /mirror/: no console error, no failed or off-site request."""
    from playwright.sync_api import ConsoleMessage, Request, Response, sync_playwright

    root, start = served
    host = root.split(PREFIX)[0]
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        probe = f"{host}/favicon.ico"  # the browser's own icon probe, outside the site: not the site's doing

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" and message.location.get("url") != probe:
                problems.append(f"console error: {message.text} ({message.location.get('url')})")

        def on_response(response: Response) -> None:
            if response.status >= 400 and response.url != probe:
                problems.append(f"{response.status}: {response.url}")

        def on_request(request: Request) -> None:
            if not request.url.startswith(host):
                problems.append(f"off-site: {request.url}")

        page.on("console", on_console)
        page.on("response", on_response)
        page.on("request", on_request)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "requestfailed",
            lambda request: (
                None  # a navigation cancels the previous page's pending loads (e.g. its icon)
                if request.failure == "net::ERR_ABORTED"
                else problems.append(f"request failed: {request.url} ({request.failure})")
            ),
        )
        for name, url in start.items():
            if "alias" in name:
                continue
            page.goto(url, wait_until="load")
            assert page.locator("main h1").count() == 1, name
        page.goto(start["paper"], wait_until="load")
        assert page.locator(".verdict-box").inner_text().startswith("✔ Verified")
        for alias, paper in (
            ("short alias", "paper"),
            ("DOI alias", "paper"),
            ("old-style arXiv alias", "old-style paper"),
        ):
            page.goto(start[alias])
            page.wait_for_url(start[paper])
            page.wait_for_load_state("load")
        browser.close()
    assert problems == [], "\n".join(problems)

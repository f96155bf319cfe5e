"""`serve` reloads the page open in a real headless Chromium after a rebuild, within the site's CSP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright import sync_api

from tests.cli.helpers import serve_process
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.synth import SigningKey

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_open_page_reloads_after_a_content_change(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    """The index open in Chromium shows a newly added paper without a manual reload, with no console errors."""
    content = make_content(
        {"a.state.json": new_paper(signing_key, "2607.10001", "Paper A")}, keys=[signing_key]
    )
    with serve_process(content, tmp_path / "site") as served, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            # the site has no favicon; Chromium's own request for one is not the site's error
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            page.goto(served.url)
            sync_api.expect(page.get_by_text("Paper A")).to_be_visible()
            page.wait_for_function("() => document.readyState === 'complete'")
            (content / "states" / "b.state.json").write_bytes(new_paper(signing_key, "2607.10002", "Paper B"))
            sync_api.expect(page.get_by_text("Paper B")).to_be_visible(timeout=20_000)
            assert errors == []
        finally:
            browser.close()

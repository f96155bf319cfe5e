"""Presentation in headless Chromium: landmarks, headings, labels, light and dark, print, under /mirror/."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.e2e.visitor_site import BROWSER_TEST, Served, visit

pytestmark = BROWSER_TEST

PAGES = ["", "pith/3BA52NFJTLFMVFHQMNWVXCSHM7/", "verification/"]

# Relative luminance contrast of the page's text on its background, as WCAG defines it.
CONTRAST = """() => {
  const rgb = (c) => c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const style = getComputedStyle(document.documentElement);
  const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
  return { background: style.backgroundColor, ratio: (a + 0.05) / (b + 0.05) };
}"""


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_landmarks_ordered_headings_and_labelled_controls(
    seed_mirror: Served, chromium_browser: Any, path: str
) -> None:
    """Banner, navigation, main and footer; one h1 and no skipped heading level; every control has a name."""
    seen = visit(chromium_browser, seed_mirror.mirror + path)
    page = seen.page
    for role in ("banner", "navigation", "main", "contentinfo"):
        assert page.get_by_role(role).count() >= 1, role
    levels = [
        int(tag[1])
        for tag in page.eval_on_selector_all("h1,h2,h3,h4,h5,h6", "els => els.map(e => e.tagName)")
    ]
    assert levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    unnamed = page.eval_on_selector_all(
        "input, button, select, textarea",
        """els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                               && !(e.textContent || '').trim()).map(e => e.outerHTML)""",
    )
    assert unnamed == []
    assert seen.errors == []
    assert seen.foreign_requests(seed_mirror.origin) == []


@pytest.mark.parametrize("path", PAGES)
def test_light_and_dark_schemes_are_both_readable(
    seed_mirror: Served, chromium_browser: Any, path: str
) -> None:
    """The colour scheme follows prefers-color-scheme, and text keeps a contrast of at least 7:1 in both."""
    light = visit(chromium_browser, seed_mirror.mirror + path, color_scheme="light").page.evaluate(CONTRAST)
    dark = visit(chromium_browser, seed_mirror.mirror + path, color_scheme="dark").page.evaluate(CONTRAST)
    assert light["background"] != dark["background"]
    assert light["ratio"] >= 7 and dark["ratio"] >= 7, (light, dark)


def test_print_shows_the_recipe_and_hides_the_controls(seed_mirror: Served, chromium_browser: Any) -> None:
    """Printed, the paper page keeps its verdict and recipe and drops navigation, buttons and the search."""
    seen = visit(chromium_browser, seed_mirror.paper_url(), color_scheme="dark")
    seen.page.emulate_media(media="print")
    assert seen.page.locator("#recipe").is_visible()
    assert seen.page.locator(".verdict-box").is_visible()
    assert not seen.page.get_by_role("button", name="Re-check in my browser").is_visible()
    assert not seen.page.get_by_role("navigation", name="Site").is_visible()
    assert (
        seen.page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        == "rgb(255, 255, 255)"
    )

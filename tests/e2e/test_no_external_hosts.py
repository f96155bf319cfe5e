"""No built page makes the browser fetch anything from another host, and each page's CSP forbids it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sitegen.build.pipeline import build_site
from tests.e2e.visitor_site import seed_content, seed_paper
from tests.synth import SigningKey

# Attributes that make a browser fetch something, by tag (links are fetched only for these rels).
FETCHING = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "form": ("action",),
}
FETCHING_RELS = {
    "stylesheet",
    "icon",
    "preload",
    "modulepreload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
    "manifest",
    "apple-touch-icon",
}
HOSTILE_URL = "https://evil.example/x.png"


class _Resources(HTMLParser):
    """Every URL a page would fetch, its CSP, and any inline style or CSS url()."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.csp: list[str] = []
        self.inline_styles: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in FETCHING.get(tag, ()):
            if name in values:
                self.urls.extend(part.split()[0] for part in values[name].split(",") if part.strip())
        if tag == "link" and FETCHING_RELS & set(values.get("rel", "").lower().split()):
            self.urls.append(values.get("href", ""))
        if tag == "meta" and values.get("http-equiv", "").lower() == "content-security-policy":
            self.csp.append(values.get("content", ""))
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.urls.append(values.get("content", "").partition("url=")[2])
        if "style" in values:
            self.inline_styles.append(values["style"])
        self.in_style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.inline_styles.append(data)


def is_other_host(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.scheme or parts.netloc)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed, a paper whose data is full of outside URLs and markup, and a Markdown page, built under /mirror/."""
    root = tmp_path_factory.mktemp("hosts")
    key = SigningKey.from_seed(b"\x07" * 32, "hosts-test-key")
    hostile = seed_paper(
        key,
        "2609.00001",
        f'<img src="{HOSTILE_URL}"> <link rel=stylesheet href="{HOSTILE_URL}"> {HOSTILE_URL}',
        [f'<script src="{HOSTILE_URL}"></script>', "url(https://evil.example/f.woff)"],
        abstract=f'<iframe src="{HOSTILE_URL}"></iframe>',
    )
    about = (
        f'---\ntitle: About\nslug: about\n---\nSee [the registry](https://pith.science). <img src="{HOSTILE_URL}">\n\n'
        f"![a chart]({HOSTILE_URL}) ![another](//evil.example/y.png) ![ours](../assets/favicon.svg)\n"
    )
    content = seed_content(
        root / "content",
        "title: Hosts test\nbase_url: /mirror/\n",
        extra={"hostile.state.json": hostile},
        keys=(key,),
        pages={"about.md": about},
    )
    out = root / "site"
    build_site(content, out, jobs=1)
    return out


def test_no_page_fetches_from_another_host(site: Path) -> None:
    """Scripts, stylesheets, icons, images, frames and refreshes on every page point into the site."""
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 8
    offenders = []
    for page in pages:
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.urls, f"{page} loads nothing at all, not even its stylesheet"
        offenders += [f"{page.relative_to(site)}: {url}" for url in parser.urls if is_other_host(url)]
        assert parser.inline_styles == [], f"{page} has inline styles, which the CSP refuses"
    assert offenders == []


def test_every_page_has_a_csp_that_allows_only_this_site(site: Path) -> None:
    """Each page's Content-Security-Policy defaults to nothing and names no host, scheme or inline source."""
    for page in sorted(site.rglob("*.html")):
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        assert len(parser.csp) == 1, page
        directives = {d.split()[0]: d.split()[1:] for d in parser.csp[0].split(";") if d.strip()}
        assert directives["default-src"] == ["'none'"], page
        for name, sources in directives.items():
            assert set(sources) <= {"'self'", "'none'"}, f"{page}: {name} {sources}"


def test_assets_load_nothing_from_another_host(site: Path) -> None:
    """Stylesheets import no outside fonts or images, and scripts name no outside URL."""
    assets = site / "assets"
    for css in sorted(assets.glob("*.css")):
        text = css.read_text(encoding="utf-8")
        assert "@import" not in text, css
        assert not [u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) if is_other_host(u)], css
    for script in sorted(assets.glob("*.js")):
        text = script.read_text(encoding="utf-8")
        assert "://" not in text, f"{script} names an absolute URL"
        assert not re.search(r"^\s*import\s", text, re.M), f"{script} imports other code"

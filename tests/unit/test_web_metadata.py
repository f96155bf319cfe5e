"""Paper pages carry Scholar, Open Graph and schema.org metadata, escaped for their context."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.build.pipeline import build_site
from tests.conftest import alias_target
from tests.e2e.visitor_site import seed_content, seed_paper
from tests.synth import SigningKey

SEED_SUFFIX = "3BA52NFJTLFMVFHQMNWVXCSHM7"
SEED_AUTHORS = [
    "Bill Shi", "Chengke Bao", "Chuan Wu", "Haofeng Xu", "Jie Xiao", "Jingwei Shi",
    "Jingwei Song", "Linfeng Zhang", "Pengbin Feng", "Weixun Wang", "Yuhang Han",
]  # fmt: skip
HOSTILE_TITLE = '</script><script>alert("t")</script> & "quotes" <b>'


class _Head(HTMLParser):
    """Meta tags, links and scripts of a page's <head>, decoded as a browser reads them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: list[tuple[str, str]] = []
        self.links: list[tuple[str, str]] = []
        self.scripts: list[tuple[str, str]] = []
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("name" in values or "property" in values):
            self.meta.append((values.get("name") or values["property"], values.get("content", "")))
        elif tag == "link":
            self.links.append((values.get("rel", ""), values.get("href", "")))
        elif tag == "script":
            self._script = values.get("type", "")
            self.scripts.append((self._script, ""))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def values(self, name: str) -> list[str]:
        return [content for key, content in self.meta if key == name]

    def json_ld(self) -> dict[str, object]:
        blocks = [text for kind, text in self.scripts if kind == "application/ld+json"]
        assert len(blocks) == 1
        document = json.loads(blocks[0])
        assert isinstance(document, dict)
        return document


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed and a paper whose title tries to break out of HTML and JSON."""
    root = tmp_path_factory.mktemp("metadata")
    key = SigningKey.from_seed(b"\x09" * 32, "metadata-test-key")
    hostile = seed_paper(
        key, "2610.00001", HOSTILE_TITLE, ['Eve "</script>" O\'Hacker'], submitted_at="2026-10-01T00:00:00Z"
    )
    content = seed_content(
        root / "content", "base_url: /mirror/\n", extra={"hostile.state.json": hostile}, keys=(key,)
    )
    build_site(content, root / "site", jobs=1)
    return root / "site"


def head_of(site: Path, suffix: str) -> _Head:
    parser = _Head()
    parser.feed((site / "pith" / suffix / "index.html").read_text(encoding="utf-8"))
    return parser


def hostile_suffix(site: Path) -> str:
    return alias_target(site, "arxiv/2610.00001").rsplit(":", 1)[1]


def test_scholar_tags_name_only_verified_values(site: Path) -> None:
    """Google Scholar tags: title, date, arXiv id and DOI (all bound to the signature); no
    citation_author, since the authors are only stated by the registry."""
    head = head_of(site, SEED_SUFFIX)
    assert head.values("citation_title") == ["Staleness-Learning Rate Scaling Laws for Asynchronous RLHF"]
    assert head.values("citation_author") == []
    assert head.values("citation_publication_date") == ["2026/07/01"]
    assert head.values("citation_arxiv_id") == ["2607.01083"]
    assert head.values("citation_doi") == ["10.48550/arxiv.2607.01083"]


def test_canonical_and_open_graph_point_at_the_registry_page(site: Path) -> None:
    """The canonical link and og:url are the registry's own page for the paper, not this mirror's."""
    head = head_of(site, SEED_SUFFIX)
    registry_page = f"https://pith.science/pith/{SEED_SUFFIX}"
    assert ("canonical", registry_page) in head.links
    assert head.values("og:url") == [registry_page]
    assert head.values("og:type") == ["article"]
    assert head.values("og:title") == head.values("citation_title")
    description = head.values("og:description")[0]
    assert description.startswith(f"Verified Pith record pith:2026:{SEED_SUFFIX} of 2607.01083. ")
    assert (
        "Abstract excerpt, stated by the registry (not signed): High-throughput RLHF systems" in description
    )


def test_json_ld_is_a_scholarly_article_with_its_identifiers(site: Path) -> None:
    """schema.org JSON-LD: a ScholarlyArticle with its Pith number, arXiv id and DOI, and no value
    the signature does not bind (authors, abstract)."""
    document = head_of(site, SEED_SUFFIX).json_ld()
    assert document["@type"] == "ScholarlyArticle"
    assert "author" not in document and "abstract" not in document
    assert {(i["propertyID"], i["value"]) for i in document["identifier"]} == {  # type: ignore[index, union-attr]
        ("Pith number", f"pith:2026:{SEED_SUFFIX}"),
        ("arXiv", "2607.01083"),
        ("DOI", "10.48550/arxiv.2607.01083"),
    }
    assert document["sameAs"] == [
        "https://arxiv.org/abs/2607.01083",
        "https://doi.org/10.48550/arxiv.2607.01083",
    ]


def test_hostile_title_stays_data_in_every_context(site: Path) -> None:
    """A title with </script>, quotes and markup comes back intact from meta tags and JSON-LD, and adds no script."""
    head = head_of(site, hostile_suffix(site))
    assert head.values("citation_title") == [HOSTILE_TITLE]
    assert head.values("og:title") == [HOSTILE_TITLE]
    assert head.json_ld()["name"] == HOSTILE_TITLE
    assert [kind for kind, _ in head.scripts] == ["application/ld+json", "module"]

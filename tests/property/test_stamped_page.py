"""A page rendered once and filled in per use has exactly the bytes of a full Jinja render."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen.build.paper_job import Redirect, redirect_pages
from sitegen.errors import BuildError
from sitegen.pith.report import Verdict
from sitegen.render.templates import TEMPLATES_DIR, Renderer
from sitegen.site.config import SiteConfig
from tests.summaries import summary_of

_RENDERER = Renderer(SiteConfig(title="Mirror <&> \u202e", base_url="https://m.example/x/"))
_SUMMARY = summary_of(
    input="states/a.state.json",
    verdict=Verdict.VERIFIED,
    suffix="ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    pith_number="pith:2026:ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    title="t",
    authors=(),
    primary_cat="cs.LG",
    cross_cats=(),
    submitted_at="2026-01-01T00:00:00Z",
    source_id="2601.00001",
    canonical_sha256="0" * 64,
    aliases=(),
    integrity_endpoint="",
    integrity_sha256="0" * 64,
    input_sha256="0" * 64,
)
_hostile_text = st.lists(
    st.sampled_from(
        ["a", " ", "<", ">", "&", '"', "'", "\u202e", "\x07", "\x85", "é", "SitegenSlot0Zq", "{{"]
    ),
    max_size=12,
).map("".join)


@given(
    value=_hostile_text,
    pith_number=_hostile_text,
    suffix=st.text(st.sampled_from("ABCXYZ234567"), min_size=1, max_size=26),
    verdict=st.sampled_from(list(Verdict)),
    page_dirs=st.lists(
        st.sampled_from(["pith/ABCDEFGH", "arxiv/2401.00001", "arxiv/hep-th/9901001", "doi/10.1/a/b(c)"]),
        min_size=1,
        max_size=4,
    ),
)
def test_redirect_pages_filled_in_equal_full_renders(
    value: str, pith_number: str, suffix: str, verdict: Verdict, page_dirs: list[str]
) -> None:
    """Markup, control and bidi characters in any value, at any depth, end up exactly as a full render prints them."""
    summary = replace(_SUMMARY, pith_number=pith_number, suffix=suffix, verdict=verdict)
    redirects = [Redirect(directory=d, kind="doi", value=f"{value}{n}") for n, d in enumerate(page_dirs)]
    stamped = redirect_pages(_RENDERER, redirects, summary)
    assert stamped == [
        _RENDERER.page(
            "redirect.html",
            PurePosixPath(r.directory),
            pith_number=pith_number,
            suffix=suffix,
            alias_kind=r.kind,
            alias_value=r.value,
            verdict=verdict.value,
        )
        for r in redirects
    ]


def test_a_template_that_transforms_a_value_is_refused(tmp_path: Path) -> None:
    """A filter applied to a filled-in value would be silently lost, so the stamp refuses it."""
    shutil.copy(TEMPLATES_DIR / "_macros.html", tmp_path)
    (tmp_path / "upper.html").write_text("<p>{{ name|upper }}</p>\n")
    renderer = Renderer(SiteConfig(), templates_dir=tmp_path)
    with pytest.raises(BuildError, match="transforms a value"):
        renderer.stamped_pages("upper.html", ["a"], {"name": "x"}, lambda values: dict(values))

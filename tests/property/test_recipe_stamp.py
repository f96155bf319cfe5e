"""The shell recipe filled in per paper prints exactly what including ``_recipe.sh`` printed.

The recipe is rendered once a build with placeholders (``Renderer.stamped_text``); these
tests compare it with a full include for hostile values and for sites whose URLs hold
quotes, and check the hex-or-note choice that moved from the template into Python.
"""

from __future__ import annotations

import shlex

from hypothesis import given
from hypothesis import strategies as st

from sitegen.build.paper_job import _hex_or_note, _shell_quoted
from sitegen.render.templates import Renderer
from sitegen.site.config import SiteConfig

_RENDERERS = [
    Renderer(SiteConfig()),
    Renderer(SiteConfig(base_url="https://mirror.example/it's/", registry_url="https://r.example/a'b/")),
    Renderer(SiteConfig(base_url="/sub/<dir>/", registry_url="https://r.example")),
]
hostile = st.lists(
    st.sampled_from(
        ["a", "0", "f", " ", "<", ">", "&", '"', "'", "\u202e", "\x07", "\x85", "é", "SitegenSlot1Zq"]
    ),
    max_size=12,
).map("".join)
hexish = hostile | st.sampled_from([31, 32, 33, 63, 64, 65]).flatmap(
    lambda n: st.text(st.sampled_from("0123456789abcdefA \u0660"), min_size=n, max_size=n)
)
"""Near-digests: the right or nearly the right length, sometimes with a character that is not lower-case hex."""

ORIGINAL_HEX64 = (
    "{{ h if h|length == 64 and not h.strip('0123456789abcdef') else '(not stated as 64 hex digits)' }}"
)
ORIGINAL_FP32 = (
    "{{ f if f|length == 32 and not f.strip('0123456789abcdef') else '(not stated as 32 hex digits)' }}"
)


_RECIPE_VALUES = (
    "suffix",
    "pith_number",
    "hex64",
    "source_id",
    "source_version",
    "title",
    "title_note",
    "fp32",
    "verdict",
    "failed_checks",
)


@given(
    site=st.sampled_from(range(len(_RENDERERS))),
    values=st.fixed_dictionaries(dict.fromkeys(_RECIPE_VALUES, hostile)),
)
def test_stamped_recipe_equals_the_include(site: int, values: dict[str, str]) -> None:
    """Markup, quotes, control and bidi characters in any value end up exactly as the include printed them."""
    renderer = _RENDERERS[site]
    stamped = renderer.env.from_string("{{ recipe }}").render(
        recipe=renderer.stamped_text("_recipe.sh", values)
    )
    included = renderer.env.from_string('{% include "_recipe.sh" %}').render(**values)
    assert stamped == included


@given(text=hostile | st.text())
def test_shell_quoted_is_one_word_that_bash_reads_back_exactly(text: str) -> None:
    """A value from a state file, quoted for the recipe, is one bash word whose value is the text itself."""
    word = _shell_quoted(text.replace("\x00", ""))  # bash strings cannot hold NUL
    assert shlex.split(word) == [text.replace("\x00", "")]


@given(value=hexish)
def test_hex_or_note_equals_the_original_template_test(value: str) -> None:
    """64 and 32 lower-case hex digits pass through; anything else becomes the same note as before."""
    env = _RENDERERS[0].env
    printed = env.from_string("{{ v }}")
    assert printed.render(v=_hex_or_note(value, 64)) == env.from_string(ORIGINAL_HEX64).render(h=value)
    assert printed.render(v=_hex_or_note(value, 32)) == env.from_string(ORIGINAL_FP32).render(f=value)

"""The nesting depth walked on a parsed value equals the depth read off its text's brackets."""

from __future__ import annotations

import json
import re
from itertools import accumulate

from hypothesis import given, settings

from sitegen.pith.parse import _deepest_nesting
from tests.strategies import json_values

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def _depth_of_text(text: str) -> int:
    """The former reading: brackets outside strings, counted up and down."""
    brackets = re.sub(r"[^][{}]+", "", _JSON_STRING.sub("", text))
    return max(accumulate({"[": 1, "{": 1, "]": -1, "}": -1}[c] for c in brackets), default=0)


@settings(max_examples=300)
@given(json_values)
def test_walked_depth_equals_the_brackets_outside_strings(value: object) -> None:
    """Objects, arrays, scalars and strings full of brackets: both readings agree."""
    text = json.dumps(value)
    assert _deepest_nesting(json.loads(text)) == _depth_of_text(text)

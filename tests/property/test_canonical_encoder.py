"""``canonical_bytes`` is the stdlib recipe of ``docs/pith-format.md`` byte for byte, whichever encoder writes it.

JSON's own types go to orjson; these tests hold both paths to
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.canonical import canonical_bytes, is_plain_json
from tests.strategies import json_values

_hostile = st.text(
    st.sampled_from("\"\\/<>&'\x00\x07\x1f\x7f\x85\u2028\u2029\u202e\ufeff\U0001f600\ue000\uffffé\n\t"),
    max_size=8,
)
"""Characters an encoder must escape or must leave alone, and keys whose order differs by code unit."""
_documents = st.recursive(
    st.none() | st.booleans() | st.integers() | _hostile,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_hostile, children, max_size=5),
    max_leaves=30,
)


def _stdlib(value: object) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


@settings(max_examples=300, deadline=None)
@given(_documents | json_values)
def test_canonical_bytes_equal_the_stdlib_recipe(value: object) -> None:
    """Any JSON value (hostile strings, astral and private-use keys, huge ints, floats) gives the recipe's bytes."""
    assert canonical_bytes(value) == _stdlib(value)


def test_the_fast_path_takes_only_json_own_types() -> None:
    """Floats, tuples' elements of other types and subclasses are not plain; plain containers are."""
    assert is_plain_json({"a": [1, "x", None, True, {"b": ()}]})
    assert not is_plain_json({"a": [1.5]})
    assert not is_plain_json({"a": type("S", (str,), {})("x")})


def test_nan_is_still_refused() -> None:
    """NaN is not JSON: the recipe refuses it, on whichever path."""
    with pytest.raises(ValueError):
        canonical_bytes({"a": float("nan")})

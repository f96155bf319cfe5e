"""``json_bytes`` and ``compact_json`` write exactly the bytes of ``json.dumps``, only faster.

Both hand JSON's own types to orjson and everything else to ``json``; these tests hold
the two paths to the standard encoder's bytes, hostile strings and edge values included.
"""

from __future__ import annotations

import enum
import io
import json
from collections import OrderedDict

from hypothesis import given
from hypothesis import strategies as st

from sitegen.pith.parse import DEFAULT_LIMITS, _load_json
from sitegen.render.templates import compact_json, is_plain_json, json_bytes, write_json

_hostile = st.text(
    st.sampled_from("\"\\/<>&'\x00\x07\x1f\x7f\x85\u2028\u2029\u202e\ufeff\U0001f600é\n\t"), max_size=8
)
"""Characters every JSON encoder must escape, or must not: quotes, controls, line separators, bidi, astral."""
_scalars = st.none() | st.booleans() | st.integers() | st.text() | _hostile
_documents = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=30,
)


def _reference(value: object) -> bytes:
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _compact_reference(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Kind(enum.StrEnum):
    PAPER = "paper"


class _Count(int):
    """An int subclass: ``json`` writes its int value, whatever its repr says."""

    def __repr__(self) -> str:
        return "not-a-number"


_unusual = st.sampled_from(
    [
        {"kind": _Kind.PAPER},
        {"n": _Count(7)},
        {"huge": 2**64, "negative": -(2**70)},
        {1: "int key", 2: None},
        OrderedDict([("b", 1), ("a", 2)]),
        {"t": ("a", ("b",))},
        {"f": 1e-07, "g": 1e16, "z": -0.0},
    ]
)


@given(_documents)
def test_json_bytes_equals_the_standard_encoder(value: object) -> None:
    """Any JSON document (control characters, non-ASCII, nesting, empty containers) encodes identically."""
    assert json_bytes(value) == _reference(value)


@given(_documents)
def test_compact_json_equals_the_standard_encoder(value: object) -> None:
    """The one-line form too: same bytes as ``json.dumps`` with no spaces."""
    assert compact_json(value) == _compact_reference(value)


@given(_unusual)
def test_values_orjson_would_write_differently_take_the_standard_path(value: object) -> None:
    """Enums, int subclasses, ints past 64 bits, non-string keys, dict subclasses, floats: same bytes."""
    assert json_bytes(value) == _reference(value)
    assert compact_json(value) == _compact_reference(value)


@given(st.dictionaries(st.text(max_size=4), st.floats(allow_nan=True) | st.integers(), min_size=1))
def test_values_json_handles_itself_still_encode_identically(value: dict[str, float | int]) -> None:
    """Floats (including NaN and infinities) take the standard encoder's path: same bytes."""
    assert json_bytes(value) == _reference(value)


@given(_documents | st.dictionaries(st.text(max_size=4), st.floats() | st.integers(), max_size=3))
def test_write_json_streams_the_same_bytes(value: object) -> None:
    """Streaming a document to a file (after other bytes) writes exactly ``json_bytes`` of it."""
    handle = io.BytesIO()
    handle.write(b"before")
    write_json(value, handle)
    assert handle.getvalue() == b"before" + _reference(value)


def test_the_fast_path_takes_only_json_own_types() -> None:
    """Floats and subclasses of str are not plain JSON; plain containers of JSON's own types are."""
    assert is_plain_json({"a": [1, "x", None, True, {"b": ()}]})
    assert not is_plain_json({"a": [1.5]})
    assert not is_plain_json({"a": type("S", (str,), {})("x")})


_parsed_documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=30,
)


@given(_parsed_documents)
def test_a_parsed_document_without_floats_is_plain_so_the_endpoints_need_not_walk_it(value: object) -> None:
    """``ParsedState.has_floats`` is False exactly when the parsed value is plain JSON (what ``plain=`` vouches)."""

    data = json.dumps({"document": value}, ensure_ascii=False).encode("utf-8")
    parsed, has_floats = _load_json(data, "doc.json", DEFAULT_LIMITS)
    assert has_floats is (not is_plain_json(parsed))
    if not has_floats:
        assert json_bytes(parsed, plain=True) == _reference(parsed)
        assert compact_json(parsed, plain=True) == _compact_reference(parsed)

"""``json_bytes`` writes exactly the bytes of ``json.dumps(..., sort_keys, indent=2)``, only faster."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st

from sitegen.render import json_bytes, write_json

_scalars = st.none() | st.booleans() | st.integers() | st.text()
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


@given(_documents)
def test_json_bytes_equals_the_standard_encoder(value: object) -> None:
    """Any JSON document (control characters, non-ASCII, nesting, empty containers) encodes identically."""
    assert json_bytes(value) == _reference(value)


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

"""The incremental cache finds its index line (the last line) at any size and block boundary."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

import sitegen.cache
from sitegen.cache import _last_line


@settings(max_examples=200)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=5),
    last=st.binary(max_size=120).map(lambda b: b.replace(b"\n", b"")),
    block=st.integers(min_value=1, max_value=16),
)
def test_last_line_is_found_across_blocks(lines: list[bytes], last: bytes, block: int) -> None:
    """Whatever the block size, the bytes after the last-but-one newline come back whole."""
    data = b"".join(line + b"\n" for line in lines) + last + b"\n"
    original = sitegen.cache._TAIL_BLOCK
    sitegen.cache._TAIL_BLOCK = block
    try:
        assert _last_line(io.BytesIO(data)) == last + b"\n"
    finally:
        sitegen.cache._TAIL_BLOCK = original

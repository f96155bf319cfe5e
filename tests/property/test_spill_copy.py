"""A reused run's bytes are copied exactly; spilled summaries survive the copy and the codec whole.

An incremental build copies the records of the papers it reuses from the previous
build's streams a byte range at a time (``copy_range``), in the kernel or, where the
file system refuses, through memory: either way the copy must be exactly those bytes.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.build.paper_job import PaperSummary
from sitegen.build.spill import SummarySpill, copy_range
from tests.strategies import summaries

_SUMMARIES = summaries()
"""Any text a summary can hold: the parser refuses lone surrogates, and input names must be UTF-8."""


def _refuse_copy_file_range(*_: object) -> int:
    raise OSError(errno.EXDEV, "cross-device")


@pytest.mark.parametrize("in_kernel", [True, False], ids=["copy_file_range", "through memory"])
@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=3000),
    prefix=st.binary(max_size=50),
    cut=st.tuples(st.integers(0, 3000), st.integers(0, 3000)),
)
def test_copy_range_appends_exactly_the_range(
    in_kernel: bool, data: bytes, prefix: bytes, cut: tuple[int, int]
) -> None:
    """What is already in the target stays; the range follows it byte for byte; writes go on after it."""
    start, count = min(cut[0], len(data)), cut[1]
    count = min(count, len(data) - start)
    with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as target:
        source.write(data)
        source.flush()
        target.write(prefix)  # buffered, not yet flushed: copy_range must flush it first
        original = os.copy_file_range
        if not in_kernel:
            os.copy_file_range = _refuse_copy_file_range  # type: ignore[assignment]
        try:
            copy_range(source.fileno(), target, start, count)
        finally:
            os.copy_file_range = original
        target.write(b"after")
        target.seek(0)
        assert target.read() == prefix + data[start : start + count] + b"after"


def test_copy_range_refuses_a_source_that_ends_early(tmp_path: Path) -> None:
    """A stream shorter than the cache's index says is an error, never a short copy."""
    (tmp_path / "short").write_bytes(b"0123456789")
    fd = os.open(tmp_path / "short", os.O_RDONLY)
    try:
        with (tmp_path / "target").open("w+b") as target, pytest.raises(OSError, match="early"):
            copy_range(fd, target, 4, 20)
    finally:
        os.close(fd)


@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(_SUMMARIES, max_size=4),
    copied=st.lists(_SUMMARIES, min_size=1, max_size=6),
    after=st.lists(_SUMMARIES, max_size=4),
)
def test_records_copied_between_spills_read_back_equal(
    before: list[PaperSummary], copied: list[PaperSummary], after: list[PaperSummary]
) -> None:
    """Records copied from one spill's file into another, between appended ones, decode to the same summaries."""
    with tempfile.TemporaryFile() as old_file, tempfile.TemporaryFile() as new_file:
        old = SummarySpill(old_file)
        lengths = [old.append(summary) for summary in copied]
        old_file.flush()
        new = SummarySpill(new_file)
        for summary in before:
            new.append(summary)
        new.copy_records(old_file.fileno(), 0, lengths)
        for summary in after:
            new.append(summary)
        assert list(new) == [*before, *copied, *after]
        assert [new[n] for n in reversed(range(len(new)))] == list(reversed([*before, *copied, *after]))


@settings(max_examples=40, deadline=None)
@given(
    first=st.lists(_SUMMARIES, max_size=4),
    second=st.lists(_SUMMARIES, max_size=4),
    appended=st.lists(_SUMMARIES, max_size=4),
)
def test_records_adopted_where_they_lie_read_back_in_their_new_order(
    first: list[PaperSummary], second: list[PaperSummary], appended: list[PaperSummary]
) -> None:
    """A spill over a file that holds an earlier spill's records numbers them where they are, in any
    order, beside records it appends after them: every summary reads back by number and in order."""
    with tempfile.TemporaryFile() as file:
        old = SummarySpill(file)
        first_lengths = [old.append(summary) for summary in first]
        second_lengths = [old.append(summary) for summary in second]
        file.write(b"bytes no record holds\n")
        file.flush()
        new = SummarySpill(file, end=file.tell())
        for summary in appended[:1]:
            new.append(summary)
        new.adopt_records(sum(first_lengths), second_lengths)  # the second run first, then the first
        new.adopt_records(0, first_lengths)
        for summary in appended[1:]:
            new.append(summary)
        expected = [*appended[:1], *second, *first, *appended[1:]]
        assert list(new) == expected
        assert [new[n] for n in range(len(new))] == expected

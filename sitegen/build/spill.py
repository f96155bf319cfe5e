"""Paper summaries kept in a temporary file rather than in memory (layer 5).

The site-wide step of a whole build or merge needs every paper's ``PaperSummary``
(larger still as Python objects than encoded), but only a page's worth
at a time. ``SummarySpill`` appends them to an anonymous temporary file as they
arrive, in input order, and keeps only where each record is (16 bytes a paper);
``SummarySpill.view`` reads them back in any order (an ``array`` of record numbers),
one page at a time.

Records are JSON arrays of the summary's fields (orjson: faster here than pickle,
and safe to read back from a file that outlives the process: a whole build's spill is
kept as part of its incremental cache, and the next build numbers the records of the
papers it reuses where they are, ``adopt_records``, or copies them a byte range at a time,
``copy_records``, without decoding them).

A record is two arrays on one line each: the *head*, the few short fields the passes over
every paper read (orders, claims, listings, alias map, integrity endpoints), then the rest
(title, authors, search keys: most of the bytes). A pass asking only for head fields
(``fields``) decodes the head alone; orjson never writes a raw newline, so the first one
ends the head.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from typing import IO, Any, overload

import orjson

from sitegen.build.paper_job import SUMMARY_FIELDS, PaperSummary, summary_from_json, summary_json

__all__ = [
    "HEAD_DIGEST_SIZE",
    "HEAD_FIELDS",
    "LAST_RECORD",
    "SummarySpill",
    "SummaryView",
    "copy_range",
    "decode_record",
    "head_digest",
    "head_fields",
    "made_of",
    "order_key",
    "order_texts",
    "record_numbers",
]

_READ_BLOCK = 1 << 20
LAST_RECORD = 0xFFFFFFFF
"""The greatest record number (they are stored in 4 bytes)."""


HEAD_FIELDS = (
    "input",
    "verdict",
    "suffix",
    "pith_number",
    "submitted_at",
    "source_id",
    "integrity_endpoint",
    "integrity_sha256",
    "input_sha256",
    "aliases",
    "alias_paths",
    "alias_hashes",
)
"""The summary fields a record's head holds (see the module's docstring)."""
_RECORD_FIELDS = HEAD_FIELDS + tuple(name for name in SUMMARY_FIELDS if name not in HEAD_FIELDS)
_TO_RECORD = [SUMMARY_FIELDS.index(name) for name in _RECORD_FIELDS]
_FROM_RECORD = [_RECORD_FIELDS.index(name) for name in SUMMARY_FIELDS]


def _encode(summary: PaperSummary) -> bytes:
    values = summary_json(summary)
    in_order = [values[at] for at in _TO_RECORD]
    head = len(HEAD_FIELDS)
    return orjson.dumps(in_order[:head]) + b"\n" + orjson.dumps(in_order[head:])


def _head(data: bytes) -> bytes:
    """A record's head: its bytes up to the first newline.

    Raises:
        ValueError: not a record (no newline).
    """
    return data[: data.index(b"\n")]


def _record_values(data: bytes) -> list[Any]:
    """Every field of a record, in ``_RECORD_FIELDS`` order.

    Raises:
        ValueError: not a record.
    """
    head = _head(data)
    values: list[Any] = orjson.loads(head) + orjson.loads(data[len(head) + 1 :])
    return values


def decode_record(data: bytes) -> PaperSummary:
    """The summary a record (``SummarySpill.record``) holds.

    Raises:
        ValueError, TypeError, KeyError: ``data`` is not a record.
    """
    values = _record_values(data)
    return summary_from_json([values[at] for at in _FROM_RECORD])


def _head_values(data: bytes) -> list[Any]:
    """The head fields of a record (``HEAD_FIELDS`` order), the rest left undecoded."""
    values: list[Any] = orjson.loads(_head(data))
    return values


HEAD_DIGEST_SIZE = 16
"""The bytes of a ``head_digest``."""


def head_digest(head: bytes) -> bytes:
    """A digest of a record's head (its bytes before the first newline): the files made of head
    fields alone (alias bins) note what they are made of with it (``SiteOrders.head_digests``)."""
    return hashlib.blake2b(head, digest_size=HEAD_DIGEST_SIZE).digest()


def head_fields(head: bytes, *names: str) -> tuple[Any, ...]:
    """The fields ``names`` (head fields only) of a record's head, the bytes before its first
    newline, as ``SummarySpill.fields`` gives them.

    Raises:
        ValueError: a name is not a head field, or ``head`` is not JSON.
    """
    pick, decode = _picker(names)
    if decode is not _head_values:
        raise ValueError(f"not all head fields: {names}")
    return pick(orjson.loads(head))


def copy_range(source: int, target: IO[bytes], start: int, count: int) -> None:
    """Append ``count`` bytes of file descriptor ``source`` from offset ``start`` to ``target``.

    In the kernel where it can (``copy_file_range``: the bytes never enter this process),
    else read and written a block at a time.

    Raises:
        OSError: ``source`` ends before ``start + count``, or a read or write failed.
    """
    target.flush()
    fd = target.fileno()
    end = start + count
    while start < end:
        try:
            copied = os.copy_file_range(source, fd, end - start, start)
        except OSError as exc:
            if exc.errno not in _NO_COPY_RANGE:
                raise
            copied = os.write(fd, os.pread(source, min(end - start, _READ_BLOCK), start))
        if copied == 0:
            raise OSError(errno.EIO, f"the file ends {end - start} bytes early")
        start += copied
    target.seek(0, os.SEEK_END)  # the buffered file learns where its descriptor now is


_NO_COPY_RANGE = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF})
"""``copy_file_range`` refused for these file systems or files: copy through memory instead."""


class SummarySpill:
    """Summaries numbered in input order (record numbers 0, 1, ...), read back by number.

    ``file``: where the records go; an anonymous temporary file by default. ``end``: where
    appending starts in it (the incremental cache's stream can already hold the records of
    the last build, which ``adopt_records`` numbers where they are instead of copying them).
    """

    def __init__(self, file: IO[bytes] | None = None, end: int = 0) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile() if file is None else file  # noqa: SIM115 (closed by close())
        self._starts = array("Q")
        self._ends = array("Q")
        self._end = end
        self._unflushed = False

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def end(self) -> int:
        """Where the next appended record starts in the file."""
        return self._end

    def append(self, summary: PaperSummary) -> int:
        """Add a summary; returns its record's length in bytes."""
        data = _encode(summary)
        self._file.write(data)
        self._starts.append(self._end)
        self._end += len(data)
        self._ends.append(self._end)
        self._unflushed = True
        return len(data)

    def copy_records(self, source: int, start: int, lengths: Sequence[int]) -> None:
        """Append records another spill's file holds back to back from ``start`` (``lengths`` bytes each)."""
        copy_range(source, self._file, start, sum(lengths))
        self._number(self._end, lengths)
        self._end += sum(lengths)

    def adopt_records(self, start: int, lengths: Sequence[int]) -> None:
        """Number the next records as the ones this spill's file already holds back to back from
        ``start`` (``lengths`` bytes each), where they are."""
        self._number(start, lengths)

    def _number(self, start: int, lengths: Sequence[int]) -> None:
        starts, ends = self._starts, self._ends
        for length in lengths:
            starts.append(start)
            start += length
            ends.append(start)

    def _read(self, start: int, end: int) -> bytes:
        if self._unflushed:
            self._file.flush()
            self._unflushed = False
        return os.pread(self._file.fileno(), end - start, start)

    def __getitem__(self, number: int) -> PaperSummary:
        return decode_record(self.record(number))

    def __iter__(self) -> Iterator[PaperSummary]:
        """Every summary in input order, read a block at a time."""
        return map(decode_record, self._records())

    def fields(self, *names: str) -> Iterator[tuple[Any, ...]]:
        """The fields ``names`` of every summary in input order, as JSON has them (lists for
        tuples, the verdict's value): a pass that needs a few fields skips making whole
        summaries, and one that needs only ``HEAD_FIELDS`` decodes only each record's head."""
        pick, decode = _picker(names)
        return (pick(decode(record)) for record in self._records())

    def heads_and_fields(self, *names: str) -> Iterator[tuple[bytes, tuple[Any, ...]]]:
        """Each record's head (the encoded ``HEAD_FIELDS``) in number order, with the fields
        ``names`` (as ``fields`` gives them; head fields only): for a digest of what a file made of
        head fields is made of, and what it needs.

        Raises:
            ValueError: a name is not a head field.
        """
        return _heads_and_fields(self._records(), names)

    def _records(self) -> Iterator[bytes]:
        """Every record in number order, records that lie back to back read a block at a time."""
        starts, ends, count = self._starts, self._ends, len(self)
        number = 0
        while number < count:
            block_start = starts[number]
            last = number + 1  # a record larger than a block is read alone
            while last < count and starts[last] == ends[last - 1] and ends[last] - block_start <= _READ_BLOCK:
                last += 1
            block = self._read(block_start, ends[last - 1])
            for at in range(number, last):
                yield block[starts[at] - block_start : ends[at] - block_start]
            number = last

    def fields_of(self, number: int, *names: str) -> tuple[Any, ...]:
        """The fields ``names`` of summary ``number``, as ``fields`` gives them."""
        pick, decode = _picker(names)
        return pick(decode(self.record(number)))

    def record(self, number: int) -> bytes:
        """The encoded record of summary ``number``."""
        if not 0 <= number < len(self):
            raise IndexError(number)
        return self._read(self._starts[number], self._ends[number])

    def head(self, number: int) -> bytes:
        """The head of record ``number`` (its encoded ``HEAD_FIELDS``)."""
        return _head(self.record(number))

    def view(self, order: array[int]) -> SummaryView:
        """The summaries in the order of the record numbers ``order``, read as they are asked for."""
        return SummaryView(self, order)

    def close(self) -> None:
        self._file.close()


class SummaryView(Sequence[PaperSummary]):
    """A read-only sequence of spilled summaries in a given order (slices are read into lists)."""

    def __init__(self, spill: SummarySpill, order: array[int]) -> None:
        self._spill = spill
        self._order = order

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> PaperSummary: ...
    @overload
    def __getitem__(self, index: slice) -> list[PaperSummary]: ...
    def __getitem__(self, index: int | slice) -> PaperSummary | list[PaperSummary]:
        if isinstance(index, slice):
            return [self._spill[number] for number in self._order[index]]
        return self._spill[self._order[index]]

    def __iter__(self) -> Iterator[PaperSummary]:
        spill = self._spill
        for number in self._order:
            yield spill[number]

    def heads_and_fields(self, *names: str) -> Iterator[tuple[bytes, tuple[Any, ...]]]:
        """``SummarySpill.heads_and_fields`` in this view's order."""
        return _heads_and_fields(map(self._spill.record, self._order), names)

    def fields(self, *names: str) -> Iterator[tuple[Any, ...]]:
        """``SummarySpill.fields`` in this view's order."""
        (pick, decode), record = _picker(names), self._spill.record
        return (pick(decode(record(number))) for number in self._order)


def _heads_and_fields(
    records: Iterable[bytes], names: tuple[str, ...]
) -> Iterator[tuple[bytes, tuple[Any, ...]]]:
    pick, decode = _picker(names)
    if decode is not _head_values:
        raise ValueError(f"not all head fields: {names}")
    return ((head, pick(orjson.loads(head))) for head in map(_head, records))


def _picker(
    names: tuple[str, ...],
) -> tuple[Callable[[list[Any]], tuple[Any, ...]], Callable[[bytes], list[Any]]]:
    """A function taking the fields ``names`` (in that order) out of a record's decoded list, and
    the decoder to give it that list with: the head's alone where it holds them all."""
    indices = [_RECORD_FIELDS.index(name) for name in names]
    decode = _head_values if max(indices) < len(HEAD_FIELDS) else _record_values
    if len(indices) == 1:
        (only,) = indices
        return (lambda values: (values[only],)), decode
    pick: Callable[[list[Any]], tuple[Any, ...]] = itemgetter(*indices)
    return pick, decode


def made_of(fields: object, records: Iterable[bytes]) -> str:
    """A digest of what a site-wide file is made of (``StagedSite.write_made``): ``fields``, JSON
    values of its own, and the spill records (``SummarySpill.record``) of its papers, in order.

    A record holds every field of a summary, so two files with equal digests are made of
    equal summaries; each record is hashed with its length, so no two lists hash alike by
    running into each other.
    """
    digest = hashlib.blake2b(orjson.dumps(fields), digest_size=20)
    for record in records:
        digest.update(len(record).to_bytes(4, "big"))
        digest.update(record)
    return digest.hexdigest()


def order_key(*texts: str) -> bytes:
    """Bytes that sort as the tuple ``texts`` does (code point order, shorter first).

    Sort orders over every paper are built from these, a bytes object a paper, then
    kept as an array of record numbers (``record_numbers``). UTF-8 keeps code point
    order; each text ends with a 0 byte (0 and 1 inside are escaped as 1 1 and 1 2),
    so a text sorts before every longer text it begins.
    """
    return b"".join(
        t.encode("utf-8", "surrogatepass").replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01")
        + b"\x00"
        for t in texts
    )


def order_texts(key: bytes) -> list[str]:
    """The texts an ``order_key`` was made of (without a record number after them)."""
    return [
        part.replace(b"\x01\x01", b"\x00").replace(b"\x01\x02", b"\x01").decode("utf-8", "surrogatepass")
        for part in key.split(b"\x00")[:-1]
    ]


def record_numbers(keys: list[bytes]) -> array[int]:
    """The record numbers that end each of ``keys`` (4 bytes, big-endian), in the keys' order."""
    return array("I", (int.from_bytes(key[-4:], "big") for key in keys))

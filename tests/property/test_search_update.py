"""A patched search index is the index a whole rebuild makes, byte for byte, or it is not patched.

The layout's sizes are made tiny here (shards of a few terms, common words from five papers,
chunks of two entries), so that a few dozen papers have every case: shards cut and joined,
words that become common and stop being common, chunks cut again, record files emptied.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import random
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.build.paper_job import PaperSummary
from sitegen.pith.report import Verdict
from sitegen.render import search_index
from sitegen.render.search_index import IndexState, search_files
from sitegen.render.search_update import update_index
from tests.summaries import summary_of

WORDS = [f"w{n}" for n in range(24)]
Files = dict[PurePosixPath, bytes]


@contextlib.contextmanager
def tiny_layout() -> Iterator[None]:
    with (
        mock.patch.object(search_index, "TERM_SHARD_BYTES", 120),
        mock.patch.object(search_index, "MAX_SHARD_BYTES", 480),
        mock.patch.object(search_index, "OWN_FILE_POSTINGS", 5),
        mock.patch.object(search_index, "COMMON_CHUNK_ENTRIES", 2),
    ):
        yield


def paper(number: int, words: Sequence[int], month: int) -> PaperSummary:
    suffix = (
        hashlib.sha256(str(number).encode()).hexdigest().upper().translate(str.maketrans("01890", "ABCDE"))
    )
    source_id = f"2601.{number:05d}"
    return summary_of(
        input=f"{number}.state.json",
        verdict=Verdict.VERIFIED,
        suffix=suffix[:26],
        pith_number=f"pith:2026:{suffix[:26]}",
        title=" ".join(WORDS[w] for w in words),
        authors=(f"Author{number % 3}",),
        primary_cat="cs.LG",
        cross_cats=(),
        submitted_at=f"2026-{month:02d}-01T00:00:00Z",
        source_id=source_id,
        canonical_sha256="0" * 64,
        aliases=(("arxiv", source_id),),
        integrity_endpoint="",
        integrity_sha256="0" * 64,
        input_sha256="0" * 64,
    )


def whole(papers: Sequence[PaperSummary]) -> tuple[Files, IndexState]:
    files: Files = {}
    made = search_files(sorted(papers, key=lambda p: (p.suffix, p.input)))
    while True:
        try:
            rel, data = next(made)
        except StopIteration as done:
            return files, done.value
        files[rel] = data


def patched(before: Sequence[PaperSummary], after: Sequence[PaperSummary]) -> tuple[Files, IndexState] | None:
    files, state = whole(before)
    removed = [p for p in before if p not in after]
    added = [p for p in after if p not in before]
    listed = sorted(after, key=lambda p: (p.suffix, p.input))
    update = update_index(
        state,
        removed,
        added,
        papers=len(after),
        listed_with_prefix=lambda prefix: [p for p in listed if p.suffix.startswith(prefix)],
        read=files.get,
    )
    if update is None:
        return None
    assert not update.gone & {rel for rel, _ in update.files}
    assert update.gone <= files.keys()
    kept = {rel: data for rel, data in files.items() if rel not in update.gone}
    return {**kept, **dict(update.files)}, update.state


Titles = st.tuples(st.lists(st.integers(0, len(WORDS) - 1), min_size=1, max_size=5), st.integers(1, 12))
"""A paper's title words and month of submission."""


def corpus(size: int, seed: int) -> dict[int, tuple[list[int], int]]:
    """``size`` papers of one to five of the words, by number, drawn from ``seed``."""
    draw = random.Random(seed)
    return {
        n: ([draw.randrange(len(WORDS)) for _ in range(draw.randint(1, 5))], draw.randint(1, 12))
        for n in draw.sample(range(2 * size), size)
    }


@settings(max_examples=300, deadline=None)
@given(
    size=st.sampled_from([0, 3, 20, 60, 150]),
    seed=st.integers(0, 2**32),
    change=st.dictionaries(st.integers(0, 300), st.none() | Titles, min_size=1, max_size=6),
    copy=st.sampled_from(["none", "kept", "removed"]),
)
def test_a_patched_index_is_the_whole_rebuild(
    size: int, seed: int, change: dict[int, tuple[list[int], int] | None], copy: str
) -> None:
    """Any small change (papers added, removed, retitled, moved to another month; None removes),
    with or without a second paper that shares an entry, patched into an index of up to 150
    papers, gives exactly the files and the state of the index built whole from the new papers."""
    before = corpus(size, seed)
    with tiny_layout():
        after = {n: titled for n, titled in {**before, **change}.items() if titled is not None}
        old = [paper(n, words, month) for n, (words, month) in before.items()]
        new = [paper(n, words, month) for n, (words, month) in after.items()]
        if copy != "none" and old:
            old.append(dataclasses.replace(old[0], input="copy.state.json"))
            new += old[-1:] if copy == "kept" else []
        result = patched(old, new)
        if result is not None:
            assert result == whole(new)


def test_small_changes_to_an_index_are_patched() -> None:
    """Adding, retitling and removing a few papers of three hundred is patched, not left to a whole
    rebuild (the property above holds either way), and writes a few files, not the index."""
    with tiny_layout():
        old = [paper(n, [n % 24, (n * 7) % 24, (n * 5) % 24], 1 + n % 12) for n in range(300)]
        new = [*old[3:150], paper(150, [1, 2], 5), *old[151:], paper(400, [3, 9], 12)]
        files, _ = whole(old)
        result = patched(old, new)
        assert result is not None
        assert result == whole(new)
        changed = {rel for rel, data in result[0].items() if files.get(rel) != data}
        assert 0 < len(changed) < len(files) / 4, (len(changed), len(files))

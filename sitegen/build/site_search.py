"""The site's search index: patched from the live one when a build changes a few papers, else made whole (layer 5).

Either way its bytes are those ``search_index.search_files`` makes of the listed papers:
``search_update.update_index`` patches only where it gives those bytes. What the patch is made
of comes from the incremental cache (``cache.ListedBefore``: the last build's index state and
the summaries it had of the papers this build does not reuse) and the live site (the files
the last build made, each checked against the SHA-256 it noted). Every search file is written
with ``StagedSite.write_made``, noted as made of its own bytes, so the next build can keep the
files its patch does not reach.
"""

from __future__ import annotations

import bisect
import hashlib
from array import array
from collections import Counter
from collections.abc import Collection, Generator, Sequence
from pathlib import PurePosixPath

from sitegen.build.cache import Listed, ListedBefore
from sitegen.build.paper_job import PaperSummary
from sitegen.build.spill import SummarySpill, decode_record
from sitegen.errors import OutputError
from sitegen.fs.staging import StagedSite
from sitegen.render.search_index import IndexState, SearchFile, search_files
from sitegen.render.search_update import IndexUpdate, update_index

__all__ = ["write_search"]

_SEARCH_DIR = "search/"


def write_search(
    site: StagedSite,
    spill: SummarySpill,
    by_suffix: array[int],
    unlisted: frozenset[int],
    fresh: Collection[int],
    before: ListedBefore | None,
) -> tuple[Listed, bool]:
    """Write the search index of the papers ``by_suffix`` (record numbers in suffix order; the
    papers ``unlisted`` are left out of it) and return what it was made of, and whether it was patched.

    ``fresh``: the record numbers of the papers this build rendered (every other one is the last
    build's, byte for byte); ``before``: what the live index was made of (None: make it whole).
    """
    patch = None if before is None else _update(site, spill, by_suffix, unlisted, fresh, before)
    if patch is None:
        state = _write_whole(site, search_files(spill.view(by_suffix)))
    else:
        update, kept = patch
        _write_patch(site, update, kept)
        state = update.state
    names = frozenset(spill.fields_of(number, "input")[0] for number in unlisted)
    return Listed(search=state.to_json(), unlisted=names), patch is not None


def _update(
    site: StagedSite,
    spill: SummarySpill,
    by_suffix: array[int],
    unlisted: frozenset[int],
    fresh: Collection[int],
    before: ListedBefore,
) -> tuple[IndexUpdate, list[str]] | None:
    """The patch of the live index and the live files it keeps, or None when only a whole index is right."""
    if before.relisted:
        return None
    try:
        state = IndexState.from_json(before.search)
    except (ValueError, TypeError, KeyError):
        return None
    gone = Counter(before.replaced)
    # a reused paper left out now was listed before (none the last build left out is reused)
    gone.update(spill.record(n) for n in unlisted if n not in fresh)
    came = Counter(spill.record(n) for n in fresh if n not in unlisted)
    same = gone & came  # rendered again, unchanged (a paper that is not verified is rendered every build)
    gone, came = gone - same, came - same
    update = update_index(
        state,
        [decode_record(record) for record in gone.elements()],
        [decode_record(record) for record in came.elements()],
        papers=len(by_suffix),
        listed_with_prefix=lambda prefix: _with_prefix(spill, by_suffix, prefix),
        read=lambda rel: site.live_made(str(rel)),
    )
    if update is None:
        return None
    written = {str(rel) for rel, _ in update.files} | {str(rel) for rel in update.gone}
    kept = [rel for rel in site.made_before(_SEARCH_DIR) if rel not in written]
    if not all(map(site.has_live, kept)):
        return None  # a file of the live index is gone: make it whole
    return update, kept


def _with_prefix(spill: SummarySpill, by_suffix: array[int], prefix: str) -> Sequence[PaperSummary]:
    """The listed papers whose suffix starts with ``prefix``, in suffix order (a binary search)."""

    def start(number: int) -> str:
        return str(spill.fields_of(number, "suffix")[0])[: len(prefix)]

    begin = bisect.bisect_left(by_suffix, prefix, key=start)
    end = bisect.bisect_right(by_suffix, prefix, key=start)
    return spill.view(by_suffix[begin:end])


def _write_patch(site: StagedSite, update: IndexUpdate, kept: list[str]) -> None:
    for rel in kept:
        if not site.keep_made(rel):
            raise OutputError(
                f"{site.target / rel}: the live search index changed during the build; build again"
            )
    for path, data in update.files:
        _write_file(site, path, data)


def _write_whole(site: StagedSite, files: Generator[SearchFile, None, IndexState]) -> IndexState:
    while True:
        try:
            rel, data = next(files)
        except StopIteration as done:
            state: IndexState = done.value
            return state
        _write_file(site, rel, data)


def _write_file(site: StagedSite, rel: PurePosixPath, data: bytes) -> None:
    site.write_made(str(rel), hashlib.sha256(data).hexdigest(), lambda: data)

"""``discover`` lists inputs in path order, part by part, whatever their names.

That order is the build's input order: record numbers, the report, the cache's streams and a
merge's check that shards' logs interleave all follow it, so it must be the order
``PurePosixPath`` gives (``rel.split("/")``), not plain text order, where ``a-b/x`` comes
before ``a/x``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.fs.sources import discover

_PART = st.text(st.sampled_from("aB-._ 0é😀/"), min_size=1, max_size=4).filter(
    lambda part: part not in (".", "..") and not part.startswith(".") and "/" not in part
)
"""Names sorting around "/" (``-`` and ``.`` are below it, letters above) and beyond ASCII."""


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_PART, min_size=1, max_size=3), min_size=1, max_size=12, unique_by=tuple))
def test_states_are_listed_in_path_order_part_by_part(nested: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp)
        made: set[str] = set()
        for parts in nested:
            rel = "/".join(["states", *parts[:-1], f"{parts[-1]}.json"])
            target = content / rel
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(b"{}")
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                continue  # one name made both a file and a directory: the file system decides
            made.add(rel)
        found = discover(content).states
        assert set(found) == made
        assert list(found) == sorted(made, key=PurePosixPath)

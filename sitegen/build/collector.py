"""How often Python's cyclic garbage collector runs while a build does (layer 5).

A build's process holds hundreds of thousands of long-lived objects that form no cycles:
the incremental cache's table, every input's slim report, the site-wide step's orders.
On the collector's default schedule (a pass every 700 new container objects, a full
pass every hundred of those) it walks them again and again and frees nothing (what that
costs is measured in ``docs/scale.md``). While a build
runs, the collector runs every ``YOUNG_OBJECTS`` new objects instead, so the cycles a
build does make (template contexts, tracebacks) are still freed within a bounded
amount of memory; the previous schedule is restored afterwards. The pool's workers,
forked from the build's process, keep its schedule.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["YOUNG_OBJECTS", "spaced_collections"]

YOUNG_OBJECTS = 50_000
"""New container objects between two collections of the youngest generation (Python's default: 700)."""
_OLDER = (20, 100)
"""Collections of one generation between two of the next (Python's default: 10, 10)."""


@contextlib.contextmanager
def spaced_collections() -> Iterator[None]:
    """Collect cycles every ``YOUNG_OBJECTS`` new objects while the block (or decorated function) runs.

    >>> import gc
    >>> before = gc.get_threshold()
    >>> with spaced_collections():
    ...     gc.get_threshold()[0]
    50000
    >>> gc.get_threshold() == before
    True
    """
    previous = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, *_OLDER)
    try:
        yield
    finally:
        gc.set_threshold(*previous)

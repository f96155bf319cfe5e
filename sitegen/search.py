"""The static search index the index page's search box loads (layer 4, pure).

Papers arrive already in index order; the output is a list of (path, bytes) files
under ``search/`` so the browser can load only what a query needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from sitegen.render import json_bytes

if TYPE_CHECKING:
    from sitegen.build import PaperSummary

__all__ = ["search_files"]


def search_files(ordered: Sequence[PaperSummary]) -> Iterator[tuple[PurePosixPath, bytes]]:
    """Yield the search index files for the papers, in index order."""
    yield (
        PurePosixPath("search-index.json"),
        json_bytes(
            {
                "fields": [
                    "suffix",
                    "pith_number",
                    "title",
                    "authors",
                    "source_id",
                    "doi",
                    "verdict",
                    "submitted_at",
                ],
                "papers": [
                    [
                        s.suffix,
                        s.pith_number,
                        s.title,
                        "; ".join(s.authors),
                        s.source_id,
                        next((v for k, v in s.aliases if k == "doi"), ""),
                        s.verdict.value,
                        s.submitted_at[:10],
                    ]
                    for s in ordered
                ],
            }
        ),
    )

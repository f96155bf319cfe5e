"""Paper summaries made in tests from their stated fields, with the fields a build derives from them."""

from __future__ import annotations

from typing import Any

from sitegen.build.paper_job import PaperSummary
from sitegen.render.search_index import search_keys
from sitegen.site.manifest_bins import alias_hash
from sitegen.site.urls import alias_path_text


def summary_of(**stated: Any) -> PaperSummary:
    """A ``PaperSummary`` of ``stated`` (every field but the ``alias_paths``, ``alias_hashes`` and
    ``search`` it derives from them), with those derived as ``paper_job.paper_summary`` derives them."""
    aliases = stated["aliases"]
    return PaperSummary(
        **stated,
        alias_paths=tuple(alias_path_text(kind, value) for kind, value in aliases),
        alias_hashes=tuple(alias_hash(kind, value) for kind, value in aliases),
        search=search_keys(
            title=stated["title"],
            authors=stated["authors"],
            suffix=stated["suffix"],
            submitted_at=stated["submitted_at"],
            aliases=aliases,
        ),
    )

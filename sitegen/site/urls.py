"""The site's URL layout as pure functions (layer 2).

It follows the reference resolver: ``/pith/<SUFFIX>/`` for a paper, with its
endpoints beside it, and alias paths ``/pith/<short>/``, ``/arxiv/<id>/`` and
``/doi/<doi>/``. Every path built from input text goes through ``safe_relpath``,
which refuses anything that could leave the output directory.

Listings have stable URLs: ``/papers/`` lists the months, ``/papers/<YYYY>/<MM>/`` (then
``/papers/<YYYY>/<MM>/2/``, ...) the papers submitted in a month, and ``/papers/undated/``
those whose submission date cannot be read (``sitegen.site.listings``).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import quote

__all__ = [
    "LISTINGS_DIR",
    "PAPER_FILES",
    "UNDATED",
    "alias_path_text",
    "href",
    "integrity_endpoint_path",
    "listing_page_text",
    "month_dir_text",
    "paper_dir",
    "paper_dir_text",
    "root_prefix",
    "safe_relpath",
]

PAPER_FILES = (
    "index.html",
    "state.json",
    "record.json",
    "integrity.json",
    "aliases.json",
    "graph.json",
    "verification.json",
    "receipt.json",
    "signature.bin",
    "digest.bin",
)
"""Files written beside every paper page."""

LISTINGS_DIR = "papers"
"""The directory of the listing of months, and of every month's listing beneath it."""
UNDATED = "undated"
"""The month directory of papers whose ``submitted_at`` is not a date (``sitegen.site.listings``)."""

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~()+,;=@!$-]{0,199}")
_MAX_PARTS = 8
_SAFE_PATH = re.compile(rf"{_PART.pattern}(?:/{_PART.pattern})*")
_BASE32 = re.compile(r"[A-Z2-7]+")
_SHORT_LENGTH = {"pith_short_8": 8, "pith_short_12": 12, "pith_short_16": 16}
_ALIAS_ROOT = {
    "pith_short_8": "pith",
    "pith_short_12": "pith",
    "pith_short_16": "pith",
    "arxiv": "arxiv",
    "arxiv_version": "arxiv",
    "doi": "doi",
}


def safe_relpath(text: str, *, max_parts: int = _MAX_PARTS) -> PurePosixPath | None:
    """A relative path made only of plain parts, or None for anything unsafe.

    Refused: empty, absolute, ``.`` or ``..`` parts, backslashes, control
    characters, and any character outside a conservative URL-safe set.

    >>> safe_relpath("doi/10.48550/arxiv.hep-lat/0305021")
    PurePosixPath('doi/10.48550/arxiv.hep-lat/0305021')
    >>> safe_relpath("pith/../../etc") is None
    True
    """
    return None if _unsafe(text, max_parts) else PurePosixPath(text)


def _unsafe(text: str, max_parts: int) -> bool:
    """Whether ``text`` is not a ``safe_relpath`` (its parts never start with a dot, so never ``.``/``..``)."""
    return _SAFE_PATH.fullmatch(text) is None or text.count("/") >= max_parts


_FILE_NAMES = frozenset(name.casefold() for name in PAPER_FILES)


def _names_a_file(text: str) -> bool:
    """Whether a part of ``text`` is, case-folded, the name of a file the site writes in a page
    directory: such a directory would need to be where another page's file is."""
    return any(part.casefold() in _FILE_NAMES for part in text.split("/"))


def paper_dir(suffix: str) -> PurePosixPath:
    """``pith/<SUFFIX>``; callers pass a validated 26-character base32 suffix."""
    return PurePosixPath(paper_dir_text(suffix))


def paper_dir_text(suffix: str) -> str:
    """``str(paper_dir(suffix))`` without a path object: the site-wide step asks it of every paper twice.

    >>> paper_dir_text("3BA52NFJTLFMVFHQMNWVXCSHM7")
    'pith/3BA52NFJTLFMVFHQMNWVXCSHM7'
    """
    return f"pith/{suffix}"


def alias_path_text(kind: str, value: str) -> str | None:
    """Directory of an alias's redirect page (``/``-separated text), or None when its kind has no route or it is unsafe.

    A short alias must be 8, 12 or 16 base32 characters as its kind says, so it can never
    name a paper's own directory (26 characters). Text, not a path object: every paper
    asks it of each alias, and the site-wide step again.

    >>> alias_path_text("arxiv", "hep-lat/0305021")
    'arxiv/hep-lat/0305021'
    >>> alias_path_text("doi", "10.48550/arxiv.2401.00001")
    'doi/10.48550/arxiv.2401.00001'
    >>> alias_path_text("pith_short_8", "3BA52NFJTLFMVFHQMNWVXCSHM7") is None
    True
    >>> alias_path_text("arxiv", "../x") is None
    True
    >>> alias_path_text("doi", "10.48550/arxiv.2607.01083/INDEX.html") is None
    True
    """
    root = _ALIAS_ROOT.get(kind)
    if root is None:
        return None
    length = _SHORT_LENGTH.get(kind)
    if length is not None and (len(value) != length or _BASE32.fullmatch(value) is None):
        return None
    return None if _unsafe(value, _MAX_PARTS) or _names_a_file(value) else f"{root}/{value}"


def integrity_endpoint_path(endpoint: str, source_id: str) -> str | None:
    """The site path (``/``-separated text) of a snapshot's integrity endpoint when it is the one the
    registry's layout derives from the signed source id (``/pith/<source id>/integrity.json``) and
    safe; None otherwise (the endpoint is not signed, so no other path is served for it).

    >>> integrity_endpoint_path("/pith/hep-lat/0305021/integrity.json", "hep-lat/0305021")
    'pith/hep-lat/0305021/integrity.json'
    >>> integrity_endpoint_path("/pith/2607.01083/integrity.json", "2607.01084") is None
    True
    >>> integrity_endpoint_path("/pith/x/index.html/integrity.json", "x/index.html") is None
    True
    """
    if endpoint != f"/pith/{source_id}/integrity.json" or _names_a_file(source_id):
        return None
    return None if _unsafe(endpoint[1:], _MAX_PARTS) else endpoint[1:]


def root_prefix(page_dir: PurePosixPath | str) -> str:
    """The relative link from a page's directory back to the site root.

    Links are relative so the site works under any sub-path, whatever the config says.

    >>> root_prefix(PurePosixPath("pith/ABC"))
    '../../'
    >>> root_prefix(PurePosixPath("."))
    './'
    """
    depth = sum(1 for part in str(page_dir).split("/") if part not in ("", "."))
    return "../" * depth if depth else "./"


def href(root: str, rel: PurePosixPath | str, *, directory: bool = False) -> str:
    """A relative link from a page (whose root prefix is ``root``) to ``rel``, percent-encoded.

    >>> href("../../", "pith/ABC", directory=True)
    '../../pith/ABC/'
    """
    text = str(rel)
    if text in ("", "."):
        return root
    return root + quote(text, safe="/") + ("/" if directory else "")


def month_dir_text(year: int | None, month: int | None) -> str:
    """The directory of a month's listing, ``papers/<YYYY>/<MM>``; ``papers/undated`` when either is None.

    >>> month_dir_text(2026, 7)
    'papers/2026/07'
    >>> month_dir_text(None, None)
    'papers/undated'
    """
    if year is None or month is None:
        return f"{LISTINGS_DIR}/{UNDATED}"
    return f"{LISTINGS_DIR}/{year:04d}/{month:02d}"


def listing_page_text(month_dir: str, page: int) -> str:
    """The directory of page ``page`` (from 1) of the listing in ``month_dir``: the month's own
    directory for the first page, ``<month_dir>/<page>`` for the others.

    >>> listing_page_text("papers/2026/07", 1)
    'papers/2026/07'
    >>> listing_page_text("papers/2026/07", 3)
    'papers/2026/07/3'
    """
    return month_dir if page == 1 else f"{month_dir}/{page}"

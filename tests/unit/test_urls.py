"""The URL layout: paper and alias directories, endpoint paths, relative links, refusal of unsafe text."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen.site.urls import (
    alias_path_text,
    href,
    integrity_endpoint_path,
    paper_dir,
    root_prefix,
    safe_relpath,
)

UNSAFE = [
    "",
    "/",
    "/etc/passwd",
    "..",
    "../x",
    "a/../../b",
    "a/./b",
    "a//b",
    "a/",
    ".hidden",
    "a\\..\\b",
    "a\x00b",
    "a\nb",
    "a\x1bb",
    "a\x7fb",
    "%2e%2e/x",
    "a b",
    "a?b",
    "a#b",
    'a"b',
    "a<b",
    "é",
    "/".join(["a"] * 9),
    "x" * 201,
]


@pytest.mark.parametrize("text", UNSAFE)
def test_safe_relpath_refuses_unsafe_text(text: str) -> None:
    """Absolute paths, dot parts, empty parts, backslashes, control and non-URL characters are refused."""
    assert safe_relpath(text) is None


@pytest.mark.parametrize(
    "text",
    ["2607.01083", "hep-lat/0305021", "10.48550/arxiv.math/9707204", "3BA52NFJ", "a~b_c(1)+d,e;f=g@h!i$j"],
)
def test_safe_relpath_keeps_real_ids(text: str) -> None:
    """Real arXiv ids (old style with a slash) and DOIs become relative paths, part for part."""
    assert safe_relpath(text) == PurePosixPath(*text.split("/"))


@given(st.text(max_size=40))
def test_safe_relpath_never_leaves_its_root(text: str) -> None:
    """Whatever the text, an accepted path is relative, has no dot or empty parts and no backslash."""
    rel = safe_relpath(text)
    if rel is not None:
        assert not rel.is_absolute()
        assert all(part not in ("", ".", "..") for part in rel.parts)
        assert "\\" not in str(rel) and all(ord(c) > 32 for c in str(rel))


def test_paper_dir_follows_the_reference_resolver() -> None:
    """A paper lives at pith/<SUFFIX>."""
    assert paper_dir("3BA52NFJTLFMVFHQMNWVXCSHM7") == PurePosixPath("pith/3BA52NFJTLFMVFHQMNWVXCSHM7")


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("pith_short_8", "3BA52NFJ", "pith/3BA52NFJ"),
        ("pith_short_12", "3BA52NFJTLFM", "pith/3BA52NFJTLFM"),
        ("pith_short_16", "3BA52NFJTLFMVFHQ", "pith/3BA52NFJTLFMVFHQ"),
        ("arxiv", "2607.01083", "arxiv/2607.01083"),
        ("arxiv", "hep-lat/0305021", "arxiv/hep-lat/0305021"),
        ("arxiv_version", "hep-lat/0305021v1", "arxiv/hep-lat/0305021v1"),
        ("doi", "10.48550/arxiv.math/9707204", "doi/10.48550/arxiv.math/9707204"),
    ],
)
def test_alias_path_routes_known_kinds(kind: str, value: str, expected: str) -> None:
    """Short aliases under pith/, arXiv ids under arxiv/, DOIs under doi/."""
    assert alias_path_text(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("pith_short_8", "3BA52NFJTLFMVFHQMNWVXCSHM7"),
        ("pith_short_8", "3BA52NF"),
        ("pith_short_12", "3BA52NFJ"),
        ("pith_short_8", "3ba52nfj"),
        ("pith_short_8", "3BA52NF1"),
        ("arxiv", "../../etc"),
        ("doi", "/etc/passwd"),
        ("orcid", "0000-0002-1825-0097"),
    ],
)
def test_alias_path_refuses_unsafe_or_unrouted_aliases(kind: str, value: str) -> None:
    """A short alias of the wrong length or alphabet (it could claim a paper's own page), unsafe text or an unknown kind: no route."""
    assert alias_path_text(kind, value) is None


@pytest.mark.parametrize(
    ("endpoint", "source_id", "expected"),
    [
        ("/pith/2607.01083/integrity.json", "2607.01083", "pith/2607.01083/integrity.json"),
        ("/pith/hep-lat/0305021/integrity.json", "hep-lat/0305021", "pith/hep-lat/0305021/integrity.json"),
        ("/pith/2607.01083/integrity.json", "2607.01084", None),
        ("/pith/2607.01083/INTEGRITY.json", "2607.01083", None),
        ("/pith/../../etc/integrity.json", "../../etc", None),
        ("/pith//etc/integrity.json", "/etc", None),
        ("pith/2607.01083/integrity.json", "2607.01083", None),
        ("/pith/2607.01083/index.html", "2607.01083", None),
        ("/pith/x/index.html/integrity.json", "x/index.html", None),
        ("/pith/x/STATE.JSON/integrity.json", "x/STATE.JSON", None),
        ("/other/2607.01083/integrity.json", "2607.01083", None),
        ("https://pith.science/pith/2607.01083/integrity.json", "2607.01083", None),
        ("/pith/a\\b/integrity.json", "a\\b", None),
    ],
)
def test_integrity_endpoint_path_only_for_the_signed_source_id(
    endpoint: str, source_id: str, expected: str | None
) -> None:
    """Only /pith/<the record's own source id>/integrity.json, when safe and under no file's name, is served:
    the endpoint is not signed, so it may name no other paper's path and no path under a page's file."""
    result = integrity_endpoint_path(endpoint, source_id)
    assert (str(result) if result is not None else None) == expected


@pytest.mark.parametrize(
    ("page_dir", "expected"),
    [
        (".", "./"),
        ("verification", "../"),
        ("pith/ABC", "../../"),
        ("doi/10.48550/arxiv.hep-lat/0305021", "../../../../"),
    ],
)
def test_root_prefix_climbs_back_to_the_site_root(page_dir: str, expected: str) -> None:
    """Links are relative, one ../ per directory level, so the site works under any sub-path."""
    assert root_prefix(PurePosixPath(page_dir)) == expected


def test_href_percent_encodes_and_marks_directories() -> None:
    """A link is the root prefix plus the percent-encoded path, with a trailing / for a directory."""
    assert href("../../", "arxiv/hep-lat/0305021", directory=True) == "../../arxiv/hep-lat/0305021/"
    assert href("./", "a b") == "./a%20b"
    assert href("../", ".") == "../"

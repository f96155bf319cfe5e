"""Golden files: the build of a small fixed content tree, byte for byte. Regenerate with `make golden`."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.sitebuild import first_difference, tree
from tests.golden.make_golden import CONTENT, EXPECTED, build_expected, write_content

HINT = "\nIf the change is intended, run `make golden` and commit tests/golden/ with it."


def test_build_matches_the_golden_tree(tmp_path: Path) -> None:
    """Building tests/golden/content gives exactly tests/golden/site, file for file and byte for byte."""
    out = tmp_path / "site"
    build_expected(CONTENT, out)
    expected, built = tree(EXPECTED), tree(out)
    difference = first_difference(expected, built)
    differing = sorted(p for p in expected.keys() & built.keys() if expected[p] != built[p])
    served = [p for p in differing if p != "SHA256SUMS" and not p.startswith("sums/")]
    # SHA256SUMS and its bins sort first, and say only that some file differs: show that file too.
    if served and served[0] != differing[0]:
        shown = first_difference({served[0]: expected[served[0]]}, {served[0]: built[served[0]]})
        difference = f"{difference}\n{shown}"
    assert difference is None, f"{difference}\nall files that differ: {differing[:40]}{HINT}"


def test_golden_content_regenerates_identically(tmp_path: Path) -> None:
    """The committed golden content is what make_golden.py writes (fixed-seed keys sign the same bytes)."""
    content = tmp_path / "content"
    write_content(content)
    difference = first_difference(tree(CONTENT), tree(content))
    assert difference is None, difference + HINT

"""`sitegen check` proves what a site claims, even when its SHA256SUMS was rewritten to match.

Each test copies the golden site (a real build: two verified papers, one unverifiable, one
failed), tampers with it as a dishonest mirror would, rewrites ``SHA256SUMS`` so every
listed file matches again, and expects exit 1 with a line naming what was found.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from tests.conftest import ROOT
from tests.e2e.sitebuild import reseal

GOLDEN = ROOT / "tests" / "golden"
KEYS = GOLDEN / "content" / "keys"
SEED = "3BA52NFJTLFMVFHQMNWVXCSHM7"
SEED_TITLE = "Staleness-Learning Rate Scaling Laws for Asynchronous RLHF"
UNVERIFIABLE = "LCBRIWVRJPE2R3KQIWTEQCWFH4"
OLD_STYLE = "IX3ELLLOWQASQDOSWN2EKUMLTX"
MADE_UP = "AAAAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A fresh copy of the golden site."""
    return Path(shutil.copytree(GOLDEN / "site", tmp_path / "site"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def check(site: Path) -> tuple[int, list[str]]:
    proc = run_cli("check", site, "--keys", KEYS)
    return proc.returncode, [line for line in proc.stderr.splitlines() if line.startswith("FAIL ")]


def test_the_untampered_golden_site_checks_clean(site: Path) -> None:
    """The copy as built: exit 0, no problem (so each failure below is the tampering's)."""
    assert check(site) == (0, [])


def _show_verified(page: Path) -> None:
    """Rewrite an unverifiable paper's verdict box as the verified one, classes, icon and words."""
    edit(page, "verdict-box verdict-box-unverifiable", "verdict-box verdict-box-verified")
    edit(
        page,
        '<span class="verdict verdict-unverifiable verdict-big"><span class="verdict-icon" aria-hidden="true">?</span> Unverifiable</span>',
        '<span class="verdict verdict-verified verdict-big"><span class="verdict-icon" aria-hidden="true">✔</span> Verified</span>',
    )


def _show_verified_words_only(page: Path) -> None:
    """Change only the badge's visible word, keeping its class."""
    edit(
        page,
        '<span class="verdict-icon" aria-hidden="true">?</span> Unverifiable</span>',
        "✔ Verified</span>",
    )


@pytest.mark.parametrize("tamper", [_show_verified, _show_verified_words_only], ids=["box", "words"])
def test_an_unverifiable_page_rewritten_to_show_verified(site: Path, tamper: Callable[[Path], None]) -> None:
    """The page's badge says verified; the served state with our keys is unverifiable."""
    page = site / "pith" / UNVERIFIABLE / "index.html"
    tamper(page)
    reseal(site)
    code, problems = check(site)
    assert code == 1
    shown = "verified" if tamper is _show_verified else "unverifiable, verified"
    assert problems == [
        f"FAIL pith/{UNVERIFIABLE}/index.html: paper.reverify: the page shows {shown}, your keyring gives unverifiable"
    ]


def test_a_made_up_paper_directory_holding_another_papers_verified_state(site: Path) -> None:
    """pith/<MADE_UP>/ serves a copy of the old-style paper's whole directory (its verified state)."""
    shutil.copytree(site / "pith" / OLD_STYLE, site / "pith" / MADE_UP)
    reseal(site, *sorted(f"pith/{MADE_UP}/{p.name}" for p in (site / "pith" / MADE_UP).iterdir()))
    code, problems = check(site)
    assert code == 1
    assert (
        f"FAIL pith/{MADE_UP}/state.json: paper.directory: pith/{MADE_UP}/ serves the state of "
        f"pith:2003:{OLD_STYLE}, whose suffix is {OLD_STYLE} (derived from its signed record: {OLD_STYLE})"
    ) in problems
    assert (
        f"FAIL pith/{MADE_UP}/index.html: index.entry: pith:2003:{OLD_STYLE} is not in the index" in problems
    )


def test_a_verified_papers_title_rewritten_on_its_page(site: Path) -> None:
    """The heading shows another title than the signed one; SHA256SUMS matches, the state does not."""
    page = site / "pith" / SEED / "index.html"
    edit(page, f'<h1 id="paper-title">{SEED_TITLE}</h1>', '<h1 id="paper-title">A Better Title</h1>')
    reseal(site)
    code, problems = check(site)
    assert code == 1
    assert problems == [
        f"FAIL pith/{SEED}/index.html: paper.title: the page's heading shows 'A Better Title', "
        f"the state's title is {SEED_TITLE!r}"
    ]


@pytest.mark.parametrize("name", ["planted.html", ".well-known/hidden.json", f"pith/{SEED}/.extra"])
def test_a_file_not_in_the_manifest(site: Path, name: str) -> None:
    """A file the build did not write (not listed, so not resealed) is named, hidden or not."""
    (site / name).parent.mkdir(parents=True, exist_ok=True)
    (site / name).write_text("not from the build\n", encoding="utf-8")
    code, problems = check(site)
    assert code == 1
    assert problems == [f"FAIL {name}: manifest.extra: not listed in SHA256SUMS"]


def test_an_index_row_showing_another_verdict_and_title(site: Path) -> None:
    """The index shows the unverifiable paper as verified under another title."""
    index = site / "index.html"
    edit(
        index,
        f'<a href="./pith/{UNVERIFIABLE}/">Signed by a stranger</a>',
        f'<a href="./pith/{UNVERIFIABLE}/">A trusted paper</a>',
    )
    edit(
        index,
        '<td><span class="verdict verdict-unverifiable"><span class="verdict-icon" aria-hidden="true">?</span> Unverifiable</span></td>',
        '<td><span class="verdict verdict-verified"><span class="verdict-icon" aria-hidden="true">✔</span> Verified</span></td>',
    )
    reseal(site)
    code, problems = check(site)
    assert code == 1
    assert problems == [
        f"FAIL index.html: index.entry: the row for pith:2026:{UNVERIFIABLE} shows 'A trusted paper' as "
        "verified; the state gives 'Signed by a stranger' as unverifiable"
    ]


def test_a_search_record_showing_another_verdict(site: Path) -> None:
    """The search index shows the unverifiable paper as verified."""
    meta = json.loads((site / "search" / "meta.json").read_text(encoding="utf-8"))
    shard = site / "search" / "papers" / f"{UNVERIFIABLE[: meta['record_prefix_length']]}.json"
    records = json.loads(shard.read_text(encoding="utf-8"))
    for record in records:
        if record[0] == UNVERIFIABLE:
            record[7] = "verified"
    shard.write_text(json.dumps(records) + "\n", encoding="utf-8")
    reseal(site)
    code, problems = check(site)
    assert code == 1
    assert problems == [
        f"FAIL search/papers/: search.entry: the record for pith/{UNVERIFIABLE}/ shows "
        f"pith:2026:{UNVERIFIABLE}, 'Signed by a stranger' as verified; the state gives "
        f"pith:2026:{UNVERIFIABLE}, 'Signed by a stranger' as unverifiable"
    ]

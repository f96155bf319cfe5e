"""What one new paper changes in a built site (19): exactly the files its month, its terms, its
bins and its own directories name, and the changed set docs/deploy.md's manifest recipe computes
is exactly the files that changed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from sitegen.site.urls import alias_path_text
from tests.conftest import ROOT
from tests.e2e.sitebuild import build, tree
from tests.searchindex import files_for_paper
from tests.synth import SigningKey

SITE_YAML = "title: Test mirror\nbase_url: https://mirror.example/\npapers_per_page: 3\n"


def _recipe() -> list[str]:
    """The shell lines of docs/deploy.md's "Uploading only what changed" block."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(mkdir -p before[^`]*)```", text)
    assert block is not None, "docs/deploy.md has no manifest recipe"
    return [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines()]


def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> tuple[set[str], set[str]]:
    """(new or changed files, removed files) between two trees."""
    return {p for p, data in after.items() if before.get(p) != data}, set(before) - set(after)


def test_one_new_paper_changes_only_what_names_it_and_the_recipe_finds_exactly_that(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> None:
    states = {
        f"p{n}.state.json": new_paper(
            signing_key,
            f"2607.3{n:04d}",
            title=f"Paper {n} on lattices",
            submitted_at=f"2026-0{7 if n < 4 else 1 + n % 6}-02T00:00:00Z",
        )
        for n in range(20)
    }
    content = make_content(states, keys=[signing_key], site_yaml=SITE_YAML)
    work = tmp_path / "work"
    work.mkdir()
    site = work / "_site"
    assert build(content, site).returncode == 0
    before = tree(site)
    recipe = _recipe()
    assert recipe[0].startswith("mkdir -p before") and recipe[1] == "make site"
    subprocess.run(["bash", "-c", recipe[0]], cwd=work, check=True)

    (content / "states" / "new.state.json").write_bytes(
        new_paper(
            signing_key, "2607.39999", title="Staleness of lattices", submitted_at="2026-07-30T00:00:00Z"
        )
    )
    proc = build(content, site)
    assert proc.returncode == 0, proc.stderr
    after = tree(site)
    changed, removed = _changed(before, after)

    commands = [line for line in recipe[2:] if not line.startswith("rclone ")]
    script = subprocess.run(
        ["bash", "-c", "\n".join(["set -euo pipefail", *commands])], cwd=work, capture_output=True, text=True
    )
    assert script.returncode == 0, script.stderr
    upload = set((work / "upload.txt").read_text(encoding="utf-8").split())
    manifest = {p for p in changed if p.startswith("sums/") or p == "SHA256SUMS"}
    assert upload | manifest == changed and not upload & manifest
    assert set((work / "delete.txt").read_text(encoding="utf-8").split()) == removed

    # What names the new paper: its own directory and alias pages, its month's last page, /,
    # /papers/, /verification/, the report's counts, the feed and mirror manifest (it is the
    # newest), its sitemap part, its alias bins, its manifest bins, and its search files.
    own = json.loads(
        after[next(p for p in after if p.endswith("/aliases.json") and "2607.39999" in after[p].decode())]
    )
    suffix = own["pith_number"].rsplit(":", 1)[1]
    alias_pages = {alias_path_text(a["alias_kind"], a["alias_value"]) for a in own["aliases"]}
    state = json.loads((content / "states" / "new.state.json").read_bytes())
    endpoint = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["integrity"]["endpoint"]
    expected_prefixes = (
        f"pith/{suffix}/",
        endpoint.lstrip("/"),  # its integrity endpoint, where the registry's snapshot names it
        *(f"{path}/" for path in alias_pages if path),
    )
    site_wide = {
        "index.html",
        "papers/index.html",
        "papers/2026/07/2/index.html",
        "verification/index.html",
        "verification-report.json",
        "feed.xml",
        "pith-mirrors.json",
        "SHA256SUMS",
    }
    unexplained = {
        p
        for p in changed
        if not p.startswith(expected_prefixes)
        and p not in site_wide
        and not p.startswith(("aliases/", "sums/", "sitemaps/pith-", "search/"))  # each checked below
        and p != "sitemap.xml"
    }
    assert unexplained == set() and removed == set()
    searched = SimpleNamespace(  # what the index reads of the new paper, as the state gives it
        suffix=suffix,
        title="Staleness of lattices",
        authors=("Ada Lovelace", "Alan Turing"),
        aliases=tuple((a["alias_kind"], a["alias_value"]) for a in own["aliases"]),
    )
    assert {p for p in changed if p.startswith("search/")} == files_for_paper(before, after, searched)
    assert "papers/2026/07/index.html" not in changed  # July's four papers: its first page is full
    part = f"sitemaps/pith-{suffix[0]}.xml"
    assert {p for p in changed if p.startswith("sitemaps/")} == {part}
    assert ("sitemap.xml" in changed) == (part not in before)  # the index changes when a part is new
    assert {p for p in changed if p.startswith("sums/pith-")} == {f"sums/pith-{suffix[0]}.sha256"}
    assert len({p for p in changed if p.startswith("aliases/")}) <= len(own["aliases"])
    shutil.rmtree(work / "before")

"""The bench's tools: the corpus, the Hugo project, the floor and the per-paper run do what the bench table claims."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import generate_corpus
from bench.floor import run_floor
from bench.hugo import write_project
from bench.perpaper import run_per_paper
from tests.conftest import ROOT


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sixteen generated papers (two with old-style ids)."""
    content = tmp_path_factory.mktemp("bench") / "content"
    for _ in generate_corpus(16, content, seed=3):
        pass
    return content


@pytest.fixture(scope="module")
def site(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus built by sitegen."""
    out = tmp_path_factory.mktemp("site") / "site"
    run = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--content", str(corpus), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return out


def test_corpus_is_deterministic_verified_and_varied(corpus: Path, site: Path, tmp_path: Path) -> None:
    """The same seed writes the same bytes; every paper verifies; ids are unique, some old-style."""
    for _ in generate_corpus(16, tmp_path / "again", seed=3):
        pass
    assert {p: (corpus / p).read_bytes() for p in _files(corpus)} == {
        p: (tmp_path / "again" / p).read_bytes() for p in _files(tmp_path / "again")
    }
    report = json.loads((site / "verification-report.json").read_text())
    assert report["counts"]["verified"] == 16
    assert [w for w in report["warnings"] if not w.startswith("site.yaml")] == []  # no collisions
    ids = [entry["source_id"] for entry in report["inputs"]]
    assert len(set(ids)) == 16
    assert sum("/" in i for i in ids) == 2


@pytest.mark.skipif(shutil.which("hugo") is None, reason="Hugo is not installed")
def test_hugo_project_writes_the_same_per_paper_page_set(corpus: Path, site: Path, tmp_path: Path) -> None:
    """Hugo's build of the generated project has every paper's files and alias redirects that sitegen writes."""
    write_project(corpus, tmp_path / "project")
    run = subprocess.run(
        ["hugo", "--quiet", "-s", str(tmp_path / "project"), "-d", str(tmp_path / "hugo")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    per_paper = {p for p in _files(site) if p.startswith(("pith/", "arxiv/", "doi/"))}
    assert per_paper <= _files(tmp_path / "hugo")


def test_floor_writes_each_papers_file_set(corpus: Path, site: Path, tmp_path: Path) -> None:
    """The floor loop over two processes writes, for each of its papers, the files a build writes for one."""
    run_floor(corpus, tmp_path / "floor", 5, jobs=2)
    copies = sorted(p.name for p in (tmp_path / "floor").iterdir())
    assert copies == [f"{n:08d}" for n in range(5)]
    one = _files(tmp_path / "floor" / copies[0])
    assert len(one) >= 10 and {f.rsplit("/", 1)[1] for f in one} >= {
        "index.html",
        "state.json",
        "record.json",
    }
    assert all(_files(tmp_path / "floor" / c) == one for c in copies)


def test_per_paper_work_writes_each_papers_files_and_nothing_site_wide(
    corpus: Path, site: Path, tmp_path: Path
) -> None:
    """The per-paper run writes every paper's own files, byte for byte as the build does, and no site-wide file."""
    papers, _ = run_per_paper(corpus, tmp_path / "per-paper", jobs=2)
    assert papers == 16
    written = _files(tmp_path / "per-paper")
    assert len({f for f in written if f.startswith("pith/") and f.endswith("/state.json")}) == 16
    assert written < _files(site)
    assert all((tmp_path / "per-paper" / f).read_bytes() == (site / f).read_bytes() for f in written)
    assert not written & {"index.html", "aliases.json", "SHA256SUMS", "verification-report.json"}

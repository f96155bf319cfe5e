"""The bench's tools: the corpus, the Hugo project, the floor, the per-paper run and the baseline
comparison do what the bench table claims."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import baseline_lines
from bench.baseline import BaselineError, checkout_baseline, compare, remove_baseline, this_checkout
from bench.corpus import generate_corpus
from bench.floor import run_floor
from bench.hugo import DEBIAN_HUGO, find_hugos, write_project
from bench.perpaper import run_per_paper
from tests.conftest import ROOT
from tests.e2e.sitebuild import report_entries


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
    run = _python("sitegen", "build", "--content", corpus, "--out", out, "--quiet")
    assert run.returncode == 0, run.stderr
    return out


def _python(module: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` from the checkout, its output captured (two minutes at most)."""
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )


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
    ids = [entry["source_id"] for entry in report_entries(site).values()]
    assert len(set(ids)) == 16
    assert sum("/" in i for i in ids) == 2


def _hugos() -> list[object]:
    """The newest Hugo (a test extra: always here), and Debian's where its package is installed."""
    hugos = find_hugos()
    debian = [] if hugos.debian is None else [hugos.debian]
    skip = pytest.mark.skip(reason="Debian's hugo package is not installed")
    return [
        pytest.param(hugos.newest, id="newest"),
        pytest.param(*(debian or [str(DEBIAN_HUGO)]), id="debian", marks=() if debian else skip),
    ]


@pytest.mark.parametrize("hugo", _hugos())
def test_hugo_project_writes_the_same_per_paper_page_set(
    corpus: Path, site: Path, tmp_path: Path, hugo: str
) -> None:
    """Hugo's build of the generated project has every paper's files and alias redirects that sitegen writes."""
    write_project(corpus, tmp_path / "project", papers_per_page=5)
    run = subprocess.run(
        [hugo, "--quiet", "-s", str(tmp_path / "project"), "-d", str(tmp_path / "hugo")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    per_paper = {p for p in _files(site) if p.startswith(("pith/", "arxiv/", "doi/"))}
    assert per_paper <= _files(tmp_path / "hugo")
    assert sorted(p.name for p in (tmp_path / "hugo" / "papers").iterdir()) == [
        "1",
        "2",
        "3",
        "4",
    ]  # 5 a page


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


_MARKER = "<!-- the baseline's own template -->"


def _git(repo: Path, *args: str) -> str:
    run = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=bench test",
            "-c",
            "user.email=bench@test.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.strip()


def test_baseline_runs_its_own_commit_beside_this_checkout(corpus: Path, tmp_path: Path) -> None:
    """``BASELINE=HEAD~1`` builds with that commit's code and templates, three runs beside this checkout's,
    each rendering what it should; the table puts each baseline row beside this checkout's with the
    ratio, and the worktree is gone afterwards."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    base = repo / "templates" / "base.html"
    original = base.read_text(encoding="utf-8")
    base.write_text(original.replace("</body>", f"{_MARKER}\n</body>"), encoding="utf-8")
    _git(repo, "commit", "--quiet", "-am", "baseline: a marked template")
    base.write_text(original, encoding="utf-8")
    _git(repo, "commit", "--quiet", "-am", "after the baseline: the marker gone")
    content = tmp_path / "content"
    shutil.copytree(corpus, content)
    work, outputs = tmp_path / "work", tmp_path / "out"
    outputs.mkdir()

    baseline = checkout_baseline("HEAD~1", work, repo)
    try:
        assert baseline.commit == _git(repo, "rev-parse", "HEAD~1")
        assert baseline.tree.parent == work and (baseline.tree / "sitegen" / "cli.py").is_file()
        runs = compare(
            content,
            outputs,
            this_checkout(ROOT),
            baseline,
            papers=16,
            jobs=2,
            changed=3,
            seed=3,
            quiet_wait=0,
        )
    finally:
        remove_baseline(baseline, repo)

    assert not baseline.tree.exists()
    assert str(baseline.tree) not in _git(repo, "worktree", "list")
    assert {key: {side: run["rendered"] for side, run in sides.items()} for key, sides in runs.items()} == {
        "full": {"this": 16, "baseline": 16},
        "noop": {"this": 0, "baseline": 0},
        "one": {"this": 1, "baseline": 1},
    }
    assert _MARKER in (outputs / "site-baseline" / "index.html").read_text(encoding="utf-8")
    assert _MARKER not in (outputs / "site-this" / "index.html").read_text(encoding="utf-8")
    assert _files(content) == _files(corpus)  # the changed state is restored, byte for byte
    assert all((content / f).read_bytes() == (corpus / f).read_bytes() for f in _files(corpus))
    full = runs["full"]
    assert full["baseline"]["wall_x_baseline"] == 1.0
    assert full["this"]["wall_x_baseline"] == round(full["this"]["wall_s"] / full["baseline"]["wall_s"], 3)

    table = "\n".join(
        baseline_lines(
            {
                "baseline": {"ref": "HEAD~1", "commit": baseline.commit, "short": baseline.short},
                "sizes": [{"papers": 16, "baseline_runs": runs}],
            }
        )
    )
    rows = [line for line in table.splitlines() if line.startswith("| 16 |")]
    assert [row.split(" | ")[1] for row in rows] == [
        "full build",
        f"full build (baseline {baseline.short})",
        "no-op rebuild",
        f"no-op rebuild (baseline {baseline.short})",
        "1 state changed",
        f"1 state changed (baseline {baseline.short})",
    ]
    assert rows[0].split(" | ")[3] == f"{full['this']['wall_x_baseline']:.2f}"
    assert rows[1].split(" | ")[3] == "1.00"


def test_baseline_that_names_no_commit_is_refused(tmp_path: Path) -> None:
    """A ``BASELINE`` git cannot resolve is an error naming it, and leaves no worktree behind."""
    with pytest.raises(BaselineError, match=r"BASELINE=no-such-ref: names no commit of "):
        checkout_baseline("no-such-ref", tmp_path / "work", ROOT)
    assert not (tmp_path / "work").exists()


def test_shards_bench_times_each_shard_and_both_merges(corpus: Path, tmp_path: Path) -> None:
    """`python -m bench.shards` builds the shards, the overlay merge from their artifacts only
    (no page), and the linked merge, and prints one row for each."""
    run = _python("bench.shards", corpus, tmp_path / "work", "--shards", "2", "--linked", "--quiet-wait", "0")
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and " s | " in line]
    assert [row.split(" | ")[0] for row in rows] == [
        "| shard 1/2",
        "| shard 2/2",
        "| merge --overlay",
        "| merge, linking the trees",
    ]
    assert "its overlay: " in rows[2]
    artifact = tmp_path / "work" / "artifact-1"
    assert (artifact / "sitegen-shard.jsonl").is_file() and list(artifact.glob("pith/*/integrity.json"))
    assert not list(artifact.glob("pith/*/index.html"))
    assert _files(tmp_path / "work" / "merged") - _files(tmp_path / "work" / "overlay"), (
        "the linked merge holds the papers"
    )

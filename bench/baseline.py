"""The bench's baseline: an older commit of this repository, measured beside this checkout.

``make bench BASELINE=REF`` (any commit git names: a hash, ``HEAD~1``, a branch) checks
REF out into a detached git worktree under the bench's work directory, and for each
corpus size runs the same three builds with each checkout: a full build into a fresh
directory, a no-op rebuild and a rebuild after one state changed, each pair back to
back, so a change of machine load between the two falls on both alike.

Both checkouts are run the same way, through the command line that every layout of the
package has had (before the layers, the package held the bench itself and the pipeline
was ``sitegen.build``)::

    env PYTHONPATH=CHECKOUT PYTHON -P -m sitegen build --content C --out O --quiet --jobs J

in this interpreter, so both import the same dependencies; ``-P`` keeps the current
directory off the module path, so ``sitegen`` is the one in ``CHECKOUT`` and never this
checkout's editable install. Before anything is timed, the baseline is checked: its
``sitegen`` must import from its worktree and its ``build`` must take those options.
Both trees are byte-compiled first, so neither's first run compiles its modules. The
rebuild's summary line (``N inputs rendered, M reused``) says what it rendered: a
rebuild that rendered another number of states than changed would measure something
else, and is an error.

The worktree is removed when the bench ends (``git worktree remove``); one an
interrupted bench left is removed before the next starts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import rewrite_papers
from bench.measure import log, run_measured

__all__ = [
    "COMPARED",
    "BaselineError",
    "Checkout",
    "checkout_baseline",
    "compare",
    "remove_baseline",
    "remove_leftover_baselines",
    "this_checkout",
]

COMPARED = (
    ("full", "full build"),
    ("noop", "no-op rebuild"),
    ("one", "1 state changed"),
)
"""The runs measured with both checkouts, by key and label."""

_OPTIONS = ("--content", "--out", "--quiet", "--jobs")
_SUMMARY = re.compile(r"(\d+) inputs rendered, (\d+) reused")
_PREFIX = "baseline-"


class BaselineError(Exception):
    """The baseline cannot be checked out or run as the bench runs it."""


@dataclass(frozen=True, slots=True)
class Checkout:
    """A tree of this repository that the bench runs through its command line."""

    tree: Path
    label: str
    """How the table names it: ``this checkout`` or ``baseline <short hash>``."""
    commit: str
    """The full hash of the commit (for this checkout, its HEAD; the tree may hold changes on top)."""
    short: str
    """The commit's short hash, as ``git rev-parse --short`` gives it."""

    def command(self, *args: object) -> list[str]:
        """``python -P ARGS...`` with this checkout first on the module path, in this interpreter."""
        return ["env", f"PYTHONPATH={self.tree}", sys.executable, "-P", *map(str, args)]

    def build_command(self, content: Path, out: Path, jobs: int) -> list[str]:
        return self.command(
            "-m", "sitegen", "build", "--content", content, "--out", out, "--quiet", "--jobs", jobs
        )


def _git(root: Path, *args: str) -> str:
    """The output of ``git -C root ARGS``.

    Raises:
        BaselineError: git failed (its message is in the error).
    """
    run = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise BaselineError(f"git {' '.join(args)}: {run.stderr.strip() or f'exit {run.returncode}'}")
    return run.stdout.strip()


def this_checkout(root: Path) -> Checkout:
    """The checkout the bench runs from, as a ``Checkout`` (byte-compiled, like the baseline)."""
    _compile(root)
    commit = _git(root, "rev-parse", "HEAD")
    return Checkout(
        tree=root, label="this checkout", commit=commit, short=_git(root, "rev-parse", "--short", commit)
    )


def checkout_baseline(ref: str, work: Path, root: Path) -> Checkout:
    """Check ``ref`` of the repository at ``root`` out into a worktree under ``work``, and check that it runs.

    Raises:
        BaselineError: ``ref`` names no commit, or the checkout's ``sitegen`` does not
            import from the worktree or its ``build`` lacks an option the bench passes.
    """
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except BaselineError:
        raise BaselineError(f"BASELINE={ref}: names no commit of {root}") from None
    short = _git(root, "rev-parse", "--short", commit)
    tree = work / f"{_PREFIX}{short}"
    _remove_tree(root, tree)
    work.mkdir(parents=True, exist_ok=True)
    _git(root, "worktree", "add", "--detach", "--quiet", str(tree), commit)
    baseline = Checkout(tree=tree, label=f"baseline {short}", commit=commit, short=short)
    try:
        _probe(baseline, ref)
        _compile(tree)
    except BaselineError:
        _remove_tree(root, tree)
        raise
    return baseline


def _probe(baseline: Checkout, ref: str) -> None:
    """Check that ``baseline``'s ``sitegen`` imports from its tree and its ``build`` takes the bench's options.

    Raises:
        BaselineError: it does not (the message names the commit and what is missing).
    """
    where = subprocess.run(
        baseline.command("-c", "import sitegen; print(sitegen.__file__)"),
        capture_output=True,
        text=True,
        check=False,
    )
    found = Path(where.stdout.strip()) if where.returncode == 0 else None
    if found is None or not found.resolve().is_relative_to(baseline.tree.resolve()):
        said = where.stderr.strip().splitlines()[-1:] or [f"it imports {found}"]
        raise BaselineError(
            f"BASELINE={ref} ({baseline.commit[:12]}): its sitegen package does not import from "
            f"{baseline.tree}: {said[0]}"
        )
    helped = subprocess.run(
        baseline.command("-m", "sitegen", "build", "--help"), capture_output=True, text=True, check=False
    )
    missing = [option for option in _OPTIONS if option not in helped.stdout.split()]
    if helped.returncode != 0 or missing:
        raise BaselineError(
            f"BASELINE={ref} ({baseline.commit[:12]}): `sitegen build` lacks "
            f"{', '.join(missing) or 'a working --help'}; the bench runs it with {' '.join(_OPTIONS)}"
        )


def _compile(tree: Path) -> None:
    """Byte-compile the checkout's package, so that no timed run compiles it."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(tree / "sitegen")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _remove_tree(root: Path, tree: Path) -> None:
    if tree.exists():
        subprocess.run(
            ["git", "-C", str(root), "worktree", "remove", "--force", str(tree)],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(tree, ignore_errors=True)  # a tree git no longer knows
    _git(root, "worktree", "prune")


def remove_baseline(baseline: Checkout, root: Path) -> None:
    """Remove the baseline's worktree (and git's record of it)."""
    _remove_tree(root, baseline.tree)


def remove_leftover_baselines(work: Path, root: Path) -> None:
    """Remove the baseline worktrees an interrupted bench left in ``work``."""
    for tree in sorted(work.glob(f"{_PREFIX}*")):
        log(f"removing {tree.name}, left by an earlier bench")
        _remove_tree(root, tree)


def _rendered(stderr: Path, checkout: Checkout) -> int:
    """The number of inputs the build's summary line says it rendered.

    Raises:
        BaselineError: the build printed no summary line the bench can read.
    """
    text = stderr.read_text(encoding="utf-8", errors="replace")
    found = _SUMMARY.search(text)
    if found is None:
        raise BaselineError(
            f"{checkout.label}: `sitegen build` printed no 'N inputs rendered, M reused' summary: {text[-500:]!r}"
        )
    return int(found.group(1))


def compare(
    corpus: Path,
    outputs: Path,
    current: Checkout,
    baseline: Checkout,
    *,
    papers: int,
    jobs: int,
    changed: int,
    seed: int,
    quiet_wait: float,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Each run of ``COMPARED`` with both checkouts: ``{run: {"this": ..., "baseline": ...}}``.

    Each measurement gains ``rendered`` and its wall time and peak RSS as ratios to the
    baseline's (``wall_x_baseline``, ``rss_x_baseline``). Each checkout builds into its own
    directory under ``outputs`` (its cache beside it). For the last run, paper ``changed``
    of the corpus of ``papers`` papers is rewritten (and restored after).

    Raises:
        BaselineError: a build rendered another number of states than it should have.
    """
    sides = {"this": current, "baseline": baseline}
    runs: dict[str, dict[str, dict[str, Any]]] = {key: {} for key, _ in COMPARED}

    def measure(key: str, label: str, expected: int) -> None:
        for side, checkout in sides.items():
            log(f"{papers}: {label}, {checkout.label}")
            site = outputs / f"site-{side}"
            stderr = outputs / f"site-{side}-{key}.stderr"
            run = run_measured(
                checkout.build_command(corpus, site, jobs), quiet_wait=quiet_wait, stderr_to=stderr
            )
            run["rendered"] = _rendered(stderr, checkout)
            if run["rendered"] != expected:
                raise BaselineError(
                    f"{checkout.label}: the {label} of {papers} papers rendered {run['rendered']} "
                    f"states, not {expected}: its figures would not measure what the table says"
                )
            runs[key][side] = run
        for run in runs[key].values():
            run["wall_x_baseline"] = round(run["wall_s"] / runs[key]["baseline"]["wall_s"], 3)
            run["rss_x_baseline"] = round(run["peak_rss_mb"] / runs[key]["baseline"]["peak_rss_mb"], 3)

    labels = dict(COMPARED)
    measure("full", labels["full"], papers)
    measure("noop", labels["noop"], 0)
    try:
        rewrite_papers(corpus, [changed], seed, revision=1)
        measure("one", labels["one"], 1)
    finally:
        rewrite_papers(corpus, [changed], seed, revision=0)
    return runs

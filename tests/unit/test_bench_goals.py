"""The bench's goal table: issue 19's targets against measured figures, met or not, never invented."""

from __future__ import annotations

from typing import Any

import pytest

from bench.__main__ import RUNS, _rebuilt, goal_lines, markdown


def _run(wall: float, rss: float, **extra: float) -> dict[str, Any]:
    return {
        "wall_s": wall,
        "peak_rss_mb": rss,
        "tree_rss_mb": rss,
        "papers_per_s": 1.0,
        "load_average": [0.5, 0.5, 0.5],
        **extra,
    }


def _results(*, new_at_100k: float | None) -> dict[str, Any]:
    ten = {
        "papers": 10_000,
        "full": _run(10.0, 90.0, wall_x_hugo=0.45, wall_x_floor=1.5),
        "noop": _run(0.4, 60.0),
        "new": _run(0.9, 70.0, delta_files=31, delta_mb=0.4),
        "one": _run(3.0, 80.0),
        "one_percent": _run(4.0, 120.0),
    }
    sizes: list[dict[str, Any]] = [ten]
    if new_at_100k is not None:
        sizes.append(
            {
                "papers": 100_000,
                "new": _run(new_at_100k, 250.0, delta_files=95, delta_mb=1.2),
                "noop": _run(1.2, 200.0),
                "one_percent": _run(16.0, 240.0),
                "full": _run(100.0, 280.0),
            }
        )
    return {"sizes": sizes}


def _rows(lines: list[str]) -> dict[str, list[str]]:
    rows = [line.strip("|").split("|") for line in lines if line.startswith("| ") and "goal" not in line]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}


def test_each_goal_is_marked_from_the_figures() -> None:
    """Met and missed goals follow the numbers: wall times, the deploy delta, ratios and the largest
    RSS of a size; a goal at 100,000 shows the 10,000-paper figure beside it."""
    rows = _rows(goal_lines(_results(new_at_100k=1.5)))
    assert rows["1 new paper at 100,000: rebuild wall time"][1:] == ["1.5 s", "yes", "0.9 s"]
    assert rows["1 new paper at 100,000: files changed"][1:] == ["95", "no", "31"]
    assert rows["1 new paper at 100,000: MB changed"][1:] == ["1.2 MB", "yes", "0.4 MB"]
    assert rows["no-op rebuild at 100,000: wall time"][1:] == ["1.2 s", "yes", "0.4 s"]
    assert rows["1 % changed at 100,000: wall time"][1:] == ["16 s", "no", "4 s"]
    assert rows["full build at 10,000: × Hugo"][1:] == ["0.45", "yes", ""]
    assert rows["peak RSS at 10,000"][1:] == ["120 MB", "no", ""]
    assert rows["peak RSS at 100,000"][1:] == ["280 MB", "yes", "120 MB"]


def test_a_size_not_run_is_not_measured_rather_than_met() -> None:
    """Without a 100,000-paper run, its goals say so instead of passing."""
    rows = _rows(goal_lines(_results(new_at_100k=None)))
    assert rows["1 new paper at 100,000: rebuild wall time"][1:] == ["not measured", "", "0.9 s"]
    assert rows["peak RSS at 100,000"][1:] == ["not measured", "", "120 MB"]


def test_a_size_skipped_for_disk_space_says_why_in_every_row() -> None:
    """A size the disk cannot hold shows its reason on each run's row, and its goals are not measured."""
    reason = "needs about 44 GB of disk, 20 GB free"
    names = ("hugo", "floor", *(run for run, _ in RUNS))
    results = _results(new_at_100k=None)
    results["sizes"].append({"papers": 100_000, **{f"{name}_skipped": reason for name in names}})
    results.update(
        finished="2026-11-25 19:36 UTC",
        load_before=[0.5, 0.5, 0.5],
        load_after=[0.5, 0.5, 0.5],
        incremental_note="Rebuilds use the build's incremental cache.",
        machine={
            "cpu": "cpu",
            "cores": 2,
            "memory_gb": 23.5,
            "system": "Linux",
            "python": "3.11",
            "hugo": "hugo",
            "sitegen": "0.1.0",
        },
    )
    table = markdown(results)
    skipped = [line for line in table.splitlines() if line.startswith("| 100,000 |")]
    assert len(skipped) == len(names)
    assert all(f"skipped: {reason}" in line for line in skipped)
    assert "| peak RSS at 100,000 | under 300 MB | not measured |  | 120 MB |" in table


def test_a_rebuild_that_rendered_other_than_the_changed_states_is_refused() -> None:
    """A corpus left changed by an interrupted bench makes the "1 state changed" run a no-op: never reported as one."""
    assert _rebuilt(_run(1.0, 50.0, rendered=1), 1)["wall_s"] == 1.0
    with pytest.raises(RuntimeError, match="after 1 changed states rendered 0"):
        _rebuilt(_run(0.2, 40.0, rendered=0), 1)


def test_the_site_wide_files_written_whole_are_listed_by_size() -> None:
    """The sizes of the files every rebuild writes whole are shown, for the sizes that recorded them."""
    results = _results(new_at_100k=20.0)
    results["sizes"][1]["full"]["whole_files_mb"] = {"verification-report.json": 490.4, "SHA256SUMS": 171.0}
    (line,) = [line for line in goal_lines(results) if line.startswith("Site-wide files")]
    assert line == (
        "Site-wide files any rebuild writes whole, by corpus size: "
        "100,000: `verification-report.json` 490.4 MB, `SHA256SUMS` 171.0 MB."
    )
    assert not [line for line in goal_lines(_results(new_at_100k=None)) if line.startswith("Site-wide files")]

"""Run one command and measure it: wall time, CPU time and peak memory of its process tree.

``python -m bench.measure RESULT.json -- COMMAND...`` runs COMMAND as its only
child, so ``getrusage(RUSAGE_CHILDREN)`` afterwards covers exactly that command and
every process it waited for (a build's pool workers, Hugo's threads): ``peak_rss_mb``
is the largest resident set any one of them reached. ``tree_rss_mb`` is the largest
sum of the resident sets of the whole tree, sampled every 50 ms from ``/proc`` (it
counts pages a forked worker shares with its parent once per process, so it is an
upper bound). The bench runs every measured command through this, each in a fresh
process, so one measurement never inherits another's peak.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["io_pressure", "log", "main", "run_measured", "tree_rss_kib", "wait_for_quiet_disk"]

_SAMPLE_SECONDS = 0.05


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    """Sum of the resident sets of ``pid`` and all its descendants, in KiB (0 where /proc is missing)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_kib(current)
        todo.extend(_children(current))
    return total


def io_pressure(text: str) -> float | None:
    """The share (in %) of the last 10 s in which some task waited for I/O: ``some avg10`` of ``/proc/pressure/io``.

    >>> io_pressure("some avg10=25.54 avg60=22.30 avg300=8.92 total=846\\nfull avg10=19.27 avg60=17.07 avg300=6.85 total=576\\n")
    25.54
    >>> io_pressure("") is None
    True
    """
    for line in text.splitlines():
        if line.startswith("some "):
            for field in line.split()[1:]:
                key, _, value = field.partition("=")
                if key == "avg10":
                    return float(value)
    return None


def wait_for_quiet_disk(threshold: float = 5.0, timeout: float = 300.0) -> tuple[float | None, float]:
    """Wait until the I/O pressure is at most ``threshold`` % (for at most ``timeout`` s).

    Returns the pressure when the wait began (None where the kernel does not report it)
    and the seconds waited. After many files were deleted or written, the disk can stay
    busy (discards, writeback) for a while, and a run timed then is slower for reasons of
    its own.
    """
    started = time.monotonic()
    first: float | None = None
    while True:
        try:
            pressure = io_pressure(Path("/proc/pressure/io").read_text(encoding="ascii"))
        except OSError:
            pressure = None
        first = pressure if first is None else first
        waited = time.monotonic() - started
        if pressure is None or pressure <= threshold or waited >= timeout:
            return first, round(waited, 1)
        time.sleep(2)


def log(message: str) -> None:
    """One line of the bench's progress on stderr, with the time of day."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_measured(
    command: Sequence[str], *, quiet_wait: float, stderr_to: Path | None = None
) -> dict[str, Any]:
    """Run ``command`` through this module in a fresh process, once the disk is quiet.

    Waits at most ``quiet_wait`` s for the disk (after ``sync``, so the previous run's
    unwritten pages are not charged to this one); ``stderr_to``, when given, receives
    what the command writes on stderr instead of the terminal.

    Raises:
        RuntimeError: the command exited with neither 0 (all verified) nor 1 (some input not verified).
    """
    os.sync()
    pressure, waited = wait_for_quiet_disk(timeout=quiet_wait)
    if waited:
        log(f"waited {waited:.0f} s for the disk to settle (I/O pressure {pressure} % before)")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "measure.json"
        wrapper = [sys.executable, "-m", "bench.measure", str(out), "--", *command]
        if stderr_to is None:
            subprocess.run(wrapper, check=False)
        else:
            with stderr_to.open("wb") as stream:
                subprocess.run(wrapper, stderr=stream, check=False)
        measured: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    measured.update(io_pressure_before=pressure, settle_wait_s=waited)
    if measured["returncode"] not in (0, 1):
        said = (
            ""
            if stderr_to is None
            else ": " + stderr_to.read_text(encoding="utf-8", errors="replace")[-2000:]
        )
        raise RuntimeError(f"{' '.join(command)} exited with {measured['returncode']}{said}")
    return measured


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        print("usage: python -m bench.measure RESULT.json -- COMMAND...", file=sys.stderr)
        return 2
    result_path, command = Path(args[0]), args[2:]
    started = time.perf_counter()
    proc = subprocess.Popen(command)
    tree_peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not done.wait(_SAMPLE_SECONDS):
            tree_peak = max(tree_peak, tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = proc.wait()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "command": command,
        "returncode": returncode,
        "wall_s": round(wall, 3),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "tree_rss_mb": round(max(tree_peak, usage.ru_maxrss) / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    result_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return returncode


if __name__ == "__main__":
    raise SystemExit(main())

"""Running the real command line and comparing built trees, for the CLI tests."""

from __future__ import annotations

import contextlib
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import ROOT


def run_cli(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m sitegen ARGS`` in a subprocess, text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "sitegen", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=timeout,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tree_differences(left: Path, right: Path) -> list[str]:
    """Paths missing on one side or with different bytes; empty when the trees are identical."""
    a, b = tree(left), tree(right)
    return sorted(
        [f"only in {left.name}: {p}" for p in a.keys() - b.keys()]
        + [f"only in {right.name}: {p}" for p in b.keys() - a.keys()]
        + [f"differs: {p}" for p in a.keys() & b.keys() if a[p] != b[p]]
    )


def summary_line(stderr: str) -> str:
    """The closing ``summary:`` line of a run."""
    lines = [line for line in stderr.splitlines() if line.startswith("summary:")]
    assert lines, stderr
    return lines[-1]


@contextlib.contextmanager
def serve_process(content: Path, out: Path) -> Iterator[tuple[str, queue.Queue[str]]]:
    """A running ``serve`` on a free port: (its URL, a queue of its stderr lines); stopped with Ctrl-C."""
    with subprocess.Popen(
        [sys.executable, "-m", "sitegen", "serve", "--port", "0", "--content", str(content),
         "--out", str(out), "--interval", "0.1"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:  # fmt: skip
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stderr is not None
        stream = proc.stderr
        reader = threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True)
        reader.start()
        url = ""
        deadline = time.monotonic() + 60
        while not url and time.monotonic() < deadline:
            match = re.match(r"serving (http://127\.0\.0\.1:\d+/)", lines.get(timeout=60))
            url = match[1] if match else ""
        assert url, "serve did not start"
        try:
            yield url, lines
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0
            reader.join(timeout=5)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """``root`` served as a plain static host (ThreadingHTTPServer, 127.0.0.1, free port); yields its URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()

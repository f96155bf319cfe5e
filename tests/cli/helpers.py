"""Running the real command line and comparing built trees, for the CLI tests."""

from __future__ import annotations

import contextlib
import os
import pty
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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


SERVE_START_SECONDS = 60
"""How long ``serve`` may take to build and say ``serving URL``."""
STOP_SECONDS = 20
"""How long a stopped process may take to exit before it is killed."""
_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)
"""Runs the rest of the line with SIGINT at its default, as a terminal's Ctrl-C finds it, even
when this test run itself ignores SIGINT (a shell's background job): an ignored signal is
inherited across exec, and Python keeps SIGINT ignored when it starts ignored."""


def stop_process(proc: subprocess.Popen[Any], sig: signal.Signals = signal.SIGTERM) -> int:
    """Send ``sig`` and wait for the exit, killing the process if it takes over ``STOP_SECONDS``."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_SECONDS)
        raise


@dataclass(frozen=True, slots=True)
class Served:
    """A running ``serve``: its URL and a queue of its stderr lines."""

    url: str
    lines: queue.Queue[str]


@contextlib.contextmanager
def serve_process(content: Path, out: Path, *, stop: signal.Signals = signal.SIGTERM) -> Iterator[Served]:
    """A running ``serve`` on a free port, stopped with ``stop`` on leaving; it must then exit 0.

    Every wait is bounded: a ``serve`` that does not start, or does not stop, is killed. After
    the block, ``lines`` holds what it printed to the end.
    """
    command = [sys.executable, "-m", "sitegen", "serve", "--port", "0", "--content", str(content),
               "--out", str(out)]  # fmt: skip
    if stop is signal.SIGINT:
        command = [sys.executable, "-c", _DEFAULT_SIGINT, *command[1:]]
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    stream = proc.stderr
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True)
    reader.start()
    try:
        url = ""
        deadline = time.monotonic() + SERVE_START_SECONDS
        while not url and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            match = re.match(r"serving (http://127\.0\.0\.1:\d+/)", line)
            url = match[1] if match else ""
        assert url, f"serve did not say 'serving URL' within {SERVE_START_SECONDS} s"
        yield Served(url, lines)
    finally:
        code = stop_process(proc, stop)
        reader.join(timeout=STOP_SECONDS)
        stream.close()
    assert code == 0, f"serve exited {code} after {stop.name}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return


def stop_server(httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
    """Stop a test's server running ``serve_forever`` in ``thread``, every wait bounded.

    ``shutdown()`` itself has no time limit (it waits for the serving loop to notice), so it
    runs in a thread of its own that is waited for.
    """
    stopper = threading.Thread(target=httpd.shutdown, name="stop-test-server", daemon=True)
    stopper.start()
    stopper.join(timeout=STOP_SECONDS)
    httpd.server_close()
    thread.join(timeout=STOP_SECONDS)
    assert not thread.is_alive(), f"the test server did not stop within {STOP_SECONDS} s"


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[str]:
    """``root`` served as a plain static host (ThreadingHTTPServer, 127.0.0.1, free port); yields its URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        stop_server(httpd, thread)


def operator_key(tmp_path: Path) -> tuple[Path, Path]:
    """An operator key pair in OpenSSH files, as `ssh-keygen -t ed25519` writes them."""
    key = Ed25519PrivateKey.generate()
    private = tmp_path / "mirror_ed25519"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    public = tmp_path / "mirror_ed25519.pub"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        + b" mirror\n"
    )
    return private, public


def run_on_terminal(*args: str | Path, timeout: float = 60) -> tuple[int, str]:
    """``python -m sitegen ARGS`` with stderr on a pseudo-terminal (outside CI, so progress lines
    show), stdout discarded: its exit code and what the terminal got."""
    main, secondary = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "sitegen", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env={k: v for k, v in os.environ.items() if k != "CI"},
    ) as proc:
        os.close(secondary)
        chunks = []
        try:
            while True:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # the terminal closed with the process
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            returncode = proc.wait(timeout=timeout)
        finally:  # Popen.__exit__ waits with no time limit: never reach it with the process running
            stop_process(proc, signal.SIGKILL)
    os.close(main)
    return returncode, b"".join(chunks).decode()

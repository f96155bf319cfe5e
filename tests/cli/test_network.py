"""`pull` and `check` against misbehaving loopback servers: deadline, redirects, byte caps, concurrency."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from sitegen.commands.check import _read_all, _Unread
from tests.cli.helpers import run_cli, summary_line, tree
from tests.cli.servers import Server, body, redirect, serve, trickle
from tests.synth import SigningKey
from tests.waiting import wait_until

STATE = "/pith/2607.10001/state.json"


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as running:
        yield running


@pytest.fixture
def content(make_content: Callable[..., Path], signing_key: SigningKey) -> Path:
    return make_content({}, keys=[signing_key])


@pytest.fixture
def paper(new_paper: Callable[..., bytes], signing_key: SigningKey) -> bytes:
    return new_paper(signing_key, "2607.10001", "Paper A")


def _pull(server: Server, content: Path, *extra: str) -> tuple[int, str, float]:
    """Run ``pull 2607.10001`` from the server, no retries: (exit code, stderr, seconds it took)."""
    started = time.monotonic()
    proc = run_cli("pull", "2607.10001", "--from", server.url, "--content", content, "--retries", "0", *extra)
    return proc.returncode, proc.stderr, time.monotonic() - started


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_trickling_server_is_cut_off_at_the_deadline(server: Server, content: Path, phase: str) -> None:
    """One byte every 0.5 s (in the body or in the headers) cannot hold `pull --timeout 1` much past 1 s."""
    server.routes[STATE] = trickle(server.stop, headers=phase == "headers")
    code, stderr, seconds = _pull(server, content, "--timeout", "1")
    assert code == 1, stderr
    assert f"{server.url}{STATE}: timed out: no complete response within 1 s" in stderr
    assert seconds < 1 + 5, f"took {seconds:.1f} s"
    assert tree(content / "states") == {}


def test_check_over_http_is_cut_off_at_the_deadline_too(server: Server) -> None:
    """`check` shares the fetch: a trickled SHA256SUMS ends the run (exit 2) within the deadline."""
    server.routes["/SHA256SUMS"] = trickle(server.stop)
    started = time.monotonic()
    proc = run_cli("check", server.url + "/", "--timeout", "1")
    assert proc.returncode == 2, proc.stderr
    assert "SHA256SUMS: manifest.read: timed out: no complete response within 1 s" in proc.stderr
    assert time.monotonic() - started < 1 + 5


def test_redirect_on_the_same_host_is_followed(server: Server, content: Path, paper: bytes) -> None:
    """A redirect to another path of the same scheme, host and port is followed."""
    server.routes[STATE] = redirect("/moved/state.json")
    server.routes["/moved/state.json"] = body(paper)
    code, stderr, _ = _pull(server, content)
    assert code == 0, stderr
    assert (content / "states" / "2607.10001.state.json").read_bytes() == paper


def test_redirect_to_another_host_is_refused_unless_allowed(
    server: Server, content: Path, paper: bytes
) -> None:
    """127.0.0.1 redirecting to localhost is refused, naming both URLs; --allow-redirect-host lets it through."""
    with serve("localhost") as other:
        other.routes[STATE] = body(paper)
        target = f"{other.url}{STATE}"
        server.routes[STATE] = redirect(target)
        code, stderr, _ = _pull(server, content)
        assert code == 1
        assert (
            f"redirect refused: {server.url}{STATE} -> {target}: another host "
            "(allow it with --allow-redirect-host localhost)"
        ) in stderr
        assert other.requested == []
        assert tree(content / "states") == {}
        code, stderr, _ = _pull(server, content, "--allow-redirect-host", "localhost")
        assert code == 0, stderr
        assert other.requested == [STATE]
        assert (content / "states" / "2607.10001.state.json").read_bytes() == paper


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("ftp://127.0.0.1/pith/2607.10001/state.json", "not an http or https URL"),
        ("file:///etc/passwd", "not an http or https URL"),
    ],
)
def test_redirect_to_another_scheme_is_refused(
    server: Server, content: Path, location: str, why: str
) -> None:
    """A redirect to ftp:// or file:// is never followed, even to an allowed host."""
    server.routes[STATE] = redirect(location, 301)
    code, stderr, _ = _pull(server, content, "--allow-redirect-host", "127.0.0.1")
    assert code == 1
    assert f"redirect refused: {server.url}{STATE} -> {location}: {why}" in stderr


def test_check_refuses_a_redirect_to_another_host(server: Server) -> None:
    """`check` follows the same policy: a SHA256SUMS redirected elsewhere cannot be read (exit 2)."""
    server.routes["/SHA256SUMS"] = redirect("http://localhost:9/SHA256SUMS")
    proc = run_cli("check", server.url + "/")
    assert proc.returncode == 2
    assert f"redirect refused: {server.url}/SHA256SUMS -> http://localhost:9/SHA256SUMS: another host" in (
        proc.stderr
    )


@pytest.mark.parametrize("content_length", [True, False])
def test_body_over_the_byte_cap_is_refused(
    server: Server, content: Path, paper: bytes, content_length: bool
) -> None:
    """A body over --max-bytes is refused, whether or not it announces its length."""
    server.routes[STATE] = body(paper + b" " * 50_000, content_length=content_length)
    code, stderr, _ = _pull(server, content, "--max-bytes", str(len(paper) + 10_000))
    assert code == 1
    assert "too large" in stderr
    assert tree(content / "states") == {}


def _site_of_blobs(root: Path, count: int, size: int) -> list[str]:
    """A directory with ``count`` files of ``size`` bytes and a SHA256SUMS listing them; their paths."""
    root.mkdir()
    names = [f"blob-{n:02d}.bin" for n in range(count)]
    lines = []
    for n, name in enumerate(names):
        data = bytes([n]) * size
        (root / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    (root / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return names


STALL_SECONDS = 120
"""How long the stalled download waits for the others: a machine whose disk is busy may take a
minute to read and send nineteen 2 MB files (the check's deadline and the command's are longer
still; the test's timeout is 300 s)."""


def test_check_downloads_a_bounded_number_at_once_and_a_stalled_one_holds_none(
    server: Server, tmp_path: Path
) -> None:
    """With --workers 3, at most 3 downloads run at once, and the others finish while the first one stalls."""
    root = tmp_path / "site"
    names = _site_of_blobs(root, 20, 2 * 1024 * 1024)
    for path in [root / "SHA256SUMS", *(root / name for name in names)]:
        server.routes[f"/{path.name}"] = body(path.read_bytes())
    everyone_else = threading.Event()
    first = server.routes[f"/{names[0]}"]

    def stalled(handler: BaseHTTPRequestHandler) -> None:
        everyone_else.wait(STALL_SECONDS)
        first(handler)

    wanted = {"/SHA256SUMS", *(f"/{name}" for name in names)}

    def release_when_everything_else_was_asked_for() -> None:
        # every file asked for at least once (a request the client sent again counts once)
        if wait_until(lambda: wanted <= set(server.requested), STALL_SECONDS):
            everyone_else.set()

    server.routes[f"/{names[0]}"] = stalled
    threading.Thread(target=release_when_everything_else_was_asked_for, daemon=True).start()
    # the deadline is not what this test measures: a loaded machine gets all the time it needs
    proc = run_cli(
        "check",
        server.url + "/",
        "--workers",
        "3",
        "--max-file-bytes",
        str(4 * 1024 * 1024),
        "--timeout",
        str(STALL_SECONDS + 30),
        timeout=STALL_SECONDS + 60,
    )
    assert proc.returncode == 0, proc.stderr
    assert summary_line(proc.stderr).startswith("summary: 20 files checked")
    assert everyone_else.is_set()
    assert server.max_in_flight <= 3


def test_finished_reads_are_handed_on_while_one_stalls() -> None:
    """The pool yields each read as it finishes, never more than `workers` in flight, so nothing piles up."""
    names = [f"f{n:02d}" for n in range(30)]
    release = threading.Event()
    lock = threading.Lock()
    counts = {"now": 0, "most": 0}

    def read(rel: str) -> bytes:
        with lock:
            counts["now"] += 1
            counts["most"] = max(counts["most"], counts["now"])
        try:
            if rel == names[0]:
                assert release.wait(20), "the stalled read was never released: results waited for it"
            else:
                time.sleep(0.005)
            return rel.encode()
        finally:
            with lock:
                counts["now"] -= 1

    seen: list[str] = []
    for rel, data in _read_all(read, names, 4):
        assert not isinstance(data, _Unread)
        seen.append(rel)
        if len(seen) == len(names) - 1:
            release.set()
    assert seen[-1] == names[0]
    assert sorted(seen) == names
    assert counts["most"] <= 4


def test_fifo_and_symlinks_listed_in_a_directory_are_reported_not_opened(tmp_path: Path) -> None:
    """A FIFO, a symlinked file and a file under a symlinked directory are problems naming each path."""
    root = tmp_path / "site"
    _site_of_blobs(root, 1, 10)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "page.html").write_text("<p>outside</p>", encoding="utf-8")
    os.mkfifo(root / "pipe.json")
    (root / "link.html").symlink_to(tmp_path / "outside" / "page.html")
    (root / "dir").symlink_to(tmp_path / "outside", target_is_directory=True)
    with (root / "SHA256SUMS").open("a", encoding="utf-8") as sums:
        for name in ("pipe.json", "link.html", "dir/page.html"):
            sums.write(f"{'0' * 64}  {name}\n")
    proc = run_cli("check", root, timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert "FAIL pipe.json: manifest.sha256: not checked: not a regular file (a FIFO)" in proc.stderr
    assert "FAIL link.html: manifest.sha256: not checked: a symlink, not a regular file" in proc.stderr
    assert (
        "FAIL dir/page.html: manifest.sha256: not checked: dir is a symlink or not a directory" in proc.stderr
    )

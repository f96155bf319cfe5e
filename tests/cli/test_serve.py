"""`python -m sitegen serve`: answers on its port, rebuilds after a content change, signals a reload,
answers only to its own Host, and stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.cli.helpers import Served, run_cli, serve_process
from tests.synth import SigningKey

REBUILD_SECONDS = 30
"""How long a rebuild after a change may take to show (a deadline, not a timing)."""


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def _raw_request(url: str, host: str | None) -> bytes:
    """The whole answer to ``GET /`` sent over a plain socket with the given Host header (or none)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    header = f"Host: {host}\r\n" if host is not None else ""
    request = f"GET / HTTP/1.1\r\n{header}Connection: close\r\n\r\n".encode()
    answer = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(request)
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


@pytest.fixture
def content(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], signing_key: SigningKey
) -> Path:
    return make_content({"a.state.json": new_paper(signing_key, "2607.10001", "Paper A")}, keys=[signing_key])


@pytest.fixture
def serving(content: Path, tmp_path: Path) -> Iterator[tuple[Served, Path, Path]]:
    """A running `serve` on a free port: (it, its content dir, its output dir)."""
    with serve_process(content, tmp_path / "site") as served:
        yield served, content, tmp_path / "site"


def _with_reload_expected(html: bytes) -> bytes:
    return html.replace(b"</body>", b'<script src="/__sitegen__/reload.js"></script></body>')


def test_serve_answers_and_rebuilds_after_a_content_change(
    serving: tuple[Served, Path, Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
) -> None:
    """The site answers on its port (reload script added, the site's 404 page); a new state file is built and served."""
    served, content, out = serving
    url = served.url
    status, kind, body = _get(url)
    assert (status, kind) == (200, "text/html; charset=utf-8")
    assert b'<script src="/__sitegen__/reload.js"></script></body>' in body
    assert b"__sitegen__" not in (out / "index.html").read_bytes()
    assert _get(url + "__sitegen__/reload.js")[2].startswith(b"// Added by `python -m sitegen serve`")
    first = _get(url + "__sitegen__/generation")[2]
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(url + "no/such/page/")
    assert missing.value.code == 404
    assert missing.value.read() == _with_reload_expected((out / "404.html").read_bytes())

    paper_b = new_paper(signing_key, "2607.10002", "Paper B")
    (content / "states" / "b.state.json").write_bytes(paper_b)
    deadline = time.monotonic() + REBUILD_SECONDS
    while _get(url + "__sitegen__/generation")[2] == first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _get(url + "__sitegen__/generation")[2] != first
    suffix = json.loads(paper_b)["pith_number"].rsplit(":", 1)[1]
    status, _, page = _get(f"{url}pith/{suffix}/")
    assert status == 200
    assert b"Paper B" in page
    assert _get(f"{url}pith/{suffix}/state.json")[2] == paper_b
    said = [served.lines.get_nowait() for _ in range(served.lines.qsize())]
    assert any(
        line.startswith("built: 2 verified") and "1 inputs rendered, 1 reused" in line for line in said
    )


@pytest.mark.parametrize(
    "host", ["evil.example:{port}", "evil.example", "127.0.0.1.evil.example:{port}", None]
)
def test_a_request_for_another_host_gets_421_and_nothing_of_the_site(
    serving: tuple[Served, Path, Path], host: str | None
) -> None:
    """DNS rebinding: a Host that is not this server's own loopback name and port (or none) gets 421."""
    served, _, _ = serving
    port = urlsplit(served.url).port
    answer = _raw_request(served.url, host.format(port=port) if host is not None else None)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 421 Misdirected Request\r\n"), head
    assert b"Content-Type: text/plain; charset=utf-8" in head
    assert (
        body
        == (
            f"421 Misdirected Request: this server answers only to Host 127.0.0.1:{port} or localhost:{port}\n"
        ).encode()
    )


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_a_request_naming_this_server_is_answered(serving: tuple[Served, Path, Path], name: str) -> None:
    """Its own loopback names with its port get the site."""
    served, _, out = serving
    port = urlsplit(served.url).port
    head, _, body = _raw_request(served.url, f"{name}:{port}").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\n"), head
    assert body == _with_reload_expected((out / "index.html").read_bytes())


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_on_a_signal_with_exit_0_and_one_summary_line(
    content: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    """SIGTERM (a service manager) or SIGINT (Ctrl-C): exit 0 and one closing line."""
    with serve_process(content, tmp_path / "site", stop=stop) as served:
        said = [served.lines.get_nowait() for _ in range(served.lines.qsize())]
    after = [served.lines.get_nowait() for _ in range(served.lines.qsize())]  # serve_process checked exit 0
    assert after == [
        f"stopped by {stop.name}: closed the server at {served.url} and the watcher (builds: 1)\n"
    ], said


def test_serve_without_a_content_directory_exits_2_naming_it(tmp_path: Path) -> None:
    """Nothing to watch: exit 2 before serving, with the directory and the reason."""
    missing = tmp_path / "no-content"
    proc = run_cli("serve", "--port", "0", "--content", missing, "--out", tmp_path / "site")
    assert proc.returncode == 2
    assert proc.stderr == f"error: {missing}: cannot watch for changes: not a directory\n"

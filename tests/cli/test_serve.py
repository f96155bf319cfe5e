"""`python -m sitegen serve`: answers on its port, rebuilds after a content change, signals a reload."""

from __future__ import annotations

import json
import queue
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import serve_process
from tests.synth import SigningKey


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


@pytest.fixture
def serving(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    tmp_path: Path,
) -> Iterator[tuple[str, Path, Path, queue.Queue[str]]]:
    """A running `serve` on a free port: (URL, content dir, output dir, its stderr lines)."""
    content = make_content(
        {"a.state.json": new_paper(signing_key, "2607.10001", "Paper A")}, keys=[signing_key]
    )
    with serve_process(content, tmp_path / "site") as (url, lines):
        yield url, content, tmp_path / "site", lines


def _with_reload_expected(html: bytes) -> bytes:
    return html.replace(b"</body>", b'<script src="/__sitegen__/reload.js"></script></body>')


def test_serve_answers_and_rebuilds_after_a_content_change(
    serving: tuple[str, Path, Path, queue.Queue[str]],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
) -> None:
    """The site answers on its port (reload script added, the site's 404 page); a new state file is built and served."""
    url, content, out, lines = serving
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
    deadline = time.monotonic() + 30
    while _get(url + "__sitegen__/generation")[2] == first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _get(url + "__sitegen__/generation")[2] != first
    suffix = json.loads(paper_b)["pith_number"].rsplit(":", 1)[1]
    status, _, page = _get(f"{url}pith/{suffix}/")
    assert status == 200
    assert b"Paper B" in page
    assert _get(f"{url}pith/{suffix}/state.json")[2] == paper_b
    said = [lines.get_nowait() for _ in range(lines.qsize())]
    assert any(
        line.startswith("built: 2 verified") and "1 inputs rendered, 1 reused" in line for line in said
    )

"""`python -m sitegen pull` against a real local HTTP server serving fixtures."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli, stop_server, summary_line, tree
from tests.cli.states import with_events
from tests.synth import SigningKey

MAX_BYTES = 200_000


class _Fixtures:
    """What the server serves: ``routes`` maps a path to bytes; the variant prefix picks a misbehaviour."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.release = threading.Event()


def _handler(fixtures: _Fixtures) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            variant, _, rest = self.path.lstrip("/").partition("/")
            body = fixtures.routes.get("/" + rest)
            if body is None:
                self.send_error(404)
                return
            if variant == "hang":
                fixtures.release.wait(10)
                return
            if variant == "tampered":
                doc = json.loads(body)
                doc["current"]["canonical_record"]["metadata"]["license"] = "changed in transit"
                body = json.dumps(doc).encode()
            if variant == "oversized":
                body = body + b" " * (MAX_BYTES + 1 - len(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if variant == "truncated" else body)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, _Fixtures]]:
    """A ThreadingHTTPServer on 127.0.0.1 (port 0) serving the fixtures, with misbehaving variants."""
    fixtures = _Fixtures()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fixtures))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", fixtures
    fixtures.release.set()
    stop_server(httpd, thread)


def _suffix(data: bytes) -> str:
    return str(json.loads(data)["pith_number"]).rsplit(":", 1)[1]


def test_good_records_land_verified_by_pith_number_short_form_and_arxiv_ids(
    server: tuple[str, _Fixtures],
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    seed_bytes: bytes,
    tmp_path: Path,
) -> None:
    """Ids of every kind are fetched through a manifest's pattern, verified and written; a repeat is unchanged."""
    url, fixtures = server
    paper_a = new_paper(signing_key, "2607.10001", "Paper A")
    old_style = new_paper(signing_key, "hep-lat/0305021", "Old paper", submitted_at="2003-05-21T00:00:00Z")
    fixtures.routes[f"/pith/{_suffix(paper_a)}/state.json"] = paper_a
    fixtures.routes[f"/pith/{_suffix(seed_bytes)[:8]}/state.json"] = seed_bytes
    fixtures.routes["/pith/hep-lat/0305021/state.json"] = old_style
    fixtures.routes["/pith/2607.10001/state.json"] = paper_a
    manifest = tmp_path / "pith-mirrors.json"
    registry = json.loads(
        (Path(__file__).parents[1] / "data" / "pith-mirrors.json").read_text(encoding="utf-8")
    )
    registry["mirrors"][0]["state_pattern"] = f"{url}/good/pith/{{suffix}}/state.json"
    manifest.write_text(json.dumps(registry), encoding="utf-8")
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# more ids\nhep-lat/0305021\n\narXiv:2607.10001\n", encoding="utf-8")
    content = make_content({}, keys=[signing_key])
    pith_number = json.loads(paper_a)["pith_number"]
    proc = run_cli(
        "pull", pith_number, f"pith:{_suffix(seed_bytes)[:8]}", "--ids-file", ids_file,
        "--manifest", manifest, "--content", content,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert summary_line(proc.stderr).startswith("summary: 3 pulled, 0 updated, 1 unchanged, 0 error; ")
    states = content / "states"
    assert (states / "2607.10001.state.json").read_bytes() == paper_a
    assert (states / "2607.01083.state.json").read_bytes() == seed_bytes
    assert (states / "hep-lat_0305021.state.json").read_bytes() == old_style
    build = run_cli("build", "--content", content, "--out", tmp_path / "site")
    assert build.returncode == 0, build.stderr
    assert "3 verified, 0 failed" in summary_line(build.stderr)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("tampered", "does not verify (failed)"),
        ("truncated", "truncated"),
        ("oversized", "too large"),
        ("hang", "timed out"),
        ("missing", "HTTP 404"),
    ],
)
def test_bad_response_is_a_clear_error_and_leaves_states_unchanged(
    server: tuple[str, _Fixtures],
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
    variant: str,
    message: str,
) -> None:
    """Tampered, truncated, oversized, hanging and missing responses never touch content/states/."""
    url, fixtures = server
    served = new_paper(signing_key, "2607.10001", "Paper A, newer")
    if variant != "missing":
        fixtures.routes["/pith/2607.10001/state.json"] = served
    content = make_content(
        {"2607.10001.state.json": new_paper(signing_key, "2607.10001", "Paper A")}, keys=[signing_key]
    )
    before = tree(content / "states")
    proc = run_cli(
        "pull", "2607.10001", "--from", f"{url}/{variant}/", "--content", content,
        "--timeout", "0.5", "--retries", "1", "--backoff", "0.01", "--max-bytes", str(MAX_BYTES),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    error = next(line for line in proc.stderr.splitlines() if line.startswith("error"))
    assert error.startswith("error      2607.10001: ")
    assert message in error.split("/state.json: ", 1)[1]
    assert summary_line(proc.stderr).startswith("summary: 0 pulled, 0 updated, 0 unchanged, 1 error; ")
    assert tree(content / "states") == before


def test_bad_id_and_no_ids(make_content: Callable[..., Path]) -> None:
    """An unrecognised id is an error for that id (exit 1); no ids at all cannot run (exit 2)."""
    content = make_content({})
    proc = run_cli("pull", "not-an-id!", "--from", "http://127.0.0.1:9/", "--content", content)
    assert proc.returncode == 1
    assert "is not a Pith number, a short form" in proc.stderr
    assert run_cli("pull", "--from", "http://127.0.0.1:9/", "--content", content).returncode == 2


def test_newer_verified_state_updates_the_file_and_leaves_no_temporary_files(
    server: tuple[str, _Fixtures],
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
) -> None:
    """A verified state with one more event replaces the kept one in place; nothing else is left behind."""
    url, fixtures = server
    kept = new_paper(signing_key, "2607.10001", "Paper A")
    newer = with_events(kept, ["one more snapshot"])
    fixtures.routes["/pith/2607.10001/state.json"] = newer
    content = make_content({"2607.10001.state.json": kept}, keys=[signing_key])
    proc = run_cli("pull", "2607.10001", "--from", f"{url}/good", "--content", content)
    assert proc.returncode == 0, proc.stderr
    assert summary_line(proc.stderr).startswith("summary: 0 pulled, 1 updated, 0 unchanged, 0 error; ")
    assert sorted(p.name for p in (content / "states").iterdir()) == ["2607.10001.state.json"]
    assert (content / "states" / "2607.10001.state.json").read_bytes() == newer


def test_older_verified_state_does_not_roll_back_the_kept_one(
    server: tuple[str, _Fixtures],
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    signing_key: SigningKey,
) -> None:
    """A validly signed but older state (an event fewer) is refused, naming what it lacks; the kept file stays."""
    url, fixtures = server
    served = new_paper(signing_key, "2607.10001", "Paper A")
    fixtures.routes["/pith/2607.10001/state.json"] = served
    content = make_content(
        {"2607.10001.state.json": with_events(served, ["one more snapshot"])}, keys=[signing_key]
    )
    assert (
        "verified"
        in run_cli("verify", content / "states" / "2607.10001.state.json", "--keys", content / "keys").stdout
    )
    before = tree(content / "states")
    proc = run_cli("pull", "2607.10001", "--from", f"{url}/good", "--content", content)
    assert proc.returncode == 1
    assert "it lacks 1 of the 3 events of the verified 2607.10001.state.json you have" in proc.stderr
    assert tree(content / "states") == before

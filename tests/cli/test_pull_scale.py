"""`pull` of many ids: a bounded pool of kept-alive connections, conditional requests, resumption."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.cli.helpers import _DEFAULT_SIGINT, STOP_SECONDS, run_cli, summary_line
from tests.cli.servers import Respond, Server, conditional, held, serve
from tests.cli.states import with_events
from tests.conftest import ROOT
from tests.synth import SigningKey
from tests.waiting import wait_until


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as running:
        running.keep_alive = True
        yield running


@pytest.fixture
def papers(new_paper: Callable[..., bytes], signing_key: SigningKey) -> dict[str, bytes]:
    """Twelve signed states by arXiv id."""
    return {f"2607.{10001 + n}": new_paper(signing_key, f"2607.{10001 + n}", f"Paper {n}") for n in range(12)}


@pytest.fixture
def content(make_content: Callable[..., Path], signing_key: SigningKey) -> Path:
    return make_content({}, keys=[signing_key])


def _route(server: Server, arxiv_id: str, respond: Respond) -> None:
    server.routes[f"/pith/{arxiv_id}/state.json"] = respond


def _serve_all(server: Server, papers: dict[str, bytes]) -> None:
    for arxiv_id, data in papers.items():
        _route(server, arxiv_id, conditional(server, data, f'"{arxiv_id}-v1"'))


def _pull(server: Server, content: Path, ids: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("pull", *ids, "--from", server.url, "--content", content, "--retries", "0", *extra)


def _bytes_received(summary: str) -> int:
    match = re.search(r"; (\d+) not modified \(304\), (\d+) bytes received in [0-9.]+ s$", summary)
    assert match is not None, summary
    return int(match[2])


def test_requests_are_bounded_and_connections_kept_alive(
    server: Server, content: Path, papers: dict[str, bytes]
) -> None:
    """With --concurrency 3 the server sees exactly 3 requests at once at most, over at most 3 connections."""
    for arxiv_id, data in papers.items():
        _route(server, arxiv_id, held(server, conditional(server, data, f'"{arxiv_id}"'), until=3))
    proc = _pull(server, content, list(papers), "--concurrency", "3")
    assert proc.returncode == 0, proc.stderr
    assert summary_line(proc.stderr).startswith("summary: 12 pulled, 0 updated, 0 unchanged, 0 error; ")
    assert len(server.requested) == 12
    assert server.max_in_flight == 3
    assert server.connections <= 3
    for arxiv_id, data in papers.items():
        assert (content / "states" / f"{arxiv_id}.state.json").read_bytes() == data


def test_a_second_pull_transfers_no_bodies_and_a_change_only_its_own(
    server: Server, content: Path, papers: dict[str, bytes]
) -> None:
    """Every id comes back 304 on the next pull (no body sent, no line printed); a changed one is updated."""
    _serve_all(server, papers)
    first = _pull(server, content, list(papers))
    assert first.returncode == 0, first.stderr
    assert server.bodies == 12
    assert _bytes_received(summary_line(first.stderr)) == sum(map(len, papers.values()))
    second = _pull(server, content, list(papers))
    assert second.returncode == 0, second.stderr
    assert server.bodies == 12
    assert server.conditional_requests == 12
    assert summary_line(second.stderr).startswith(
        "summary: 0 pulled, 0 updated, 12 unchanged, 0 error; 12 not modified (304), 0 bytes received in "
    )
    assert second.stderr.splitlines() == [summary_line(second.stderr)]
    newer = with_events(papers["2607.10005"], ["snapshot 2"])
    _route(server, "2607.10005", conditional(server, newer, '"2607.10005-v2"'))
    third = _pull(server, content, list(papers))
    assert third.returncode == 0, third.stderr
    assert summary_line(third.stderr).startswith(
        f"summary: 0 pulled, 1 updated, 11 unchanged, 0 error; 11 not modified (304), {len(newer)} bytes received"
    )
    assert (content / "states" / "2607.10005.state.json").read_bytes() == newer
    assert server.bodies == 13


def test_validators_are_not_sent_for_a_kept_file_that_changed_or_went(
    server: Server, content: Path, papers: dict[str, bytes]
) -> None:
    """A deleted or edited kept file is fetched whole again (no If-None-Match) and judged as ever: validators are hints."""
    _serve_all(server, papers)
    assert _pull(server, content, list(papers)).returncode == 0
    states = content / "states"
    (states / "2607.10001.state.json").unlink()
    padded = with_events(papers["2607.10002"], [], junk_invalid_events=3)
    (states / "2607.10002.state.json").write_bytes(padded)
    proc = _pull(server, content, ["2607.10001", "2607.10002", "2607.10004"])
    assert proc.returncode == 0, proc.stderr
    assert server.conditional_requests == 1
    assert summary_line(proc.stderr).startswith(
        "summary: 1 pulled, 0 updated, 2 unchanged, 0 error; 1 not modified (304), "
    )
    assert "2607.10002 -> " in proc.stderr and "no new events (yours kept as it is)" in proc.stderr
    assert (states / "2607.10001.state.json").read_bytes() == papers["2607.10001"]
    assert (states / "2607.10002.state.json").read_bytes() == padded


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_pull_leaves_whole_states_and_the_next_one_goes_on(
    server: Server, content: Path, papers: dict[str, bytes], sig: signal.Signals, tmp_path: Path
) -> None:
    """Stopped while ids are in flight, every written state is whole; the next pull fetches only the rest."""
    release = threading.Event()
    answered = 4
    for index, (arxiv_id, data) in enumerate(papers.items()):
        respond = conditional(server, data, f'"{arxiv_id}"')
        if index >= answered:
            respond = _after(release, respond)
        _route(server, arxiv_id, respond)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(papers) + "\n", encoding="utf-8")
    command = [
        sys.executable, "-c", _DEFAULT_SIGINT, "-m", "sitegen", "pull", "--ids-file", str(ids_file),
        "--from", server.url, "--content", str(content), "--retries", "0", "--concurrency", "2",
        "--timeout", "20",
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: server.bodies >= answered and server.in_flight == 2, 30), server.requested
        proc.send_signal(sig)
        release.set()
        _, stderr = proc.communicate(timeout=STOP_SECONDS + 20)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_SECONDS)
    states = content / "states"
    kept = sorted(p.name for p in states.glob("*.state.json"))
    assert len(kept) >= answered
    verified = run_cli("verify", *(states / name for name in kept), "--keys", content / "keys")
    assert verified.returncode == 0, verified.stdout
    if sig is signal.SIGINT:
        assert proc.returncode == 130, stderr
        assert re.search(r"interrupted after [4-6] of 12 ids: every state written is whole", stderr), stderr
        assert sorted(p.name for p in states.iterdir()) == kept
    again = _pull(server, content, list(papers), "--concurrency", "2")
    assert again.returncode == 0, again.stderr
    summary = summary_line(again.stderr)
    assert summary.startswith(
        f"summary: {12 - len(kept)} pulled, 0 updated, {len(kept)} unchanged, 0 error; "
    )
    if sig is signal.SIGINT:  # what the interrupted run answered was committed: all of it comes back 304
        assert f"; {len(kept)} not modified (304), " in summary
    for arxiv_id, data in papers.items():
        assert (states / f"{arxiv_id}.state.json").read_bytes() == data


def _after(release: threading.Event, respond: Respond) -> Respond:
    def wait_then_respond(handler: BaseHTTPRequestHandler) -> None:
        release.wait(30)
        respond(handler)

    return wait_then_respond

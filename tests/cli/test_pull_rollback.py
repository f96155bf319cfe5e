"""`pull` keeps the stored state unless the served one has every event it has and more."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli, summary_line, tree
from tests.cli.servers import Server, body, serve
from tests.cli.states import with_events
from tests.synth import SigningKey

STATE = "/pith/2607.10001/state.json"
KEPT = "2607.10001.state.json"


@pytest.fixture
def server() -> Iterator[Server]:
    with serve() as running:
        yield running


@pytest.fixture
def base(new_paper: Callable[..., bytes], signing_key: SigningKey) -> bytes:
    """A signed state with its two events (record and first snapshot)."""
    return new_paper(signing_key, "2607.10001", "Paper A")


def _pull(server: Server, content: Path, served: bytes) -> tuple[int, str]:
    server.routes[STATE] = body(served)
    proc = run_cli("pull", "2607.10001", "--from", server.url, "--content", content, "--retries", "0")
    return proc.returncode, proc.stderr


def _content(make_content: Callable[..., Path], signing_key: SigningKey, kept: bytes) -> Path:
    content = make_content({KEPT: kept}, keys=[signing_key])
    verified = run_cli("verify", content / "states" / KEPT, "--keys", content / "keys")
    assert verified.returncode == 0, verified.stdout
    return content


def test_older_state_served_by_a_stale_mirror_is_refused(
    server: Server, make_content: Callable[..., Path], signing_key: SigningKey, base: bytes
) -> None:
    """The kept state has 4 events; a mirror serving the 2-event state is refused with the count and source."""
    content = _content(make_content, signing_key, with_events(base, ["snapshot 2", "snapshot 3"]))
    before = tree(content / "states")
    code, stderr = _pull(server, content, base)
    assert code == 1
    assert f"error      2607.10001: {server.url}{STATE}: refused for pith:" in stderr
    assert f"it lacks 2 of the 4 events of the verified {KEPT} you have (such as sha256:" in stderr
    assert tree(content / "states") == before


def test_old_state_padded_with_junk_invalid_events_is_refused(
    server: Server, make_content: Callable[..., Path], signing_key: SigningKey, base: bytes
) -> None:
    """An old state padded to event_count 10000 with junk invalid_events does not beat a newer kept one."""
    content = _content(make_content, signing_key, with_events(base, ["snapshot 2"]))
    before = tree(content / "states")
    padded = with_events(base, [], junk_invalid_events=9_998)
    code, stderr = _pull(server, content, padded)
    assert code == 1
    assert f"it lacks 1 of the 3 events of the verified {KEPT} you have" in stderr
    assert tree(content / "states") == before


def test_a_padded_kept_state_does_not_freeze_later_updates(
    server: Server, make_content: Callable[..., Path], signing_key: SigningKey, base: bytes
) -> None:
    """A kept state with event_count 10000 (junk) is still replaced by a genuinely newer one with a small count."""
    content = _content(make_content, signing_key, with_events(base, [], junk_invalid_events=9_998))
    newer = with_events(base, ["snapshot 2"])
    code, stderr = _pull(server, content, newer)
    assert code == 0, stderr
    assert summary_line(stderr).startswith("summary: 0 pulled, 1 updated, 0 unchanged, 0 error; ")
    assert (content / "states" / KEPT).read_bytes() == newer


def test_same_events_leave_the_kept_file_untouched(
    server: Server, make_content: Callable[..., Path], signing_key: SigningKey, base: bytes
) -> None:
    """Other bytes with the same event ids (here: padded counts) are 'unchanged', and the file is not rewritten."""
    content = _content(make_content, signing_key, base)
    before = (content / "states" / KEPT).stat()
    code, stderr = _pull(server, content, with_events(base, [], junk_invalid_events=50))
    assert code == 0, stderr
    assert summary_line(stderr).startswith("summary: 0 pulled, 0 updated, 1 unchanged, 0 error; ")
    assert "no new events (yours kept as it is)" in stderr
    after = (content / "states" / KEPT).stat()
    assert (content / "states" / KEPT).read_bytes() == base
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_diverged_state_is_refused(
    server: Server, make_content: Callable[..., Path], signing_key: SigningKey, base: bytes
) -> None:
    """A state with a new event but without one the kept file has is not newer: refused."""
    content = _content(make_content, signing_key, with_events(base, ["snapshot 2"]))
    code, stderr = _pull(server, content, with_events(base, ["another snapshot 2", "snapshot 3"]))
    assert code == 1
    assert f"it lacks 1 of the 3 events of the verified {KEPT} you have" in stderr


def test_genuine_newer_state_is_taken(
    server: Server, make_content: Callable[..., Path], signing_key: SigningKey, base: bytes
) -> None:
    """Every kept event plus new ones: the kept file is replaced."""
    content = _content(make_content, signing_key, with_events(base, ["snapshot 2"]))
    newer = with_events(base, ["snapshot 2", "snapshot 3"])
    code, stderr = _pull(server, content, newer)
    assert code == 0, stderr
    assert summary_line(stderr).startswith("summary: 0 pulled, 1 updated, 0 unchanged, 0 error; ")
    assert (content / "states" / KEPT).read_bytes() == newer

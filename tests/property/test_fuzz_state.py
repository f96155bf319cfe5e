"""Fuzzing the state loader, the verifier and the per-paper build: any input gets a verdict, never a crash.

Inputs are the real seed mutated by hypothesis: a field replaced by any JSON value,
deleted, duplicated under a new key, wrapped, or retyped; then possibly re-hashed and
re-signed (so mutations reach the checks and templates behind the signature), encoded
in another encoding, truncated, or bit-flipped. The contract: one of the four verdicts,
with a message for anything not verified, and no exception.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sitegen.build.paper_job import PaperContext, process_state
from sitegen.build.pipeline import build_site, load_inputs_config
from sitegen.fs.staging import held_root
from sitegen.pith.keys import Keyring
from sitegen.pith.report import InputReport, Status, Verdict
from sitegen.pith.verify import verify_state_bytes
from sitegen.site.config import SiteConfig
from tests.conftest import SEED_PATH
from tests.synth import SigningKey, resign_state, restate_hash

KEY = SigningKey.from_seed(b"fuzz", "fuzz-key")
SEED: dict[str, Any] = json.loads(SEED_PATH.read_text(encoding="utf-8"))

Path_ = tuple[str | int, ...]


def _paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    """Every path to a value inside ``value`` (keys and list indexes), the root excluded."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from _paths(child, (*prefix, index))


SEED_PATHS = sorted(_paths(SEED), key=repr)


def _seed_with_signature(signature_b64: str) -> bytes:
    state = copy.deepcopy(SEED)
    state["current"]["record_created"]["payload"]["receipt"]["signature_b64"] = signature_b64
    return json.dumps(restate_hash(state), ensure_ascii=False).encode("utf-8")


NON_ASCII_SIGNATURE = _seed_with_signature("é" * 88)
"""Found by this test: ``b64decode`` raised ValueError (not binascii.Error) and crashed the verifier."""

strings = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "\ud800", "\u202e", "\x00", "<script>", "../../etc", "pith:2026:", "é" * 3]),
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        strings,
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_states(draw: st.DrawFn) -> dict[str, Any]:
    """The seed with one to three mutations at random paths."""
    state = copy.deepcopy(SEED)
    # At most one "grow" a state: a list grown 4,000 times holds one element 4,000 times, so
    # growing a list inside that element too made a document of 16 million copies (encoding
    # it took 20 GB, and the kernel killed the test's process).
    grown = False
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(SEED_PATHS))
        parent: Any = state
        try:
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            current = parent[last]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
        if not isinstance(parent, dict | list):
            continue
        operation = draw(
            st.sampled_from(["same-type"] * 4 + ["replace", "delete", "add", "wrap", "retype", "grow"])
        )
        if operation == "same-type":  # keeps the shape, so the change reaches the checks and templates
            if isinstance(current, str):
                parent[last] = draw(strings)
            elif isinstance(current, bool | None):
                parent[last] = draw(st.none() | st.booleans())
            elif isinstance(current, int):
                parent[last] = draw(st.integers(-(2**40), 2**40))
            elif isinstance(current, list):
                parent[last] = [*current, draw(json_values)]
        elif operation == "replace":
            parent[last] = draw(json_values)
        elif operation == "delete":
            del parent[last]
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(strings)] = draw(json_values)
        elif operation == "wrap":
            parent[last] = [current]
        elif (
            operation == "grow" and not grown
        ):  # sizes around the limits (200,000 characters, 64 aliases, ...)
            grown = True
            times = draw(st.sampled_from([70, 1_000, 4_000]))
            if isinstance(current, str) and current:
                parent[last] = (current * (250_000 // len(current) + 1))[
                    : draw(st.sampled_from([199_999, 200_001]))
                ]
            elif isinstance(current, list) and current:
                parent[last] = current * times
        elif operation == "retype":
            parent[last] = (
                str(current)
                if not isinstance(current, str)
                else (int(current) if _small_ascii_number(current) else None)
            )
    return state


def _small_ascii_number(text: str) -> bool:
    """Text ``int()`` takes: ASCII digits only (not '²') and under Python's 4,300-digit limit."""
    return text.isascii() and text.isdigit() and len(text) < 4_000


def _encode(state: Any, how: str) -> bytes:
    text = json.dumps(state, ensure_ascii=how == "ascii", allow_nan=True)
    if how == "utf-16":
        return text.encode("utf-16", errors="surrogatepass")
    if how == "latin-1":
        return text.encode("latin-1", errors="replace")
    if how == "bom":
        return text.encode("utf-8-sig", errors="surrogatepass")
    return text.encode("utf-8", errors="surrogatepass")


@st.composite
def state_bytes(draw: st.DrawFn) -> bytes:
    """Bytes of a mutated seed: possibly re-hashed or re-signed, re-encoded, truncated or bit-flipped."""
    state = draw(mutated_states())
    finishing = draw(st.sampled_from(["none", "rehash", "resign"]))
    try:
        if finishing == "rehash":
            restate_hash(state)
        elif finishing == "resign":
            resign_state(state, KEY)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        pass  # the synthetic signer needs the shape the mutation broke: keep the state as it is
    data = _encode(state, draw(st.sampled_from(["utf-8"] * 6 + ["ascii", "utf-16", "latin-1", "bom"])))
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "flip"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip" and data:
        index = draw(st.integers(0, len(data) - 1))
        data = data[:index] + bytes([data[index] ^ (1 << draw(st.integers(0, 7)))]) + data[index + 1 :]
    return data


any_bytes = st.one_of(state_bytes(), st.binary(max_size=300))


def _assert_contract(report: InputReport) -> None:
    """One of the four verdicts; anything not verified says why."""
    assert report.verdict in set(Verdict)
    if report.verdict in (Verdict.FAILED, Verdict.REJECTED):
        assert report.errors and all(report.errors)
    elif report.verdict is Verdict.UNVERIFIABLE:
        assert any(c.summary for c in report.checks if c.status is Status.NOT_CHECKABLE)
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Keyring:
    """The real registry key and the fuzz key (so re-signed mutations reach every check)."""
    content = tmp_path_factory.mktemp("fuzz-keys")
    (content / "keys").mkdir()
    (content / "keys" / "pith-v1-2026-05.json").write_bytes(
        (SEED_PATH.parent.parent.parent / "content" / "keys" / "pith-v1-2026-05.json").read_bytes()
    )
    KEY.write_key_file(content / "keys")
    return load_inputs_config(content)[1]


@settings(max_examples=300, deadline=None)
@given(data=any_bytes)
@example(data=b'{"a": "\\ud800"}')
@example(data=b'{"\\ud800": null}')  # crashed: the error message quoted the unencodable key
@example(data=NON_ASCII_SIGNATURE)
@example(data=b"[" * 50_000)
@example(data=b'{"state_type": "pith_open_graph_state", "state_version": "1.0"}')
@example(data=b"1" * 5000)
def test_verify_state_bytes_gives_a_verdict_for_any_bytes(keyring: Keyring, data: bytes) -> None:
    """Any bytes: ``verify_state_bytes`` returns one of the four verdicts with a message, never raises."""
    report, _ = verify_state_bytes(data, "fuzz.state.json", keyring)
    _assert_contract(report)


@pytest.fixture(scope="module")
def paper_context(tmp_path_factory: pytest.TempPathFactory, keyring: Keyring) -> PaperContext:
    root = tmp_path_factory.mktemp("fuzz-paper")
    (root / "content" / "states").mkdir(parents=True)
    (root / "out").mkdir()
    return PaperContext(
        content_root=root / "content", out_root=root / "out", config=SiteConfig(), keyring=keyring
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=state_bytes())
def test_per_paper_build_never_raises(paper_context: PaperContext, data: bytes) -> None:
    """Read, verify, render and write one paper from any mutated state: a verdict, never an exception
    (a paper that is not verified writes under the held directory, until the site-wide step settles its paths)."""
    (paper_context.content_root / "states" / "fuzz.state.json").write_bytes(data)
    outcome = process_state(paper_context, "states/fuzz.state.json")
    _assert_contract(outcome.report)
    assert outcome.report_line
    if outcome.summary is not None:
        verified = outcome.summary.verdict is Verdict.VERIFIED
        root = (
            paper_context.out_root
            if verified
            else held_root(paper_context.out_root, "states/fuzz.state.json")
        )
        page = root / "pith" / outcome.summary.suffix / "index.html"
        assert page.read_bytes().startswith(b"<!doctype html>")


@settings(max_examples=12, deadline=None)
@given(states=st.lists(state_bytes(), min_size=1, max_size=3))
def test_whole_build_of_mutated_states_never_raises(keyring: Keyring, states: list[bytes]) -> None:
    """A whole build (site-wide pages, aliases, collisions) over mutated states completes with a report."""
    with tempfile.TemporaryDirectory() as tmp:
        content = Path(tmp) / "content"
        (content / "states").mkdir(parents=True)
        (content / "keys").mkdir()
        KEY.write_key_file(content / "keys")
        for i, data in enumerate(states):
            (content / "states" / f"s{i}.state.json").write_bytes(data)
        result = build_site(content, Path(tmp) / "out", jobs=1)
        assert len(result.reports) == len(states)
        for report in result.reports:
            _assert_contract(report)
        assert (Path(tmp) / "out" / "verification-report.json").is_file()

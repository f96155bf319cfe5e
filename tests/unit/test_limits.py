"""Resource limits: every limit accepts an input exactly at it and rejects one just over it."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sitegen.build.pipeline import build_site
from sitegen.errors import ConfigError, ParseError
from sitegen.fs.sources import load_keyring
from sitegen.pith.keys import Keyring
from sitegen.pith.parse import DEFAULT_LIMITS, Limits, parse_integrity
from sitegen.pith.report import Verdict
from sitegen.pith.verify import verify_state_bytes
from sitegen.site.config import load_site_config
from tests.conftest import REGISTRY_KEY_PATH
from tests.e2e.sitebuild import report_entries
from tests.synth import SigningKey, dump_state, restate_hash

SEED_DEPTH = 9
"""Nesting of the real seed (the top object is level 1)."""
SEED_LONGEST_STRING = 600
"""The seed's longest string: its abstract excerpt."""


@pytest.fixture
def keyring() -> Keyring:
    return load_keyring(REGISTRY_KEY_PATH.parent)


def _snapshot(state: dict[str, Any]) -> dict[str, Any]:
    snapshot: dict[str, Any] = state["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]
    return snapshot


def _with_aliases(state: dict[str, Any], total: int) -> None:
    aliases = state["current"]["source_aliases"]
    aliases += [
        {"alias_kind": "mirror_id", "alias_value": f"m{i}", "created_at": "2026-07-01T00:00:00Z"}
        for i in range(total - len(aliases))
    ]


def _with_findings(state: dict[str, Any], total: int) -> None:
    finding = {"detector": "doi_check", "severity": "advisory", "note": "unresolved DOI"}
    _snapshot(state)["integrity"]["findings"] = [dict(finding, ref_index=i) for i in range(total)]


def _with_claims(state: dict[str, Any], total: int) -> None:
    _snapshot(state)["claims"]["items"] = [{"text": f"claim {i}"} for i in range(total)]


def _with_references(state: dict[str, Any], total: int) -> None:
    _snapshot(state)["references"]["sample"] = [{"title": f"reference {i}"} for i in range(total)]


CountSetter = Callable[[dict[str, Any], int], None]

COUNT_LIMITS: list[tuple[str, str, CountSetter, str]] = [
    ("max_aliases", "limit.aliases", _with_aliases, "current.source_aliases"),
    ("max_findings", "limit.findings", _with_findings, "integrity.findings"),
    ("max_claims", "limit.claims", _with_claims, "claims.items"),
    ("max_references", "limit.references", _with_references, "references.sample"),
]


def _verify(state: dict[str, Any], keyring: Keyring, limits: Limits) -> tuple[Verdict, str]:
    report, _ = verify_state_bytes(dump_state(restate_hash(state)), "s.json", keyring, limits)
    return report.verdict, "\n".join(report.errors)


@pytest.mark.parametrize(("field", "check", "setter", "path"), COUNT_LIMITS, ids=[c[0] for c in COUNT_LIMITS])
def test_count_limit_at_is_verified_and_over_is_rejected(
    seed_state: dict[str, Any], keyring: Keyring, field: str, check: str, setter: CountSetter, path: str
) -> None:
    """A list with exactly the limit's items verifies; one item more is rejected naming the limit and field."""
    limits = dataclasses.replace(DEFAULT_LIMITS, **{field: 8})
    at = copy.deepcopy(seed_state)
    setter(at, 8)
    assert _verify(at, keyring, limits) == (Verdict.VERIFIED, "")
    over = copy.deepcopy(seed_state)
    setter(over, 9)
    verdict, message = _verify(over, keyring, limits)
    assert verdict is Verdict.REJECTED
    assert f"{path}: {check}: 9 items are over the limit of 8" in message


def test_events_limit_at_is_verified_and_over_is_rejected(
    seed_state: dict[str, Any], keyring: Keyring
) -> None:
    """The seed's two applied event ids fit a limit of 2 and are rejected under a limit of 1."""
    at = dataclasses.replace(DEFAULT_LIMITS, max_events=2)
    assert _verify(seed_state, keyring, at) == (Verdict.VERIFIED, "")
    verdict, message = _verify(seed_state, keyring, dataclasses.replace(at, max_events=1))
    assert verdict is Verdict.REJECTED
    assert "s.json: applied_event_ids: limit.events: 2 items are over the limit of 1" in message


def test_integrity_events_over_limit_is_a_parse_error() -> None:
    """An integrity file with more events than ``max_events`` is refused naming ``events``."""
    event = {
        "event_id": 1,
        "event_type": "pith.integrity.v1",
        "payload_sha256": "0" * 64,
        "signature_b64": "",
        "signing_key_id": "k",
    }
    document = {
        "schema": "https://pith.science/schemas/pith-integrity/v1.json",
        "arxiv_id": "2607.01083",
        "integrity": {},
        "events": [event, event],
    }
    data = json.dumps(document).encode()
    assert len(parse_integrity(data, "i.json", Limits(max_events=2)).integrity.events) == 2
    with pytest.raises(
        ParseError, match=r"^i\.json: events: limit\.events: 2 items are over the limit of 1$"
    ):
        parse_integrity(data, "i.json", Limits(max_events=1))


def test_string_length_limit_names_the_field(seed_state: dict[str, Any], keyring: Keyring) -> None:
    """The seed's longest string fits a limit of its length; one character less rejects it by path."""
    at = dataclasses.replace(DEFAULT_LIMITS, max_string_chars=SEED_LONGEST_STRING)
    assert _verify(seed_state, keyring, at) == (Verdict.VERIFIED, "")
    over = dataclasses.replace(at, max_string_chars=SEED_LONGEST_STRING - 1)
    verdict, message = _verify(seed_state, keyring, over)
    assert verdict is Verdict.REJECTED
    assert (
        "current.graph_snapshots[0].payload.graph_snapshot.paper.abstract_excerpt: limit.string_length: "
        "a string of 600 characters is over the limit of 599"
    ) in message


def test_string_length_limit_applies_to_keys(seed_state: dict[str, Any], keyring: Keyring) -> None:
    """An object key longer than the limit is rejected too (keys are strings a page may show)."""
    seed_state["x" * 700] = 1
    verdict, message = _verify(seed_state, keyring, DEFAULT_LIMITS)
    assert verdict is not Verdict.REJECTED
    verdict, message = _verify(seed_state, keyring, Limits(max_string_chars=699))
    assert verdict is Verdict.REJECTED
    assert f"s.json: {'x' * 700}: limit.string_length" in message


def test_depth_limit_at_is_verified_and_over_is_rejected(seed_bytes: bytes, keyring: Keyring) -> None:
    """The seed nests 9 levels: a depth limit of 9 verifies it, 8 rejects it with ``json.depth``."""
    report, _ = verify_state_bytes(seed_bytes, "s.json", keyring, Limits(max_depth=SEED_DEPTH))
    assert report.verdict is Verdict.VERIFIED
    report, _ = verify_state_bytes(seed_bytes, "s.json", keyring, Limits(max_depth=SEED_DEPTH - 1))
    assert report.verdict is Verdict.REJECTED
    assert report.errors == (f"s.json: json.depth: nesting is deeper than the limit of {SEED_DEPTH - 1}",)


def test_deep_nesting_far_over_the_limit_is_rejected_without_recursion_error(keyring: Keyring) -> None:
    """100,000 nested lists are rejected with a message, not a RecursionError."""
    data = b"[" * 100_000 + b"]" * 100_000
    report, _ = verify_state_bytes(data, "deep.json", keyring)
    assert report.verdict is Verdict.REJECTED
    assert "json.depth" in report.errors[0]


def test_size_limit_at_is_read_and_over_is_rejected(seed_bytes: bytes, keyring: Keyring) -> None:
    """A file of exactly ``max_bytes`` bytes is read; one byte more is rejected with ``json.size``."""
    padded = seed_bytes + b" " * 100
    limits = Limits(max_bytes=len(padded))
    report, _ = verify_state_bytes(padded, "s.json", keyring, limits)
    assert report.verdict is Verdict.VERIFIED
    report, _ = verify_state_bytes(padded + b" ", "s.json", keyring, limits)
    assert report.verdict is Verdict.REJECTED
    assert report.errors == (
        f"s.json: json.size: file has {len(padded) + 1} bytes, the limit is {len(padded)}",
    )


def test_default_limits_fit_the_real_seed(seed_bytes: bytes, keyring: Keyring) -> None:
    """The defaults leave the real record far inside every limit."""
    report, _ = verify_state_bytes(seed_bytes, "s.json", keyring)
    assert report.verdict is Verdict.VERIFIED
    assert DEFAULT_LIMITS.max_string_chars > 100 * SEED_LONGEST_STRING
    assert DEFAULT_LIMITS.max_depth > 2 * SEED_DEPTH


def test_site_yaml_sets_every_limit() -> None:
    """Each ``limits:`` key in site.yaml sets its limit; the rest keep their defaults."""
    keys = [
        "max_state_bytes",
        "max_json_depth",
        "max_states",
        "max_aliases",
        "max_findings",
        "max_claims",
        "max_references",
        "max_events",
        "max_string_chars",
        "max_output_bytes_per_paper",
    ]
    text = "limits:\n" + "".join(f"  {key}: {n}\n" for n, key in enumerate(keys, start=3))
    limits = load_site_config(text).limits
    assert [getattr(limits, f.name) for f in dataclasses.fields(Limits)] == list(range(3, 3 + len(keys)))
    assert load_site_config("limits:\n  max_claims: 5\n").limits == Limits(max_claims=5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "limits:\n  max_titles: 5\n",
            r"site\.yaml: limits\.max_titles: config\.unknown_key: unknown key \'max_titles\'",
        ),
        ("limits:\n  max_claims: 0\n", r"limits\.max_claims: config\.type: expected a positive integer"),
        ("limits:\n  max_claims: '5'\n", r"limits\.max_claims: config\.type: expected a positive integer"),
        ("limits:\n  max_claims: true\n", r"limits\.max_claims: config\.type: expected a positive integer"),
        ("limits: 5\n", r"site\.yaml: limits: config\.type: expected a mapping"),
    ],
)
def test_bad_limits_in_site_yaml_are_config_errors(text: str, message: str) -> None:
    """Unknown limit keys and values that are not positive integers are refused by name."""
    with pytest.raises(ConfigError, match=message):
        load_site_config(text)


def _content_with(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], n: int, yaml: str
) -> Path:
    key = SigningKey.from_seed(b"limits", "limits-key")
    states = {f"p{i}.state.json": new_paper(key, f"2607.0{i:04d}") for i in range(n)}
    return make_content(states, keys=[key], site_yaml=yaml)


def test_states_per_build_over_the_limit_are_rejected_unread(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """With ``max_states: 2``, two of three states are built and the third (sorted last) is rejected."""
    content = _content_with(make_content, new_paper, 3, "limits:\n  max_states: 2\n")
    result = build_site(content, tmp_path / "out", jobs=1)
    verdicts = {r.input: r.verdict for r in result.reports}
    assert verdicts == {
        "states/p0.state.json": Verdict.VERIFIED,
        "states/p1.state.json": Verdict.VERIFIED,
        "states/p2.state.json": Verdict.REJECTED,
    }
    rejected = next(r for r in result.reports if r.verdict is Verdict.REJECTED)
    assert rejected.errors == (
        "states/p2.state.json: limit.states: the content has 3 state files, over the limit of 2; not read",
    )
    assert not (tmp_path / "out" / "pith").joinpath(rejected.input).exists()
    assert result.papers == 2
    report = json.loads((tmp_path / "out" / "verification-report.json").read_text())
    assert report["counts"]["rejected"] == 1


def test_states_per_build_at_the_limit_all_build(
    make_content: Callable[..., Path], new_paper: Callable[..., bytes], tmp_path: Path
) -> None:
    """With ``max_states: 2`` and exactly two states, both are verified."""
    content = _content_with(make_content, new_paper, 2, "limits:\n  max_states: 2\n")
    result = build_site(content, tmp_path / "out", jobs=1)
    assert [r.verdict for r in result.reports] == [Verdict.VERIFIED, Verdict.VERIFIED]


def test_build_keeps_only_what_is_wrong_of_each_report_in_memory(
    make_content: Callable[..., Path],
    new_paper: Callable[..., bytes],
    tmp_path: Path,
    seed_state: dict[str, Any],
) -> None:
    """In memory a failed input keeps only its failed checks, a verified one none; the file keeps all."""
    key = SigningKey.from_seed(b"slim", "slim-key")
    bad = json.loads(new_paper(key, "2607.00002"))
    bad["current"]["graph_snapshots"][0]["payload"]["graph_snapshot"]["paper"]["title"] = "changed"
    states = {
        "good.state.json": new_paper(key, "2607.00001"),
        "bad.state.json": dump_state(restate_hash(bad)),
    }
    result = build_site(make_content(states, keys=[key]), tmp_path / "out", jobs=1)
    by_input = {r.input: r for r in result.reports}
    assert by_input["states/good.state.json"].checks == ()
    assert [c.id for c in by_input["states/bad.state.json"].checks] == ["title.canon_sha256"]
    written = report_entries(tmp_path / "out")
    assert all(len(entry["checks"]) > 10 for entry in written.values())


def test_readme_limits_example_names_every_limit_with_its_default() -> None:
    """The ``limits:`` block in README.md is valid site.yaml, sets every limit, and shows the defaults."""
    readme = (Path(__file__).resolve().parent.parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert load_site_config(block).limits == DEFAULT_LIMITS
    assert len(yaml.safe_load(block)["limits"]) == len(dataclasses.fields(Limits))


def test_shipped_site_yaml_lists_every_limit_with_its_default() -> None:
    """The commented-out ``limits:`` block of content/site.yaml, uncommented, sets every limit to its default."""
    text = (Path(__file__).resolve().parent.parent.parent / "content" / "site.yaml").read_text(
        encoding="utf-8"
    )
    lines = text.splitlines()
    start = lines.index("# limits:")
    block = [line[2:] for line in lines[start:] if line.startswith("#   ") or line == "# limits:"]
    parsed = yaml.safe_load("\n".join(block))
    assert len(parsed["limits"]) == len(dataclasses.fields(Limits))
    assert load_site_config("\n".join(block)).limits == DEFAULT_LIMITS

"""Strict loading of state and integrity files: what is accepted, what is refused, and the message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sitegen.errors import ParseError, SitegenError
from sitegen.pith.parse import DEFAULT_LIMITS, Limits, load_json, parse_integrity, parse_state
from tests.synth import dump_state
from tests.vectors.make_vectors import HERE as VECTORS


def _refused(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse_state(data, "in.json", limits)
    return info.value


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_seed_parses_into_the_models_the_site_uses(seed_bytes: bytes) -> None:
    """The real seed parses; its typed fields carry the real values."""
    parsed = parse_state(seed_bytes, "seed.json")
    state = parsed.state
    assert state.pith_number == "pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7"
    assert state.signed_record == state.canonical_record
    assert state.signed_record.source_id == "2607.01083"
    assert state.signed_record.source_version == 1
    assert state.receipt.key_id == "pith-v1-2026-05"
    assert state.receipt.signed_message == "canonical_sha256_bytes"
    assert [a.kind for a in state.aliases] == [
        "arxiv",
        "arxiv_version",
        "doi",
        "pith_short_12",
        "pith_short_16",
        "pith_short_8",
    ]
    assert state.latest_snapshot is not None
    assert state.latest_snapshot.paper.title == "Staleness-Learning Rate Scaling Laws for Asynchronous RLHF"
    assert len(state.applied_event_ids) == 2
    assert state.extra_fields == ()


def test_parsed_state_keeps_the_raw_value_and_bytes(seed_bytes: bytes) -> None:
    """Hashing uses the raw JSON and the exact bytes, kept beside the model."""
    parsed = parse_state(seed_bytes, "seed.json")
    assert parsed.data == seed_bytes
    assert parsed.raw == json.loads(seed_bytes)


def test_unknown_fields_are_kept_and_listed(seed_state: dict[str, Any]) -> None:
    """Fields the format may grow are kept in the raw value and named, not dropped or refused."""
    seed_state["future"] = {"x": 1}
    seed_state["current"]["future_list"] = []
    parsed = parse_state(dump_state(seed_state), "in.json")
    assert parsed.state.extra_fields == ("current.future_list", "future")
    assert parsed.raw["future"] == {"x": 1}


def test_size_limit_is_inclusive_and_configurable(seed_bytes: bytes) -> None:
    """A file of exactly max_bytes parses; one byte more is refused with check json.size."""
    size = len(seed_bytes)
    parse_state(seed_bytes, "in.json", Limits(max_bytes=size))
    error = _refused(seed_bytes + b" ", Limits(max_bytes=size))
    assert (error.check, error.field) == ("json.size", "")
    assert str(error) == f"in.json: json.size: file has {size + 1} bytes, the limit is {size}"


def test_default_size_limit_refuses_a_file_over_4_mib(seed_bytes: bytes) -> None:
    """The default limit (4 MiB) refuses a padded seed before parsing it."""
    padded = seed_bytes + b" " * (DEFAULT_LIMITS.max_bytes - len(seed_bytes) + 1)
    assert _refused(padded).check == "json.size"


def test_depth_limit_is_inclusive_and_configurable() -> None:
    """Nesting of exactly max_depth is read; one level more is refused with check json.depth."""
    assert load_json(_nested(5), "in.json", Limits(max_depth=5)) == [[[[[]]]]]
    with pytest.raises(ParseError, match=r"^in\.json: json\.depth: nesting is deeper than the limit of 4$"):
        load_json(_nested(5), "in.json", Limits(max_depth=4))


def test_nesting_beyond_the_interpreters_recursion_is_a_parse_error() -> None:
    """Half a million nested lists give json.depth, not a RecursionError."""
    with pytest.raises(ParseError) as info:
        load_json(_nested(500_000), "in.json")
    assert info.value.check == "json.depth"


def test_duplicate_key_names_its_full_json_path(seed_bytes: bytes) -> None:
    """A key repeated deep inside the file is reported at its JSON path, list indexes included."""
    data = seed_bytes.replace(b'"alias_kind":"doi"', b'"alias_kind":"doi","alias_kind":"doi"')
    error = _refused(data)
    assert (error.field, error.check) == ("current.source_aliases[2].alias_kind", "json.duplicate_key")


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1E+999"])
def test_non_finite_numbers_are_refused(seed_bytes: bytes, constant: bytes) -> None:
    """NaN, Infinity and numbers too large for a finite float are not JSON values."""
    error = _refused(seed_bytes.replace(b'"event_count":2', b'"event_count":' + constant))
    assert (error.check, error.field) == ("json.constant", "event_count")


def test_lone_surrogate_in_a_key_is_refused() -> None:
    """Keys are strings too: an escaped lone surrogate in a key is refused."""
    with pytest.raises(ParseError, match=r"json\.string: a string holds a lone surrogate escape"):
        load_json(b'{"\\ud800": 1}', "in.json")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("event_count",), True, "event_count: state.type: expected an integer, got a boolean (true)"),
        (("state_version",), 1.0, "state_version: state.type: expected a string, got a number (1.0)"),
        (("pith_number",), None, "pith_number: state.type: expected a string, got null"),
        (
            ("current", "source_aliases"),
            {},
            "current.source_aliases: state.type: expected a list, got an object",
        ),
        (
            ("current", "graph_snapshots"),
            ["x"],
            "current.graph_snapshots[0]: state.type: expected an object, got a string",
        ),
        (
            ("applied_event_ids",),
            [1],
            "applied_event_ids[0]: state.type: expected a string, got an integer",
        ),
        (
            ("current", "record_created", "payload", "canonical_record", "source", "version"),
            "1",
            "current.record_created.payload.canonical_record.source.version: state.type: "
            'expected an integer, got a string ("1")',
        ),
    ],
)
def test_wrong_json_types_are_refused_with_their_path(
    seed_state: dict[str, Any], path: tuple[str, ...], value: object, message: str
) -> None:
    """Exact JSON types: a boolean is not an integer, "1" is not 1, and the message names the field."""
    target = seed_state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert str(_refused(dump_state(seed_state))) == f"in.json: {message}"


def test_parse_error_is_a_value_error_carrying_file_field_and_check(seed_state: dict[str, Any]) -> None:
    """ParseError subclasses ValueError and SitegenError and keeps its parts apart for reports."""
    del seed_state["state_sha256"]
    error = _refused(dump_state(seed_state))
    assert isinstance(error, ValueError)
    assert isinstance(error, SitegenError)
    assert (error.source, error.field, error.check) == ("in.json", "state_sha256", "state.missing_field")


def test_integrity_file_parses_with_its_signed_event() -> None:
    """An integrity file in the registry's shape parses; its event keeps the real digest and signature."""
    data = (VECTORS / "registry_signed_event.integrity.json").read_bytes()
    parsed = parse_integrity(data, "i.json")
    event = parsed.integrity.events[0]
    assert (event.event_id, event.signing_key_id) == (3600, "pith-v1-2026-05")
    assert parsed.integrity.arxiv_id == "2604.23340"
    assert parsed.integrity.integrity.findings[0].severity == "advisory"


def test_integrity_file_with_another_schema_is_refused() -> None:
    """Only the registry's integrity schema v1 is read as an integrity file."""
    data = (VECTORS / "registry_signed_event.integrity.json").read_bytes().replace(b"/v1.json", b"/v2.json")
    with pytest.raises(ParseError, match=r"^i\.json: schema: integrity\.schema: expected "):
        parse_integrity(data, "i.json")

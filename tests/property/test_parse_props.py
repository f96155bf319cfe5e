"""Properties of strict loading and key files: bad input is a ParseError or ConfigError, never anything else."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen.errors import ConfigError, ParseError
from sitegen.pith.keys import parse_key
from sitegen.pith.parse import Limits, load_json, parse_integrity
from tests.conftest import REGISTRY_KEY_PATH
from tests.strategies import json_values, texts

REGISTRY_DOC: dict[str, Any] = json.loads(REGISTRY_KEY_PATH.read_text(encoding="utf-8"))
KEY_FIELDS = [*sorted(REGISTRY_DOC), "not_before", "not_after"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_load_json_raises_only_parse_errors(data: bytes) -> None:
    """Any bytes are JSON or a ParseError naming a json.* check; no other exception escapes."""
    try:
        load_json(data, "any.json")
    except ParseError as error:
        assert error.check.startswith("json.")


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_integrity_parser_raises_only_parse_errors(value: object) -> None:
    """Any JSON, also inside an integrity file's shape, parses or is a ParseError."""
    document = {"schema": "https://pith.science/schemas/pith-integrity/v1.json", "arxiv_id": "x"}
    document.update(integrity={"findings": [value]}, events=[value])
    for candidate in (value, document):
        with contextlib.suppress(ParseError):
            parse_integrity(json.dumps(candidate).encode("utf-8"), "i.json")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KEY_FIELDS), json_values | texts)
def test_key_file_with_any_field_changed_is_accepted_only_if_self_consistent(
    field: str, value: object
) -> None:
    """The registry key with any one field set to any value either still loads as the same key
    (an extra or harmless field) or is refused with a ConfigError; nothing else escapes."""
    document = dict(REGISTRY_DOC)
    document[field] = value
    try:
        key = parse_key(document, "keys/k.json")
    except ConfigError as error:
        assert error.check.startswith("key.")
        return
    assert key.fingerprint_hex == REGISTRY_DOC["fingerprint_sha256_hex"]


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_bracket_text = st.lists(
    st.sampled_from(['"', "\\", "[", "]", "{", "}", "a", "\ud800", "é"]), max_size=6
).map("".join)
_nested = st.recursive(
    _bracket_text | st.integers(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_bracket_text, children, max_size=3),
    max_leaves=12,
)


@given(_nested, st.integers(min_value=1, max_value=6), st.booleans())
def test_depth_and_surrogate_checks_match_the_parsed_value(
    value: object, limit: int, ascii_only: bool
) -> None:
    """Brackets and quotes inside strings never fool the nesting check; any lone surrogate is refused."""
    text = json.dumps({"v": value}, ensure_ascii=ascii_only)
    has_surrogate = "\\ud800" in json.dumps(value)
    try:
        load_json(text.encode("utf-8", "surrogatepass"), "x.json", Limits(max_depth=limit))
    except ParseError as exc:
        if exc.check == "json.depth":
            assert _depth({"v": value}) > limit
        else:
            assert exc.check in ("json.string", "json.utf8") and has_surrogate
    else:
        assert _depth({"v": value}) <= limit and not has_surrogate

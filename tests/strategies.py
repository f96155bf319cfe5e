"""Hypothesis strategies shared by the property tests: JSON values, seed-based states and their edits."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from sitegen.build.paper_job import PaperSummary
from sitegen.pith.canonical import canonical_bytes
from sitegen.pith.report import Verdict
from sitegen.render.search_index import SearchKeys
from tests.conftest import SEED_PATH
from tests.synth import SigningKey, resign_state

SEED: dict[str, Any] = json.loads(SEED_PATH.read_text(encoding="utf-8"))
TEST_KEY = SigningKey.from_seed(b"pith-sitegen property tests", "property-test-key")
"""A test key from a fixed seed, so failing examples replay the same bytes."""

Path = tuple[str | int, ...]

# Lone surrogates (category Cs) are not text: no UTF-8 file can hold them.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
"""Any JSON value ``json.loads`` can return from strict JSON."""
hashes = st.integers(0, 2**32 - 1)
"""32-bit hashes (``search_index.term_hash``)."""


def summaries(text: st.SearchStrategy[str] = texts) -> st.SearchStrategy[PaperSummary]:
    """Paper summaries whose every text is drawn from ``text``."""
    return st.builds(
        PaperSummary,
        input=text,
        verdict=st.sampled_from(list(Verdict)),
        suffix=text,
        pith_number=text,
        title=text,
        authors=st.lists(text, max_size=5).map(tuple),
        primary_cat=text,
        cross_cats=st.lists(text, max_size=3).map(tuple),
        submitted_at=text,
        source_id=text,
        canonical_sha256=text,
        aliases=st.lists(st.tuples(text, text), max_size=4).map(tuple),
        integrity_endpoint=text,
        integrity_sha256=text,
        input_sha256=text,
        alias_paths=st.lists(st.none() | text, max_size=4).map(tuple),
        alias_hashes=st.lists(st.integers(0, 2**64 - 1), max_size=4).map(tuple),
        search=st.builds(
            SearchKeys,
            title_terms=st.lists(text, max_size=4).map(tuple),
            other_terms=st.lists(text, max_size=4).map(tuple),
            term_hashes=st.lists(hashes, max_size=8).map(tuple),
            entry=text,
            entry_hash=hashes,
        ),
    )


def signed_seed() -> dict[str, Any]:
    """A fresh copy of the seed, re-signed by TEST_KEY: verified with a keyring trusting that key."""
    return resign_state(copy.deepcopy(SEED), TEST_KEY)


def leaf_paths(value: object, path: Path = ()) -> Iterator[Path]:
    """Every path to a scalar inside a JSON value, lists and objects alike."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaf_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaf_paths(child, (*path, index))
    else:
        yield path


def get_at(value: Any, path: Path) -> Any:
    for part in path:
        value = value[part]
    return value


def set_at(value: Any, path: Path, new: object) -> None:
    get_at(value, path[:-1])[path[-1]] = new


SIGNED_RECORD: Path = ("current", "record_created", "payload", "canonical_record")
RECORD_LEAVES = sorted(leaf_paths(get_at(SEED, SIGNED_RECORD)), key=repr)
SEED_LEAVES = sorted(leaf_paths(SEED), key=repr)


@st.composite
def different_of_same_type(draw: st.DrawFn, old: object) -> object:
    """A value of the same JSON type as ``old`` that is not equal to it."""
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return draw(st.integers().filter(lambda v: v != old))
    return draw(texts.filter(lambda v: v != old))


@st.composite
def record_edits(draw: st.DrawFn) -> tuple[Path, object]:
    """A leaf of the signed canonical record (as a path inside it) and a new value of the same type."""
    path = draw(st.sampled_from(RECORD_LEAVES))
    return path, draw(different_of_same_type(get_at(get_at(SEED, SIGNED_RECORD), path)))


@st.composite
def mutated_seed_bytes(draw: st.DrawFn) -> tuple[bytes, bool]:
    """The real seed with one leaf replaced by any JSON value, serialised (it often still parses),
    and whether the new value differs canonically from the old one."""
    state = copy.deepcopy(SEED)
    path = draw(st.sampled_from(SEED_LEAVES))
    old, new = get_at(state, path), draw(json_values)
    set_at(state, path, new)
    data = json.dumps(state, ensure_ascii=draw(st.booleans())).encode("utf-8")
    return data, canonical_bytes(old) != canonical_bytes(new)

"""Strict parsing of Pith state and integrity files into models (layer 1).

Strict means: UTF-8 only, no duplicate keys, no NaN or infinities, bounded size
and nesting, a JSON object at the top, known ``state_type``/``state_version``,
and exact JSON types (the string ``"1"`` is not the integer ``1``). Every failure
is a ``ParseError`` naming the file, the field path and the check. ``Any`` stops
here: values are narrowed with ``isinstance`` and models are built field by field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sitegen.errors import ParseError
from sitegen.pith.model import (
    COMPLETENESS_LISTS,
    Alias,
    CanonicalRecord,
    Claim,
    Event,
    Finding,
    GraphSnapshot,
    IntegrityEvent,
    IntegrityFile,
    IntegritySnapshot,
    JSONValue,
    Paper,
    Receipt,
    Reference,
    Signer,
    StateFile,
)

__all__ = [
    "DEFAULT_LIMITS",
    "STATE_TYPE",
    "STATE_VERSIONS",
    "Limits",
    "ParsedIntegrity",
    "ParsedState",
    "load_json",
    "parse_integrity",
    "parse_state",
]

STATE_TYPE = "pith_open_graph_state"
STATE_VERSIONS = ("1.0",)
INTEGRITY_SCHEMA = "https://pith.science/schemas/pith-integrity/v1.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Resource limits of a build; the defaults fit every real record seen, with a wide margin.

    A file over a per-file limit is ``rejected`` with a ``ParseError`` naming the limit;
    state files beyond ``max_states`` are rejected unread. Real records have about
    5 KB, 6 aliases, 2 events, 10 sampled references and a few findings; the longest
    real strings are author lists of large collaborations (tens of thousands of characters).
    """

    max_bytes: int = 4 * 1024 * 1024
    """Bytes of one state or integrity file."""
    max_depth: int = 64
    """Nesting of JSON arrays and objects in one file."""
    max_states: int = 1_000_000
    """State files in one build."""
    max_aliases: int = 64
    """Entries of ``current.source_aliases``."""
    max_findings: int = 1_000
    """Integrity findings (and, separately, detectors run) of one snapshot or integrity file."""
    max_claims: int = 1_000
    """Items of a snapshot's ``claims``."""
    max_references: int = 1_000
    """Items of a snapshot's ``references.sample``."""
    max_events: int = 10_000
    """Entries of each event list of one file: graph snapshots, applied event ids,
    equivocations, invalid events, integrity events."""
    max_string_chars: int = 200_000
    """Characters of any one JSON string (object keys included)."""
    max_output_bytes_per_paper: int = 16 * 1024 * 1024
    """Bytes of one paper's own files in the site (its page, endpoints and alias redirects), summed
    before any is written; a state over it is ``rejected`` and nothing of it is written. Every
    other limit bounds the input; this one bounds what the input becomes, which escaping and
    repetition can make many times larger (a character ``<`` is four bytes in HTML, six in
    JSON-LD, and the title is shown several times). The real seed's files take 57 KB and those
    of a record with 3,000 authors about 270 KB: 16 MiB is about 300 and 60 times these."""


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedState:
    """The model plus the raw JSON value it came from (hash the raw value, never the model)."""

    state: StateFile
    raw: Mapping[str, JSONValue]
    data: bytes
    has_floats: bool
    """Whether ``raw`` holds a number with a fraction or exponent. Without one, every value
    in it is a dict, list, str, int, bool or None, which the endpoints' encoder need not
    check again (``render.json_bytes(..., plain=True)``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedIntegrity:
    integrity: IntegrityFile
    raw: Mapping[str, JSONValue]
    data: bytes


# -- strict JSON -------------------------------------------------------------------


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs_without_duplicates(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


class _Marked(dict[str, JSONValue]):
    """On the error path's second parse: the object that held the duplicate key."""


class _Marker:
    """On the error path's second parse: stands in for a NaN, infinity or out-of-range number."""


def _path_of_mark(text: str, **hooks: Any) -> str:
    """Parse ``text`` again with hooks that mark the offending value; return the mark's JSON path.

    Runs only when a file is already being refused, to name the field in the message.
    The hooks run in the same order as in the first parse, so the first mark is the
    value that failed there. Returns "" when the second parse fails another way.
    """
    try:
        root: JSONValue = json.loads(text, **hooks)
    except (ValueError, RecursionError):
        return ""
    return _json_path(root, lambda item: isinstance(item, _Marked | _Marker)) or ""


def _duplicate_key_path(text: str, key: str) -> str:
    """The JSON path of the duplicated ``key``."""
    marked: list[bool] = []

    def mark_first(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
        if len({k for k, _ in pairs}) != len(pairs) and not marked:
            marked.append(True)
            return _Marked(pairs)
        return dict(pairs)

    where = _path_of_mark(text, object_pairs_hook=mark_first)
    return f"{where}.{key}" if where else key


def _constant_path(text: str) -> str:
    """The JSON path of the first NaN, infinity or number too large for a float."""
    marked: list[bool] = []

    def mark_first(value: JSONValue) -> JSONValue:
        if marked:
            return value
        marked.append(True)
        return _Marker()

    def number(literal: str) -> JSONValue:
        value = float(literal)
        return value if math.isfinite(value) else mark_first(value)

    return _path_of_mark(text, parse_constant=mark_first, parse_float=number)


def _refuse_constant(name: str) -> JSONValue:
    raise ValueError(f"non-standard constant {name}")


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent; ``1e400`` would silently become infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range for a finite float")
    return value


def load_json(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> JSONValue:
    """Parse bytes as strict JSON.

    Raises:
        ParseError: with check ``json.size``, ``json.utf8``, ``json.syntax``,
            ``json.duplicate_key``, ``json.constant``, ``json.depth`` or ``json.string``.
    """
    return _load_json(data, source, limits)[0]


def _load_json(data: bytes, source: str, limits: Limits) -> tuple[JSONValue, bool]:
    """``load_json``, and whether the document holds a float (see ``ParsedState.has_floats``)."""
    if len(data) > limits.max_bytes:
        raise ParseError(
            source, "", "json.size", f"file has {len(data)} bytes, the limit is {limits.max_bytes}"
        )
    if not data.strip():
        raise ParseError(source, "", "json.syntax", "file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(source, "", "json.utf8", f"not UTF-8: invalid byte at offset {exc.start}") from exc
    if text.startswith("\ufeff"):
        raise ParseError(source, "", "json.utf8", "file starts with a byte order mark")
    has_floats = False

    def parse_float(literal: str) -> float:
        nonlocal has_floats
        has_floats = True
        return _finite_float(literal)

    try:
        value: JSONValue = json.loads(
            text,
            object_pairs_hook=_pairs_without_duplicates,
            parse_constant=_refuse_constant,
            parse_float=parse_float,
        )
    except _DuplicateKey as exc:
        raise ParseError(
            source,
            _duplicate_key_path(text, exc.key),
            "json.duplicate_key",
            "key appears twice in one object",
        ) from exc
    except json.JSONDecodeError as exc:
        raise ParseError(
            source, "", "json.syntax", f"{exc.msg}: line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise ParseError(
            source, "", "json.depth", f"nesting is too deep to read (the limit is {limits.max_depth})"
        ) from exc
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        detail = "an integer has too many digits" if "integer string conversion" in str(exc) else str(exc)
        raise ParseError(source, _constant_path(text), "json.constant", detail) from exc
    _check_depth_and_strings(value, text, source, limits)
    return value, has_floats


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _deepest_nesting(value: JSONValue) -> int:
    """The deepest nesting of arrays and objects in ``value`` (1: a flat object or array; 0: a scalar).

    Walked over the parsed value's containers: about a third of the time of reading it off
    the text's brackets outside strings, and every state file has more brackets than the limit.
    """
    if type(value) is not dict and type(value) is not list:
        return 0
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    pop, push = pending.pop, pending.append
    while pending:
        container, depth = pop()
        if depth > deepest:
            deepest = depth
        for child in container.values() if type(container) is dict else container:
            if type(child) is dict or type(child) is list:
                push((child, depth + 1))
    return deepest


def _check_depth_and_strings(value: JSONValue, text: str, source: str, limits: Limits) -> None:
    """Bound nesting and string length and refuse lone surrogates in ``value``, parsed from ``text``.

    Nesting is walked on the parsed value, and only when the text has more brackets
    than the limit at all. Only a text
    long enough to hold an over-long string, or with an escape of a surrogate, has its
    strings walked: decoding never makes a string longer than its source, and strictly
    decoded UTF-8 holds surrogates only from ``\\uD800``-``\\uDFFF`` escapes.
    """
    brackets = text.count("[") + text.count("{")
    if brackets > limits.max_depth and _deepest_nesting(value) > limits.max_depth:
        raise ParseError(source, "", "json.depth", f"nesting is deeper than the limit of {limits.max_depth}")
    if len(text) <= limits.max_string_chars and _SURROGATE_ESCAPE.search(text) is None:
        return
    stack: list[JSONValue] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            _check_string(item, value, source, limits)


def _check_string(text: str, document: JSONValue, source: str, limits: Limits) -> None:
    if len(text) > limits.max_string_chars:
        raise ParseError(
            source,
            _path_of(document, text),
            "limit.string_length",
            f"a string of {len(text)} characters is over the limit of {limits.max_string_chars}",
        )
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError(
                source, _path_of(document, text), "json.string", "a string holds a lone surrogate escape"
            ) from exc


def _path_of(document: JSONValue, target: str) -> str:
    """The JSON path of the string (value or key) that is ``target``; only run on errors."""
    path = _json_path(document, lambda item: item is target)
    return "" if path is None else path or "(top level)"


def _json_path(document: JSONValue, is_target: Callable[[JSONValue], bool]) -> str | None:
    """The JSON path of a value or key for which ``is_target`` holds ("" for the whole
    document), or None. A full walk: only for naming the field of an error."""
    stack: list[tuple[JSONValue, str]] = [(document, "")]
    while stack:
        item, path = stack.pop()
        if is_target(item):
            return path
        if isinstance(item, dict):
            for key, child in item.items():
                shown = key.encode("utf-8", "backslashreplace").decode("utf-8")  # a key may be the bad string
                here = f"{path}.{shown}" if path else shown
                if is_target(key):
                    return here
                stack.append((child, here))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return None


# -- typed field access ------------------------------------------------------------


class _Fields:
    """Typed access to one JSON object, naming ``source`` and the field path in errors.

    ``kind`` (``state`` or ``integrity``) prefixes the check ids: ``state.type``,
    ``integrity.missing_field``.
    """

    __slots__ = ("_obj", "kind", "path", "source")

    def __init__(self, value: JSONValue, source: str, path: str, kind: str = "state") -> None:
        if not isinstance(value, dict):
            raise ParseError(
                source, path or "(top level)", f"{kind}.type", f"expected an object, got {_kind(value)}"
            )
        self._obj: dict[str, JSONValue] = value
        self.source = source
        self.path = path
        self.kind = kind

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def keys(self) -> set[str]:
        return set(self._obj)

    def has(self, key: str) -> bool:
        return key in self._obj

    def raw(self, key: str) -> JSONValue:
        if key not in self._obj:
            raise ParseError(
                self.source, self.at(key), f"{self.kind}.missing_field", "required field is missing"
            )
        return self._obj[key]

    def _typed(self, key: str, kind: type | tuple[type, ...], label: str) -> JSONValue:
        value = self._obj.get(key, _Fields)  # the class itself: a value JSON never holds
        if type(value) is kind:  # the usual case; JSON values are never subclasses
            return value
        value = self.raw(key)
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.wrong_type(key, label, value)
        if not isinstance(value, kind):
            raise self.wrong_type(key, label, value)
        return value

    def wrong_type(self, key: str, label: str, value: JSONValue) -> ParseError:
        return ParseError(
            self.source,
            self.at(key),
            f"{self.kind}.type",
            f"expected {label}, got {_kind(value)}{_brief(value)}",
        )

    def text(self, key: str) -> str:
        value = self._typed(key, str, "a string")
        assert isinstance(value, str)
        return value

    def opt_text(self, key: str, default: str = "") -> str:
        """A string that may be absent or null (shown as ``default``)."""
        if self._obj.get(key) is None:
            return default
        return self.text(key)

    def integer(self, key: str) -> int:
        value = self._typed(key, int, "an integer")
        assert isinstance(value, int)
        return value

    def opt_integer(self, key: str) -> int | None:
        return None if self._obj.get(key) is None else self.integer(key)

    def boolean(self, key: str) -> bool:
        value = self._typed(key, bool, "true or false")
        assert isinstance(value, bool)
        return value

    def opt_boolean(self, key: str) -> bool | None:
        return None if self._obj.get(key) is None else self.boolean(key)

    def object(self, key: str) -> _Fields:
        return _Fields(self._typed(key, dict, "an object"), self.source, self.at(key), self.kind)

    def opt_object(self, key: str) -> _Fields | None:
        return None if self._obj.get(key) is None else self.object(key)

    def array(self, key: str) -> list[JSONValue]:
        value = self._typed(key, list, "a list")
        assert isinstance(value, list)
        return value

    def opt_array(self, key: str) -> list[JSONValue]:
        return [] if self._obj.get(key) is None else self.array(key)

    def item(self, key: str, index: int, value: JSONValue) -> _Fields:
        return _Fields(value, self.source, f"{self.at(key)}[{index}]", self.kind)

    def bounded_array(self, key: str, limit: int, check: str, *, optional: bool = False) -> list[JSONValue]:
        """A list of at most ``limit`` items; more is a ``ParseError`` with the limit's check id."""
        items = self.opt_array(key) if optional else self.array(key)
        if len(items) > limit:
            raise ParseError(
                self.source, self.at(key), check, f"{len(items)} items are over the limit of {limit}"
            )
        return items

    def str_items(self, key: str, limit: int | None = None, check: str = "") -> tuple[str, ...]:
        items = self.array(key) if limit is None else self.bounded_array(key, limit, check)
        for i, value in enumerate(items):
            if not isinstance(value, str):
                raise ParseError(
                    self.source,
                    f"{self.at(key)}[{i}]",
                    f"{self.kind}.type",
                    f"expected a string, got {_kind(value)}",
                )
        return tuple(str(v) for v in items)

    def constant(self, key: str, allowed: tuple[str, ...], check: str) -> str:
        value = self.text(key)
        if value not in allowed:
            wanted = " or ".join(repr(a) for a in allowed)
            raise ParseError(self.source, self.at(key), check, f"expected {wanted}, got {value!r}")
        return value


def _kind(value: JSONValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _brief(value: JSONValue) -> str:
    """`` (value)`` for a scalar worth showing, else nothing."""
    if value is None or isinstance(value, dict | list):
        return ""
    text = json.dumps(value, ensure_ascii=True)
    return f" ({text[:40]}{'…' if len(text) > 40 else ''})"


# -- state files -------------------------------------------------------------------

_STATE_KEYS = {
    "state_type",
    "state_version",
    "pith_number",
    "merge_version",
    "event_count",
    "valid_event_count",
    "invalid_event_count",
    "equivocation_count",
    "current",
    "equivocations",
    "invalid_events",
    "applied_event_ids",
    "state_sha256",
}
_CURRENT_KEYS = {
    "canonical_record",
    "source_aliases",
    "record_created",
    "graph_snapshots",
    *COMPLETENESS_LISTS,
}


def parse_state(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> ParsedState:
    """Parse the bytes of a ``pith_open_graph_state`` file.

    Raises:
        ParseError: the bytes are not strict JSON, or not a state file of a known
            type and version with every field the site relies on, of the right type.
    """
    value, has_floats = _load_json(data, source, limits)
    if not isinstance(value, dict):
        raise ParseError(source, "(top level)", "state.type", f"expected an object, got {_kind(value)}")
    top = _Fields(value, source, "")
    top.constant("state_type", (STATE_TYPE,), "state.state_type")
    version = top.constant("state_version", STATE_VERSIONS, "state.state_version")
    current = top.object("current")
    record_created_fields = current.object("record_created")
    payload = record_created_fields.object("payload")
    extra = sorted(
        [
            *(top.at(k) for k in top.keys() - _STATE_KEYS),
            *(current.at(k) for k in current.keys() - _CURRENT_KEYS),
        ]
    )
    state = StateFile(
        state_version=version,
        pith_number=top.text("pith_number"),
        merge_version=top.text("merge_version"),
        event_count=top.integer("event_count"),
        valid_event_count=top.integer("valid_event_count"),
        invalid_event_count=top.integer("invalid_event_count"),
        equivocation_count=top.integer("equivocation_count"),
        canonical_record=_canonical_record(current.object("canonical_record")),
        signed_record=_canonical_record(payload.object("canonical_record")),
        record_created=_event(record_created_fields),
        record_canonical_sha256=payload.text("canonical_sha256"),
        receipt=_receipt(payload.object("receipt")),
        attestation_state=payload.opt_text("attestation_state"),
        aliases=tuple(
            _alias(current.item("source_aliases", i, v))
            for i, v in enumerate(
                current.bounded_array("source_aliases", limits.max_aliases, "limit.aliases")
            )
        ),
        graph_snapshots=tuple(
            _graph_snapshot(current.item("graph_snapshots", i, v), limits)
            for i, v in enumerate(
                current.bounded_array("graph_snapshots", limits.max_events, "limit.events", optional=True)
            )
        ),
        completeness=tuple((name, len(current.opt_array(name))) for name in COMPLETENESS_LISTS),
        equivocations=len(top.bounded_array("equivocations", limits.max_events, "limit.events")),
        invalid_events=len(top.bounded_array("invalid_events", limits.max_events, "limit.events")),
        applied_event_ids=top.str_items("applied_event_ids", limits.max_events, "limit.events"),
        state_sha256=top.text("state_sha256"),
        extra_fields=tuple(extra),
    )
    return ParsedState(state=state, raw=value, data=data, has_floats=has_floats)


def _canonical_record(f: _Fields) -> CanonicalRecord:
    source = f.object("source")
    meta = f.object("metadata")
    return CanonicalRecord(
        schema_version=f.text("schema_version"),
        source_kind=source.text("kind"),
        source_id=source.text("id"),
        source_version=source.integer("version"),
        submitted_at=meta.text("submitted_at"),
        license=meta.text("license"),
        primary_cat=meta.text("primary_cat"),
        cross_cats=meta.str_items("cross_cats_sorted"),
        title_canon_sha256=meta.text("title_canon_sha256"),
        abstract_canon_sha256=meta.text("abstract_canon_sha256"),
    )


def _event(f: _Fields) -> Event:
    signer = f.object("signer")
    return Event(
        event_id=f.text("event_id"),
        target=f.text("target"),
        created_at=f.text("created_at"),
        signer=Signer(
            key_id=signer.text("key_id"),
            public_key_fingerprint=signer.text("public_key_fingerprint"),
            signer_id=signer.text("signer_id"),
            signer_type=signer.text("signer_type"),
        ),
    )


def _receipt(f: _Fields) -> Receipt:
    return Receipt(
        algorithm=f.text("algorithm"),
        key_id=f.text("key_id"),
        public_key_fingerprint=f.text("public_key_fingerprint"),
        signature_b64=f.text("signature_b64"),
        signed_message=f.text("signed_message"),
        canonical_sha256=f.text("canonical_sha256"),
        signed_at=f.text("signed_at"),
        kind=f.opt_text("kind"),
        receipt_version=f.opt_text("receipt_version"),
        signature_status=f.opt_text("signature_status"),
        builder_version=f.opt_text("builder_version"),
    )


def _alias(f: _Fields) -> Alias:
    return Alias(kind=f.text("alias_kind"), value=f.text("alias_value"), created_at=f.opt_text("created_at"))


def _graph_snapshot(f: _Fields, limits: Limits) -> GraphSnapshot:
    event = _event(f)
    snap = f.object("payload").object("graph_snapshot")
    paper = snap.object("paper")
    integrity = snap.opt_object("integrity")
    claims = snap.opt_object("claims")
    references = snap.opt_object("references")
    verdict = snap.opt_object("verdict")
    return GraphSnapshot(
        event=event,
        paper=Paper(
            title=paper.text("title"),
            authors_text=paper.opt_text("authors_text"),
            abstract_excerpt=paper.opt_text("abstract_excerpt"),
            primary_cat=paper.opt_text("primary_cat"),
            cross_cats=paper.str_items("cross_cats") if paper.has("cross_cats") else (),
            license=paper.opt_text("license"),
            submitted_at=paper.opt_text("submitted_at"),
            headline=paper.opt_text("headline"),
        ),
        integrity=None if integrity is None else _integrity_snapshot(integrity, limits),
        claims_count=(claims.opt_integer("count") or 0) if claims else 0,
        claims=tuple(
            Claim(text=_display_text(v, ("text", "claim", "statement", "summary")))
            for v in (
                claims.bounded_array("items", limits.max_claims, "limit.claims", optional=True)
                if claims
                else []
            )
        ),
        references_count=(references.opt_integer("count") or 0) if references else 0,
        references_sample=tuple(
            _reference(v)
            for v in (
                references.bounded_array("sample", limits.max_references, "limit.references", optional=True)
                if references
                else []
            )
        ),
        verdict=_verdict_fields(verdict),
        builder_version=snap.opt_text("builder_version"),
    )


def _display_text(value: JSONValue, keys: tuple[str, ...]) -> str:
    """Text to show for an item of unknown shape: a string, a known text field, or its JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in keys:
            text = value.get(key)
            if isinstance(text, str) and text:
                return text
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _reference(value: JSONValue) -> Reference:
    def field(name: str) -> str:
        text = value.get(name) if isinstance(value, dict) else None
        return text if isinstance(text, str) else ""

    return Reference(
        text=_display_text(value, ("title", "raw", "text", "citation")),
        doi=field("doi"),
        arxiv_id=field("arxiv_id"),
    )


def _verdict_fields(verdict: _Fields | None) -> tuple[tuple[str, str], ...]:
    if verdict is None:
        return ()
    fields = []
    for key in sorted(verdict.keys()):
        value = verdict.raw(key)
        if isinstance(value, str) and value:
            fields.append((key, value))
    return tuple(fields)


def _integrity_snapshot(f: _Fields, limits: Limits) -> IntegritySnapshot:
    summary = f.opt_object("summary")
    detectors = []
    for i, value in enumerate(
        f.bounded_array("detectors_run", limits.max_findings, "limit.findings", optional=True)
    ):
        detector = f.item("detectors_run", i, value)
        detectors.append(detector.opt_text("name", "(unnamed)"))
    return IntegritySnapshot(
        available=bool(f.opt_boolean("available")),
        clean=f.opt_boolean("clean"),
        endpoint=f.opt_text("endpoint"),
        critical=(summary.opt_integer("critical") or 0) if summary else 0,
        advisory=(summary.opt_integer("advisory") or 0) if summary else 0,
        informational=(summary.opt_integer("informational") or 0) if summary else 0,
        detectors=tuple(detectors),
        findings=tuple(
            _finding(f.item("findings", i, v))
            for i, v in enumerate(
                f.bounded_array("findings", limits.max_findings, "limit.findings", optional=True)
            )
        ),
        snapshot_sha256=f.opt_text("snapshot_sha256"),
    )


def _finding(f: _Fields) -> Finding:
    return Finding(
        detector=f.opt_text("detector"),
        finding_type=f.opt_text("finding_type"),
        severity=f.opt_text("severity"),
        verdict_class=f.opt_text("verdict_class"),
        note=f.opt_text("note"),
        detected_doi=f.opt_text("detected_doi"),
        detected_arxiv_id=f.opt_text("detected_arxiv_id"),
        ref_index=f.opt_integer("ref_index"),
        audited_at=f.opt_text("audited_at"),
    )


# -- integrity files ---------------------------------------------------------------


def parse_integrity(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> ParsedIntegrity:
    """Parse the bytes of a registry ``integrity.json`` file.

    Raises:
        ParseError: not strict JSON, an unknown ``schema``, or a field of the wrong type.
    """
    value = load_json(data, source, limits)
    if not isinstance(value, dict):
        raise ParseError(source, "(top level)", "integrity.type", f"expected an object, got {_kind(value)}")
    top = _Fields(value, source, "", "integrity")
    top.constant("schema", (INTEGRITY_SCHEMA,), "integrity.schema")
    events = []
    for i, item in enumerate(top.bounded_array("events", limits.max_events, "limit.events")):
        event = top.item("events", i, item)
        payload = event.opt_object("payload")
        events.append(
            IntegrityEvent(
                event_id=event.integer("event_id"),
                event_type=event.text("event_type"),
                payload_sha256=event.text("payload_sha256"),
                signature_b64=event.text("signature_b64"),
                signing_key_id=event.text("signing_key_id"),
                created_at=event.opt_text("created_at"),
                payload=None if payload is None else dict(_payload_items(item)),
            )
        )
    integrity = IntegrityFile(
        arxiv_id=top.text("arxiv_id"),
        integrity=_integrity_snapshot(top.object("integrity"), limits),
        events=tuple(events),
    )
    return ParsedIntegrity(integrity=integrity, raw=value, data=data)


def _payload_items(event: JSONValue) -> dict[str, JSONValue]:
    assert isinstance(event, dict)
    payload = event["payload"]
    assert isinstance(payload, dict)
    return payload

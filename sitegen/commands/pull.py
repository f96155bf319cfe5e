"""Fetching state files from a registry or another mirror, verified before they are kept (layer 6).

Sources are URL patterns: the ``state_pattern`` of every mirror in a
``pith-mirrors.json`` manifest (patterns that are paths resolve against the
manifest's own URL), or ``<base>/pith/{suffix}/state.json`` for a base URL. An id
(Pith number, short form, or arXiv id, old-style ones with their slash) replaces
``{suffix}``; the first source that serves a file that verifies wins.

A fetched file is kept only when it verifies with the operator's own keyring and is
the paper that was asked for; it is then written atomically (temporary file, fsync,
rename) to ``content/states/<arXiv id, / as _>.state.json``. Nothing that does not
verify is ever written, so a verified file is never replaced by one that does not.

When a verified file is already kept, the new one replaces it only if its
``applied_event_ids`` are a strict superset of the kept file's: a file that lacks an
event the kept one has is refused (naming how many are missing), and one with the
same events leaves the kept file untouched. Event counts are never compared: like the
event list they are not signed, and padding them (junk ``invalid_events``) proves
nothing. The event list is not signed either (only the canonical record is, see
``docs/pith-format.md``), so this keeps a mirror from losing events it has seen; it
cannot prove a state is the newest, and a hostile source can withhold events or
invent some (``docs/deploy.md`` says what that means for an operator).

Each attempt has one deadline for the whole request, a byte cap and a redirect
policy (``sitegen.commands.http``); network failures (not verification failures)
are retried with exponential back-off.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from sitegen.commands.http import FetchError, FetchOptions, fetch_url
from sitegen.errors import ConfigError, InputError
from sitegen.pith.keys import Keyring
from sitegen.pith.parse import Limits
from sitegen.pith.report import Status, Verdict
from sitegen.pith.verify import verify_state_bytes

__all__ = [
    "PaperId",
    "PullOptions",
    "PullResult",
    "parse_id",
    "pull_all",
    "pull_one",
    "read_ids_file",
    "sources_from_base",
    "sources_from_manifest",
    "state_file_name",
]

_PITH_FULL = re.compile(r"pith:(\d{4}):([A-Z2-7]{26})")
_PITH_SHORT = re.compile(r"(?:pith:)?([A-Z2-7]{26}|[A-Z2-7]{16}|[A-Z2-7]{12}|[A-Z2-7]{8})")
_ARXIV_NEW = re.compile(r"(?:arxiv:)?(\d{4}\.\d{4,5})(v\d+)?", re.IGNORECASE)
_ARXIV_OLD = re.compile(r"(?:arxiv:)?([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperId:
    """An id as asked for: ``kind`` is ``suffix``, ``short`` or ``arxiv``; ``value`` goes into URLs."""

    text: str
    kind: str
    value: str


def parse_id(text: str) -> PaperId:
    """Recognise a Pith number, a short form or an arXiv id.

    >>> parse_id("pith:2026:3BA52NFJTLFMVFHQMNWVXCSHM7").kind
    'suffix'
    >>> parse_id("pith:3BA52NFJ").value
    '3BA52NFJ'
    >>> parse_id("hep-lat/0305021").value
    'hep-lat/0305021'

    Raises:
        ValueError: it is none of these.
    """
    stripped = text.strip()
    if (full := _PITH_FULL.fullmatch(stripped)) is not None:
        return PaperId(text=stripped, kind="suffix", value=full[2])
    if (short := _PITH_SHORT.fullmatch(stripped)) is not None:
        value = short[1]
        return PaperId(text=stripped, kind="suffix" if len(value) == 26 else "short", value=value)
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        if (match := pattern.fullmatch(stripped)) is not None:
            return PaperId(text=stripped, kind="arxiv", value=match[1])
    raise ValueError(f"{text!r} is not a Pith number, a short form (8, 12 or 16 characters) or an arXiv id")


def read_ids_file(path: Path) -> list[str]:
    """Ids from a file, one a line; blank lines and ``#`` comments are skipped.

    Raises:
        InputError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read the ids file: {exc}") from exc
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


@dataclass(frozen=True, slots=True, kw_only=True)
class PullOptions:
    fetch: FetchOptions = field(default_factory=FetchOptions)
    """Deadline, byte cap (the site's ``limits.max_state_bytes``) and redirect policy of each attempt."""
    retries: int = 2
    """Extra attempts after a network failure."""
    backoff: float = 1.0
    """Seconds before the first retry; doubled for each further one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PullResult:
    """What happened to one id: ``status`` is ``pulled``, ``updated``, ``unchanged`` or ``error``."""

    id: str
    status: str
    detail: str
    path: Path | None = None


def _http_url(url: str, where: str) -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(where, "", f"{url!r} is not an http(s) URL", check="pull.source")
    return url


def sources_from_base(base_url: str) -> list[str]:
    """The state URL pattern of a mirror laid out like the registry.

    Raises:
        ConfigError: not an http(s) URL.
    """
    return [_http_url(f"{base_url.rstrip('/')}/pith/{{suffix}}/state.json", "--from")]


def sources_from_manifest(manifest: bytes, where: str) -> list[str]:
    """Every mirror's ``state_pattern`` in a ``pith-mirrors.json``, in manifest order.

    ``where`` is the manifest's URL or path; path-only patterns resolve against it.

    Raises:
        ConfigError: not a mirror manifest, or no usable pattern in it.
    """
    try:
        doc = json.loads(manifest)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(where, "", f"not JSON: {exc}", check="pull.manifest") from exc
    mirrors = doc.get("mirrors") if isinstance(doc, dict) else None
    if not isinstance(mirrors, list):
        raise ConfigError(where, "mirrors", "expected a list of mirrors", check="pull.manifest")
    patterns = []
    for index, mirror in enumerate(mirrors):
        pattern = mirror.get("state_pattern") if isinstance(mirror, dict) else None
        if not isinstance(pattern, str) or "{suffix}" not in pattern:
            continue
        resolved = urljoin(where, pattern) if urlsplit(where).scheme in ("http", "https") else pattern
        patterns.append(_http_url(resolved, f"{where}: mirrors[{index}].state_pattern"))
    if not patterns:
        raise ConfigError(
            where, "mirrors", "no mirror has a state_pattern with {suffix}", check="pull.manifest"
        )
    return patterns


def _fetch_with_retries(url: str, options: PullOptions) -> bytes:
    for attempt in range(options.retries + 1):
        try:
            return fetch_url(url, options.fetch)
        except FetchError as exc:
            if not exc.transient or attempt == options.retries:
                if attempt:
                    raise FetchError(
                        url, f"{exc.detail} (after {attempt + 1} attempts)", transient=False
                    ) from exc
                raise
            time.sleep(options.backoff * (2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _matches(wanted: PaperId, pith_number: str | None, source_id: str | None) -> bool:
    suffix = (pith_number or "").rpartition(":")[2]
    if wanted.kind == "suffix":
        return suffix == wanted.value
    if wanted.kind == "short":
        return suffix.startswith(wanted.value)
    return (source_id or "").lower() == wanted.value.lower()


def state_file_name(source_id: str) -> str:
    """The file a pulled state is kept in: its arXiv id with ``/`` as ``_``.

    >>> state_file_name("hep-lat/0305021")
    'hep-lat_0305021.state.json'
    """
    return source_id.replace("/", "_") + ".state.json"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _kept_event_ids(data: bytes, path: Path, keyring: Keyring, options: PullOptions) -> frozenset[str] | None:
    """The applied event ids of a state already kept, when it verifies (else it may be replaced)."""
    report, parsed = verify_state_bytes(data, str(path), keyring, Limits(max_bytes=options.fetch.max_bytes))
    if report.verdict is not Verdict.VERIFIED or parsed is None:
        return None
    return frozenset(parsed.state.applied_event_ids)


def pull_one(
    wanted: PaperId, sources: Sequence[str], keyring: Keyring, states_dir: Path, options: PullOptions
) -> PullResult:
    """Fetch, verify and keep one paper; the first source with a verified, matching file wins."""
    problems: list[str] = []
    for pattern in sources:
        url = pattern.replace("{suffix}", quote(wanted.value, safe="/"))
        try:
            data = _fetch_with_retries(url, options)
        except FetchError as exc:
            problems.append(str(exc))
            continue
        report, parsed = verify_state_bytes(data, url, keyring, Limits(max_bytes=options.fetch.max_bytes))
        if report.verdict is not Verdict.VERIFIED:
            reasons = "; ".join(e.removeprefix(f"{url}: ") for e in report.errors[:3]) or ", ".join(
                c.id for c in report.checks if c.status is not Status.VERIFIED
            )
            problems.append(f"{url}: does not verify ({report.verdict.value}): {reasons}")
            continue
        if not _matches(wanted, report.pith_number, report.source_id):
            problems.append(f"{url}: served another paper ({report.pith_number}, {report.source_id})")
            continue
        assert report.source_id is not None
        path = states_dir / state_file_name(report.source_id)
        try:
            old = path.read_bytes() if path.is_file() else None
        except OSError:
            old = None
        assert parsed is not None
        kept = _kept_event_ids(old, path, keyring, options) if old is not None else None
        if kept is not None:
            served = frozenset(parsed.state.applied_event_ids)
            if served == kept:
                return PullResult(
                    id=wanted.text,
                    status="unchanged",
                    detail=f"{report.pith_number}: no new events (yours kept as it is)",
                    path=path,
                )
            if missing := kept - served:
                problems.append(
                    f"{url}: refused for {report.pith_number}: it lacks {len(missing)} of the "
                    f"{len(kept)} events of the verified {path.name} you have (such as {min(missing)}), "
                    f"so it is not newer; kept yours (to take it anyway, delete {path.name} and pull again)"
                )
                continue
        try:
            _write_atomically(path, data)
        except OSError as exc:
            return PullResult(id=wanted.text, status="error", detail=f"{path}: cannot write: {exc.strerror}")
        status = "pulled" if old is None else "updated"
        return PullResult(id=wanted.text, status=status, detail=f"{report.pith_number}, verified", path=path)
    return PullResult(id=wanted.text, status="error", detail="; ".join(problems) or "no source")


def pull_all(
    ids: Iterable[str], sources: Sequence[str], keyring: Keyring, states_dir: Path, options: PullOptions
) -> list[PullResult]:
    """``pull_one`` for every id, in order; an id that cannot be parsed is an error result."""
    results = []
    for text in ids:
        try:
            wanted = parse_id(text)
        except ValueError as exc:
            results.append(PullResult(id=text, status="error", detail=str(exc)))
            continue
        results.append(pull_one(wanted, sources, keyring, states_dir, options))
    return results

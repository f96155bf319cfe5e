"""Fetching state files from a registry or another mirror, verified before they are kept (layer 5).

Sources are URL patterns: the ``state_pattern`` of every mirror in a
``pith-mirrors.json`` manifest (patterns that are paths resolve against the
manifest's own URL), or ``<base>/pith/{suffix}/state.json`` for a base URL. An id
(Pith number, short form, or arXiv id, old-style ones with their slash) replaces
``{suffix}``; the first source that serves a file that verifies wins.

A fetched file is kept only when it verifies with the operator's own keyring, is
the paper that was asked for, and is not older (fewer events) than a verified file
already kept for it, so a stale mirror cannot roll a paper back; it is then written atomically (temporary file, fsync,
rename) to ``content/states/<arXiv id, / as _>.state.json``. Nothing that does not
verify is ever written, so a verified file is never replaced by one that does not.
Each request has a timeout and an overall deadline, bodies over the size limit are
refused, and network failures (not verification failures) are retried with
exponential back-off.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from sitegen import __version__
from sitegen.errors import ConfigError, InputError
from sitegen.pith.keys import Keyring
from sitegen.pith.parse import Limits
from sitegen.pith.report import Status, Verdict
from sitegen.pith.verify import verify_state_bytes

__all__ = [
    "FetchError",
    "PaperId",
    "PullOptions",
    "PullResult",
    "fetch_url",
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


class FetchError(Exception):
    """One download failed; ``transient`` failures are worth retrying."""

    def __init__(self, url: str, detail: str, *, transient: bool) -> None:
        self.url = url
        self.detail = detail
        self.transient = transient
        super().__init__(f"{url}: {detail}")


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
    timeout: float = 20.0
    """Seconds per network operation, and (times the attempts) the deadline of one download."""
    max_bytes: int = Limits().max_bytes
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


def fetch_url(url: str, options: PullOptions) -> bytes:
    """One GET with a timeout, an overall deadline and a size limit.

    Raises:
        FetchError: HTTP error, network failure, timeout, truncated or oversized body.
    """
    deadline = time.monotonic() + options.timeout * 3
    request = urllib.request.Request(url, headers={"User-Agent": f"pith-sitegen/{__version__} pull"})  # noqa: S310 (scheme checked)
    try:
        with urllib.request.urlopen(request, timeout=options.timeout) as response:  # noqa: S310 (scheme checked)
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > options.max_bytes:
                raise FetchError(
                    url, f"too large: {length} bytes, the limit is {options.max_bytes}", transient=False
                )
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read(64 * 1024):
                size += len(chunk)
                if size > options.max_bytes:
                    raise FetchError(
                        url, f"too large: over the limit of {options.max_bytes} bytes", transient=False
                    )
                if time.monotonic() > deadline:
                    raise FetchError(
                        url, f"timed out: no complete body within {options.timeout * 3:g} s", transient=True
                    )
                chunks.append(chunk)
            if length is not None and length.isdigit() and size < int(length):
                raise FetchError(url, f"truncated: got {size} of the {length} bytes promised", transient=True)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        transient = exc.code >= 500 or exc.code == 429
        raise FetchError(url, f"HTTP {exc.code} {exc.reason}", transient=transient) from exc
    except http.client.IncompleteRead as exc:
        raise FetchError(
            url, f"truncated: got {len(exc.partial)} bytes, {exc.expected} more were promised", transient=True
        ) from exc
    except TimeoutError as exc:
        raise FetchError(url, f"timed out after {options.timeout:g} s", transient=True) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            raise FetchError(url, f"timed out after {options.timeout:g} s", transient=True) from exc
        raise FetchError(url, f"cannot connect: {reason}", transient=True) from exc
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(url, f"network error: {exc}", transient=True) from exc


def _fetch_with_retries(url: str, options: PullOptions) -> bytes:
    for attempt in range(options.retries + 1):
        try:
            return fetch_url(url, options)
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


def _verified_event_count(data: bytes, path: Path, keyring: Keyring, options: PullOptions) -> int | None:
    """The event count of a state already kept, when it verifies (else it may be replaced)."""
    report, parsed = verify_state_bytes(data, str(path), keyring, Limits(max_bytes=options.max_bytes))
    if report.verdict is not Verdict.VERIFIED or parsed is None:
        return None
    return parsed.state.event_count


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
        report, parsed = verify_state_bytes(data, url, keyring, Limits(max_bytes=options.max_bytes))
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
        if old == data:
            return PullResult(id=wanted.text, status="unchanged", detail=f"{report.pith_number}", path=path)
        assert parsed is not None
        kept = _verified_event_count(old, path, keyring, options) if old is not None else None
        if kept is not None and kept > parsed.state.event_count:
            problems.append(
                f"{url}: older than the verified {path.name} you have "
                f"({parsed.state.event_count} events, yours has {kept}); kept yours"
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

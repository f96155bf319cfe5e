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

``pull_all`` pulls many ids at once over one pool of kept-alive connections and asks
conditionally: each source URL's validators are remembered (``ValidatorStore``) with
the bytes of the file they came with, and a ``304`` leaves that file as it is. An
interrupted run leaves every state whole and the store consistent, so running it
again goes on where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import tempfile
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from sitegen.commands.http import Fetched, Fetcher, FetchError, FetchOptions, Validators
from sitegen.errors import ConfigError, InputError
from sitegen.pith.keys import Keyring
from sitegen.pith.parse import Limits
from sitegen.pith.report import Status, Verdict
from sitegen.pith.verify import verify_state_bytes

__all__ = [
    "Memo",
    "PaperId",
    "PullOptions",
    "PullResult",
    "PullTally",
    "Remembered",
    "ValidatorStore",
    "parse_id",
    "pull_all",
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
    concurrency: int = 8
    """Ids pulled at once, and connections kept alive for them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PullResult:
    """What happened to one id: ``status`` is ``pulled``, ``updated``, ``unchanged`` or ``error``."""

    id: str
    status: str
    detail: str
    path: Path | None = None
    received: int = 0
    """Body bytes transferred for it, retries and other sources included."""
    not_modified: bool = False
    """Whether a source answered 304 (then nothing was transferred and nothing is worth a line)."""
    memos: tuple[Memo, ...] = ()
    """What the validator store should remember afterwards."""


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


def _fetch_with_retries(
    fetcher: Fetcher, url: str, validators: Validators | None, options: PullOptions, stop: threading.Event
) -> Fetched:
    """``fetcher.get`` with retries after transient failures; an interrupted run retries no more."""
    for attempt in range(options.retries + 1):
        try:
            return fetcher.get(url, validators)
        except FetchError as exc:
            if not exc.transient or attempt == options.retries or stop.is_set():
                if attempt:
                    raise FetchError(
                        url, f"{exc.detail} (after {attempt + 1} attempts)", transient=False
                    ) from exc
                raise
            stop.wait(options.backoff * (2**attempt))
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


def _kept_event_ids(data: bytes, path: Path, keyring: Keyring, limits: Limits) -> frozenset[str] | None:
    """The applied event ids of a state already kept, when it verifies (else it may be replaced)."""
    report, parsed = verify_state_bytes(data, str(path), keyring, limits)
    if report.verdict is not Verdict.VERIFIED or parsed is None:
        return None
    return frozenset(parsed.state.applied_event_ids)


@dataclass(frozen=True, slots=True, kw_only=True)
class Remembered:
    """The validators a source sent with the state kept in ``file`` (its bytes had ``sha256``)."""

    validators: Validators
    file: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Memo:
    """What to remember for ``url`` after a pull: ``entry``, or nothing (forget it) when None."""

    url: str
    entry: Remembered | None


class ValidatorStore:
    """Each source URL's validators, kept in an SQLite file beside the states (``content/.pull-cache.sqlite``).

    SQLite because a registry-sized pull remembers millions of URLs: a lookup reads one
    row, a batch of answers is one transaction (committed whole or not at all, so a run
    killed at any moment leaves the file consistent), and nothing is rewritten whole.
    A remembered entry is only a hint: its validators are sent only while the kept file
    still has the bytes it was remembered with. Used from one thread.
    """

    _BATCH = 200
    """Answers per transaction: a killed run re-asks at most this many without validators."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS validators (url TEXT PRIMARY KEY, etag TEXT, "
                "last_modified TEXT, file TEXT NOT NULL, sha256 TEXT NOT NULL)"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise InputError(
                str(path), f"cannot open the pull cache: {exc} (delete it to pull without validators)"
            ) from exc

    def lookup(self, urls: Iterable[str]) -> dict[str, Remembered]:
        """The remembered entries of those of ``urls`` that have one."""
        found = {}
        for url in urls:
            row = self._db.execute(
                "SELECT etag, last_modified, file, sha256 FROM validators WHERE url = ?", (url,)
            ).fetchone()
            if row is not None:
                found[url] = Remembered(
                    validators=Validators(etag=row[0], last_modified=row[1]), file=row[2], sha256=row[3]
                )
        return found

    def apply(self, memos: Iterable[Memo]) -> None:
        """Remember (or forget) each URL; committed with every ``_BATCH`` answers and by ``commit``."""
        for memo in memos:
            if memo.entry is None:
                self._db.execute("DELETE FROM validators WHERE url = ?", (memo.url,))
            else:
                entry = memo.entry
                self._db.execute(
                    "INSERT OR REPLACE INTO validators VALUES (?, ?, ?, ?, ?)",
                    (
                        memo.url,
                        entry.validators.etag,
                        entry.validators.last_modified,
                        entry.file,
                        entry.sha256,
                    ),
                )
            self._pending += 1
        if self._pending >= self._BATCH:
            self.commit()

    def commit(self) -> None:
        self._db.commit()
        self._pending = 0

    def close(self) -> None:
        self.commit()
        self._db.close()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _still_kept(entry: Remembered, states_dir: Path) -> bool:
    """Whether the file an entry was remembered with still has those bytes (else its validators mean nothing)."""
    try:
        return _sha256((states_dir / entry.file).read_bytes()) == entry.sha256
    except OSError:
        return False


def _memo(url: str, validators: Validators, path: Path, kept: bytes) -> Memo:
    entry = Remembered(validators=validators, file=path.name, sha256=_sha256(kept)) if validators else None
    return Memo(url=url, entry=entry)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Served:
    """A verified state a source served for the paper asked for."""

    url: str
    data: bytes
    validators: Validators
    pith_number: str
    event_ids: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Puller:
    """Everything one id's pull needs besides the id; shared by the worker threads."""

    sources: Sequence[str]
    keyring: Keyring
    states_dir: Path
    options: PullOptions
    fetcher: Fetcher
    stop: threading.Event
    file_locks: tuple[threading.Lock, ...] = field(
        default_factory=lambda: tuple(threading.Lock() for _ in range(256))
    )
    """Striped locks: two ids of one paper (its Pith number and its arXiv id) read, compare and
    write its file one after the other, so the second sees what the first kept."""

    def urls(self, wanted: PaperId) -> list[str]:
        return [pattern.replace("{suffix}", quote(wanted.value, safe="/")) for pattern in self.sources]

    def pull_one(self, wanted: PaperId, known: Mapping[str, Remembered]) -> PullResult:
        """Fetch, verify and keep one paper; the first source with a verified, matching file (or a 304) wins."""
        problems: list[str] = []
        received = 0
        limits = Limits(max_bytes=self.options.fetch.max_bytes)
        for url in self.urls(wanted):
            entry = known.get(url)
            sent = entry if entry is not None and _still_kept(entry, self.states_dir) else None
            try:
                fetched = _fetch_with_retries(
                    self.fetcher, url, sent.validators if sent else None, self.options, self.stop
                )
            except FetchError as exc:
                problems.append(str(exc))
                continue
            received += fetched.received
            if fetched.body is None:
                assert sent is not None
                renewed = Remembered(
                    validators=fetched.validators or sent.validators, file=sent.file, sha256=sent.sha256
                )
                return PullResult(
                    id=wanted.text,
                    status="unchanged",
                    detail="not modified since the last pull (HTTP 304)",
                    path=self.states_dir / sent.file,
                    not_modified=True,
                    memos=(Memo(url=url, entry=renewed),),
                )
            data = fetched.body
            report, parsed = verify_state_bytes(data, url, self.keyring, limits)
            if report.verdict is not Verdict.VERIFIED:
                reasons = "; ".join(e.removeprefix(f"{url}: ") for e in report.errors[:3]) or ", ".join(
                    c.id for c in report.checks if c.status is not Status.VERIFIED
                )
                problems.append(f"{url}: does not verify ({report.verdict.value}): {reasons}")
                continue
            if not _matches(wanted, report.pith_number, report.source_id):
                problems.append(f"{url}: served another paper ({report.pith_number}, {report.source_id})")
                continue
            assert report.source_id is not None and parsed is not None
            path = self.states_dir / state_file_name(report.source_id)
            with self.file_locks[zlib.crc32(path.name.encode()) % len(self.file_locks)]:
                outcome = self._keep(
                    _Served(
                        url=url,
                        data=data,
                        validators=fetched.validators,
                        pith_number=str(report.pith_number),
                        event_ids=frozenset(parsed.state.applied_event_ids),
                    ),
                    wanted,
                    path,
                )
            if isinstance(outcome, str):
                problems.append(outcome)
                continue
            return replace(outcome, received=received)
        return PullResult(
            id=wanted.text, status="error", detail="; ".join(problems) or "no source", received=received
        )

    def _keep(self, served: _Served, wanted: PaperId, path: Path) -> PullResult | str:
        """Write a verified state to ``path`` unless the kept one has an event it lacks (then why not)."""
        limits = Limits(max_bytes=self.options.fetch.max_bytes)
        try:
            old = path.read_bytes() if path.is_file() else None
        except OSError:
            old = None
        kept = _kept_event_ids(old, path, self.keyring, limits) if old is not None else None
        if kept is not None and old is not None:
            if served.event_ids == kept:
                return PullResult(
                    id=wanted.text,
                    status="unchanged",
                    detail=f"{served.pith_number}: no new events (yours kept as it is)",
                    path=path,
                    memos=(_memo(served.url, served.validators, path, old),),
                )
            if missing := kept - served.event_ids:
                return (
                    f"{served.url}: refused for {served.pith_number}: it lacks {len(missing)} of the "
                    f"{len(kept)} events of the verified {path.name} you have (such as {min(missing)}), "
                    f"so it is not newer; kept yours (to take it anyway, delete {path.name} and pull again)"
                )
        try:
            _write_atomically(path, served.data)
        except OSError as exc:
            return PullResult(id=wanted.text, status="error", detail=f"{path}: cannot write: {exc.strerror}")
        return PullResult(
            id=wanted.text,
            status="pulled" if old is None else "updated",
            detail=f"{served.pith_number}, verified",
            path=path,
            memos=(_memo(served.url, served.validators, path, served.data),),
        )


def pull_all(
    ids: Iterable[str],
    sources: Sequence[str],
    keyring: Keyring,
    states_dir: Path,
    options: PullOptions,
    store: ValidatorStore,
) -> Iterator[PullResult]:
    """Pull every id, ``options.concurrency`` at once over one kept-alive pool; results as they finish.

    An id that cannot be parsed is an error result. At most twice ``concurrency`` ids are
    queued, so a list of millions costs no more memory than a short one. Validators are
    looked up in ``store`` before an id is queued and its answers written to it after,
    all from the calling thread. When the caller stops early (an interrupt raised while
    it waits, or closing the iterator), no new id is started and no retry waits, the ids
    in flight finish (each within its deadline), and their answers reach ``store``:
    every state written is whole (written aside, then renamed) and ``store`` names only
    bytes that were written.
    """
    stop = threading.Event()
    workers = max(1, options.concurrency)
    with Fetcher(options.fetch, connections=workers) as fetcher:
        puller = _Puller(
            sources=sources,
            keyring=keyring,
            states_dir=states_dir,
            options=options,
            fetcher=fetcher,
            stop=stop,
        )
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pull")
        pending: set[Future[PullResult]] = set()
        try:
            for text in ids:
                try:
                    wanted = parse_id(text)
                except ValueError as exc:
                    yield PullResult(id=text, status="error", detail=str(exc))
                    continue
                known = store.lookup(puller.urls(wanted))
                pending.add(pool.submit(puller.pull_one, wanted, known))
                while len(pending) >= 2 * workers:
                    yield from _finished(pending, store)
            while pending:
                yield from _finished(pending, store)
        finally:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            for future in pending:
                if future.done() and not future.cancelled() and future.exception() is None:
                    store.apply(future.result().memos)
            store.commit()


def _finished(pending: set[Future[PullResult]], store: ValidatorStore) -> Iterator[PullResult]:
    """Wait for at least one of ``pending``, remove the finished ones and yield their results."""
    done, _ = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        pending.discard(future)
        result = future.result()
        store.apply(result.memos)
        yield result


@dataclass(slots=True)
class PullTally:
    """Counts of a run so far, for the progress line and the closing summary line.

    >>> tally = PullTally(total=3)
    >>> tally.add(PullResult(id="a", status="pulled", detail="", received=2048))
    >>> tally.add(PullResult(id="b", status="unchanged", detail="", not_modified=True))
    >>> tally.counts()
    '1 pulled, 0 updated, 1 unchanged, 0 error'
    >>> tally.progress()
    '2/3 ids: 1 pulled, 0 updated, 1 unchanged, 0 error; 2048 bytes received'
    """

    total: int
    done: int = 0
    not_modified: int = 0
    received: int = 0
    by_status: dict[str, int] = field(
        default_factory=lambda: {"pulled": 0, "updated": 0, "unchanged": 0, "error": 0}
    )

    def add(self, result: PullResult) -> None:
        self.done += 1
        self.by_status[result.status] += 1
        self.not_modified += result.not_modified
        self.received += result.received

    def counts(self) -> str:
        return ", ".join(f"{n} {status}" for status, n in self.by_status.items())

    def progress(self) -> str:
        return f"{self.done}/{self.total} ids: {self.counts()}; {self.received} bytes received"

    def summary(self, seconds: float) -> str:
        """``counts``, then how many were 304s, the bytes received and the seconds taken."""
        return (
            f"{self.counts()}; {self.not_modified} not modified (304), "
            f"{self.received} bytes received in {seconds:.1f} s"
        )

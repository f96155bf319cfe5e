"""Writing the site: a staging directory beside the target, then publishing it (layer 4).

Nothing half-written is ever published. By default the whole tree is written into a
staging directory next to the target; only when the build has finished is it exchanged
with the live site (``renameat2(RENAME_EXCHANGE)`` on Linux, so there is no moment without
a site; elsewhere two renames, with a moment without one). A build that fails or is killed
leaves the live site untouched; its stale staging directory is removed by the next build.
A lock file stops two builds writing one target at once.

The tree a swap takes out of service is kept beside the target as its spare
(``.<name>.spare``), not deleted: a rebuild stages in it (``recycle``), so its directories,
and the files of every paper it reuses, are already in place; only what changed is
removed, linked or written. Operators may instead choose to patch the live site in place
(``patch_live``): each new file is moved in whole, in an order that keeps links working,
under a journal that the next build finishes if this one is killed.

``TreeWriter`` and the lock work at the OS boundary (``os.open``, ``os.write``), and any
``OSError`` inside the staged block, from them or from any other write (a full or
read-only volume), becomes an ``OutputError`` that names the path and says the previous
site is untouched, so the command exits 2 with one clear line instead of a traceback.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path, PurePosixPath
from typing import Any

from sitegen.errors import BuildError, OutputError, SitegenError
from sitegen.site.manifest_bins import is_bin, owner_line

__all__ = [
    "HELD_DIR",
    "ForkedStep",
    "Made",
    "StagedSite",
    "TreeWriter",
    "file_sha256",
    "held_root",
    "link_or_copy",
    "listed_files",
    "manifest_entries",
    "manifest_paths",
    "place_held_file",
    "refuse_unsafe_target",
    "remove_tree",
    "remove_tree_alone",
    "remove_tree_later",
    "safe_join",
]


@dataclass(frozen=True, slots=True)
class Made:
    """A site-wide file as a build made it: from inputs whose digest is ``inputs``, bytes whose SHA-256 is ``sha256``."""

    inputs: str
    sha256: str


Patch = dict[str, Any]
"""A journaled update of the live site: ``staging`` (its directory's name), ``moves``, ``deletes``."""

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_UNSAFE_PATH = re.compile(r"[\x00-\x1f\x7f\\]|(?:^|/)\.{0,2}(?:/|$)")
"""A control character, a backslash, or an empty, ``.`` or ``..`` part (so also a leading ``/``)."""
_DIRS_REMEMBERED = 4096
"""Directories a writer remembers having made; forgetting one costs only a ``mkdir`` that finds it."""
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
_NO_LINKS = frozenset({errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP})
"""What ``link`` gets from a file system that will not make this hard link; it copies instead."""


def _os_error_text(exc: OSError) -> str:
    """``<file>: cannot write the new site: <reason>`` for an OS error raised outside ``TreeWriter``."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}cannot write the new site: {exc.strerror or exc}"


def _refuse_unsafe(text: str) -> None:
    """Raise unless ``text`` is a relative ``/``-separated path of plain names.

    The check is lexical: every part must be a plain name. That is sufficient because
    the build creates the output tree itself and never creates a symlink in it.
    """
    if _UNSAFE_PATH.search(text):
        raise BuildError(f"unsafe output path {text!r}")


def safe_join(root: Path, rel: PurePosixPath) -> Path:
    """Join a relative output path to ``root``, refusing anything that could leave it.

    Raises:
        BuildError: absolute, ``..``, empty parts, backslashes or control characters.
    """
    _refuse_unsafe(str(rel))
    return root.joinpath(*rel.parts)


def refuse_unsafe_target(target: Path, *, content: Path, marker: str) -> None:
    """Refuse an output directory whose replacement would destroy something other than a built site.

    A build replaces the whole target, so the target must be a real directory (not a
    symlink or a file), may not be, hold or sit inside the content directory, and an existing non-empty target must hold ``marker`` (a file every
    build writes), which marks it as a site an earlier build made.

    Raises:
        OutputError: the target is unsafe to replace.
    """
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise OutputError(f"{target}: exists and is not a directory; refusing to replace it")
    out, source = target.absolute().resolve(), content.absolute().resolve()
    if out == source or source.is_relative_to(out) or out.is_relative_to(source):
        raise OutputError(f"{target}: the output directory may not be, contain or sit inside {content}")
    try:
        occupied = target.is_dir() and not target.is_symlink() and any(target.iterdir())
    except OSError as exc:
        raise OutputError(f"{target}: cannot list the output directory: {exc.strerror}") from exc
    if occupied and not (target / marker).is_file():
        raise OutputError(
            f"{target}: exists and is not a site built by pith-sitegen (no {marker}); "
            "refusing to replace it: choose an empty or new directory"
        )


class TreeWriter:
    """Writes files under ``root`` and records their ``SHA256SUMS`` lines.

    A file is never modified in place. A new path is created directly (``O_EXCL``); a
    path that already exists (a hard link from the live site, placed by the incremental
    cache, or another paper's alias) is replaced by a whole file written under a
    temporary name and renamed over it. So a tree that shares inodes with the live site
    cannot change the live site, and two processes writing one path (two papers claiming
    one alias) leave one whole file, which the build then replaces with a collision page.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0
        self.seconds = 0.0
        """Time spent in ``write`` (creating, writing and hashing files), for the build's stage timings."""
        self._lines: list[str] = []
        self._made: dict[str, Made] = {}
        self.root_text = os.fspath(root)
        self._dirs: set[str] = set()

    def write(self, rel: PurePosixPath | str, data: bytes) -> None:
        """Write one file at ``rel`` (a relative ``/``-separated path).

        Raises:
            BuildError: the path is unsafe.
            OutputError: the file system refused (read-only, full).
        """
        started = time.perf_counter()
        text = str(rel)
        _refuse_unsafe(text)
        path = f"{self.root_text}/{text}"
        try:
            self._make_parent(text)
            try:
                fd = os.open(path, _NEW_FILE, 0o644)
            except FileExistsError:
                _replace_file(path, data)
            else:
                _write_all(fd, data)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        self.count += 1
        self._lines.append(f"{hashlib.sha256(data).hexdigest()}  {text}\n")
        self.seconds += time.perf_counter() - started

    def link(
        self, source: str, rel: str, sha256: str, *, owner: str | None = None, listed: bool = True
    ) -> None:
        """Put the file at ``source`` (a path, holding bytes whose SHA-256 is ``sha256``) at ``rel`` too;
        ``owner``: the suffix of the paper it belongs to, for the manifest's bins; ``listed`` false:
        the caller lists the file in ``SHA256SUMS`` itself (it is still counted as written).

        A hard link (see ``link_or_copy``): no byte is read or written, which matters for
        a file served under a second name for every paper.
        """
        started = time.perf_counter()
        _refuse_unsafe(rel)
        path = f"{self.root_text}/{rel}"
        try:
            self._make_parent(rel)
            link_or_copy(source, path)
        except OSError as exc:
            raise OutputError(f"{path}: cannot link {source}: {exc.strerror or exc}") from exc
        self.count += 1
        if listed:
            self._lines.append(_line(sha256, rel, owner))
        self.seconds += time.perf_counter() - started

    def _make_parent(self, text: str) -> None:
        directory = text.rpartition("/")[0]
        if directory not in self._dirs:
            _make_dir(f"{self.root_text}/{directory}" if directory else self.root_text)
            if len(self._dirs) >= _DIRS_REMEMBERED:  # the site-wide writer makes one per paper
                self._dirs.clear()
            self._dirs.add(directory)

    def record(self, rel: PurePosixPath, sha256: str | None = None) -> None:
        """Add the ``SHA256SUMS`` line of a file written under ``root`` by other means
        (``sha256``: its digest, when the writer computed it; else the file is read)."""
        self.count += 1
        self._lines.append(f"{sha256 or file_sha256(safe_join(self.root, rel))}  {rel}\n")

    def keep(self, rel: PurePosixPath | str, sha256: str, *, owner: str | None = None) -> None:
        """Add the ``SHA256SUMS`` line of a file already in place elsewhere (not written, not counted)."""
        self._lines.append(_line(sha256, rel, owner))

    def manifest(self) -> str:
        """The ``SHA256SUMS`` lines of the files written so far, in write order; a file that belongs
        to a paper is enclosed in owner lines (``sitegen.site.manifest_bins.owner_line``)."""
        return "".join(self._lines)

    def made(self, rel: str, made: Made) -> None:
        """Note what the file at ``rel`` (listed already) was made of, for the next build (``StagedSite.write_made``)."""
        self._made[rel] = made

    def made_files(self) -> dict[str, Made]:
        """What every file noted by ``made`` was made of."""
        return self._made

    def mark(self) -> tuple[int, int]:
        """Where the writer is: its number of lines and of files (see ``ForkedStep``)."""
        return len(self._lines), self.count

    def since(self, mark: tuple[int, int]) -> tuple[list[str], int, dict[str, Made]]:
        """The lines and the number of files written after ``mark``, and what files were made of
        (all of them: a forked writer's step notes only its own)."""
        return self._lines[mark[0] :], self.count - mark[1], self._made

    def insert(self, at: int, lines: list[str], files: int, made: dict[str, Made]) -> None:
        """List files another process wrote under ``root`` as if they had been written at line ``at``."""
        self._lines[at:at] = lines
        self.count += files
        self._made.update(made)


def _line(sha256: str, rel: PurePosixPath | str, owner: str | None) -> str:
    line = f"{sha256}  {rel}\n"
    return line if owner is None else f"{owner_line(owner)}{line}{owner_line(None)}"


class ForkedStep:
    """A step that writes files of the site, run in a forked process while this one goes on.

    The site-wide step is one process's work while the other cores idle; its two
    halves write different files. The step's ``SHA256SUMS`` lines are put where
    ``here()`` is called, so the manifest (and every byte) is what running the step at
    that point gives; without ``fork``, or with ``parallel`` false, it runs there.
    Use as a context manager: leaving it waits for the step and raises its error.
    """

    def __init__(self, writer: TreeWriter, step: Callable[[], Any], *, parallel: bool) -> None:
        self._writer, self._step = writer, step
        self.value: Any = None
        """What the step returned (picklable), once it has run: after ``here()`` or, forked, on leaving."""
        self._at: int | None = None
        self._child: multiprocessing.process.BaseProcess | None = None
        self._results: Connection | None = None
        if parallel and "fork" in multiprocessing.get_all_start_methods():
            fork = multiprocessing.get_context("fork")
            results, sender = fork.Pipe(duplex=False)
            child = fork.Process(target=_run_forked, args=(writer, step, sender), daemon=True)
            child.start()
            sender.close()
            self._child, self._results = child, results

    def __enter__(self) -> ForkedStep:
        return self

    def here(self) -> None:
        """The step's files come here in ``SHA256SUMS`` (and, when not forked, it runs now)."""
        if self._child is None:
            self.value = self._step()
        else:
            self._at = self._writer.mark()[0]

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        child, results = self._child, self._results
        if child is None or results is None:
            return
        try:
            if exc is not None:
                child.kill()
                return
            try:
                outcome = results.recv()
            except EOFError:
                raise BuildError(f"the forked site-wide step died (exit code {child.exitcode})") from None
            if isinstance(outcome, BaseException):
                raise outcome
            assert self._at is not None, "ForkedStep.here() was not called"
            written, self.value = outcome
            self._writer.insert(self._at, *written)
        finally:
            results.close()
            child.join()


def _run_forked(writer: TreeWriter, step: Callable[[], Any], results: Connection) -> None:
    """In the forked process: run the step, send back its ``SHA256SUMS`` lines and what it returned, or its error."""
    mark = writer.mark()
    try:
        value = step()
    except BaseException as exc:  # every error goes back to the parent, which raises it
        results.send(exc)
    else:
        results.send((writer.since(mark), value))
    finally:
        results.close()


HELD_DIR = ".held"
"""Where, under the staging root, a paper that is not verified writes its files: they reach their
paths only once the site-wide step has settled every claim on those paths (a verified claimant
keeps a path; see ``sitegen.site.claims.settle``). Never published."""


def held_root(out_root: Path, input_name: str) -> Path:
    """The directory under ``out_root`` that holds one input's files until its claims are settled."""
    return out_root / HELD_DIR / hashlib.sha256(input_name.encode("utf-8")).hexdigest()[:32]


def place_held_file(held: Path, root: Path, rel: str) -> None:
    """Move the held file ``held/rel`` to ``root/rel`` (its directories made as needed).

    Raises:
        OutputError: the file is missing or cannot be moved.
    """
    _refuse_unsafe(rel)
    target = f"{os.fspath(root)}/{rel}"
    try:
        _make_dir(target.rpartition("/")[0])
        _rename_over(f"{os.fspath(held)}/{rel}", target)
    except OSError as exc:
        raise OutputError(f"{target}: cannot place the held file: {exc.strerror or exc}") from exc


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read a megabyte at a time.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _make_dir(path: str) -> None:
    """``mkdir -p``, in one system call when the parent exists (the usual case)."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` to ``fd`` and close it."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _temporary(path: str) -> str:
    """A hidden name beside ``path`` for the whole file that will be renamed over it (one per process)."""
    head, _, name = path.rpartition("/")
    return f"{head}/.{name}.{os.getpid()}.tmp"


def _replace_file(path: str, data: bytes) -> None:
    """Replace the existing file at ``path`` by a new one, never writing into its inode."""
    temporary = _temporary(path)
    try:
        fd = os.open(temporary, _NEW_FILE, 0o644)
    except FileExistsError:  # left by a write of this process that failed half-way
        os.unlink(temporary)
        fd = os.open(temporary, _NEW_FILE, 0o644)
    _write_all(fd, data)
    _rename_over(temporary, path)


def _rename_over(source: str, target: str) -> None:
    """``os.replace(source, target)``, where ``target`` may be a directory holding no file.

    Such a directory is one the spare held that ``StagedSite.recycle`` emptied and this
    build has not yet removed; it is removed. A directory holding a file stays, and the
    rename's error is raised.
    """
    try:
        os.replace(source, target)
    except IsADirectoryError as exc:
        try:
            for directory, _, _ in os.walk(target, topdown=False):
                os.rmdir(directory)
        except OSError:
            raise exc from None
        os.replace(source, target)


def link_or_copy(source: str, target: str) -> None:
    """Put the regular file ``source`` at ``target`` too: a hard link, or a copy where links are refused.

    The one way the build reuses a file under another name (a second name of a paper's
    file, an unchanged paper's files from the live site, a shard's files). A file system
    that will not make the link (another device, no hard links, too many links, or the
    kernel's protected hard links) gets a copy. An existing ``target`` is replaced
    whole by renaming a new name over it, never written into: a file whose inode is
    shared with the live site never changes through ``target``.

    Raises:
        OSError: ``source`` is missing or unreadable, or ``target`` cannot be made.
    """
    try:
        os.link(source, target, follow_symlinks=False)
        return
    except FileExistsError:
        pass
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    temporary = _temporary(target)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    try:
        os.link(source, temporary, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        shutil.copyfile(source, temporary, follow_symlinks=False)
    _rename_over(temporary, target)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2; False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


class StagedSite:
    """A site being built: files go to a staging directory until ``commit()``."""

    def __init__(self, target: Path) -> None:
        self.target = target.absolute()
        self.parent = self.target.parent
        self._prefix = f".{self.target.name}.staging-"
        self._lock: int | None = None
        self.root = Path()
        self.writer = TreeWriter(self.root)
        self._spare = self.parent / f".{self.target.name}.spare"
        self._recycled = False
        """Whether the staging tree is the spare (``recycle``), so a reused file may be in place already."""
        self._emptied: list[str] = []
        """Directories of the spare that ``recycle`` emptied: those still empty go before the swap."""
        self._stale: frozenset[str] | None = None
        """In patch mode: live files this build may make obsolete (None: the whole tree is staged)."""
        self._removed: list[PurePosixPath] = []
        self._journal = self.parent / f".{self.target.name}.patch.json"
        self._previous: Mapping[str, Made] = {}
        """What the live site's site-wide files were made of (``remember``)."""
        self._live_sums: Mapping[str, str] = {}
        """The SHA-256 the live ``SHA256SUMS`` lists for each of them (``remember``)."""
        self._kept_unlisted: list[Collection[str]] = []
        """Live files kept in place that no writer line lists (``kept_in_place``)."""

    def __enter__(self) -> StagedSite:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            lock = os.open(
                self.parent / f".{self.target.name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644
            )
        except OSError as exc:
            raise OutputError(
                f"{self.parent}: cannot create the output directory's lock: {exc.strerror}; "
                "nothing was written"
            ) from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(lock)
            raise OutputError(
                f"{self.target}: another build is writing this output directory; try again when it ends"
            ) from exc
        self._lock = lock
        try:
            self._finish_interrupted_patch()
        except (OSError, BuildError) as exc:
            self._release()
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise OutputError(
                f"{self._journal}: cannot finish the update a killed build left half-done: {reason}"
            ) from exc
        self._remove_stale_staging()
        try:
            self.root = Path(tempfile.mkdtemp(prefix=self._prefix, dir=self.parent))
            self.writer = TreeWriter(self.root)
        except OSError as exc:
            self._release()
            raise OutputError(f"{self.parent}: cannot create a staging directory: {exc.strerror}") from exc
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self.root.exists() and self.root != self.target and not self._journal.exists():
            remove_tree(self.root)  # a journaled patch still needs it
        self._release()
        if isinstance(exc, OSError):
            detail = str(exc) if isinstance(exc, SitegenError) else _os_error_text(exc)
            raise OutputError(f"{detail}; the previous site at {self.target} is untouched") from exc

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _remove_stale_staging(self) -> None:
        """Staging and retired trees left by killed builds (or by a deletion not finished yet),
        deleted beside this build (``remove_tree_later``); safe because we hold the lock and no
        build uses these names again."""
        for entry in self.parent.iterdir():
            if entry.name.startswith(self._prefix) or entry.name.startswith(f".{self.target.name}.old-"):
                remove_tree_later(entry)

    def path(self, rel: PurePosixPath) -> Path:
        return safe_join(self.root, rel)

    def patch_live(self, stale: frozenset[str]) -> None:
        """Publish by patching the live site rather than swapping a whole new tree in.

        For a rebuild that reuses most papers: the staging tree then holds only what this
        build writes, and ``commit`` moves each file into the live site (``rename``, so
        every file a reader sees is whole) and deletes the ``stale`` live files this
        build did not write again. Cost follows the change, not the size of the site.
        """
        self._stale = stale

    def write(self, rel: PurePosixPath | str, data: bytes) -> None:
        """Write one file of the new site (see ``TreeWriter.write``).

        When patching, a file whose live copy already has these bytes is kept as it is:
        most site-wide files of a small change (index pages, search shards) are unchanged.
        """
        if self._stale is not None:
            text = str(rel)
            _refuse_unsafe(text)
            if _has_bytes(f"{self.target}/{text}", data):
                self.writer.keep(text, hashlib.sha256(data).hexdigest())
                return
        self.writer.write(rel, data)

    def remember(self, previous: Mapping[str, Made], live_sums: Mapping[str, str]) -> None:
        """What the build that made the live site noted its site-wide files were made of
        (``write_made``), and the SHA-256 its ``SHA256SUMS`` lists for each of them (``live_sums``).

        Only for a live site exactly as that build left it (the incremental cache checks), and
        a build whose code, templates and configuration are that build's (its key): the same
        inputs then make the same bytes."""
        self._previous = previous
        self._live_sums = live_sums

    def write_made(self, rel: str, inputs: str, make: Callable[[], bytes]) -> str:
        """Write the file ``make()`` returns at ``rel``, which depends on nothing but ``inputs`` (a
        digest of them) besides the build's key; returns the file's SHA-256.

        When the live file was made of the same inputs, it is kept as it is (patching) or
        linked into the staging tree (a swap), and ``make`` is not called: a rebuild spends
        nothing on the site-wide files a change does not reach.
        """
        previous = self._previous.get(rel)
        if previous is not None and previous.inputs == inputs and self.keep_made(rel):
            return previous.sha256
        data = make()
        self.write(rel, data)
        made = Made(inputs, hashlib.sha256(data).hexdigest())
        self.writer.made(rel, made)
        return made.sha256

    def made_inputs(self, rel: str) -> str | None:
        """What the build which made the live site noted the file at ``rel`` was made of (``write_made``)."""
        previous = self._previous.get(rel)
        return None if previous is None else previous.inputs

    def made_before(self, prefix: str) -> list[str]:
        """The site-wide files under ``prefix`` that the build which made the live site noted (``write_made``), sorted."""
        return sorted(rel for rel in self._previous if rel.startswith(prefix))

    def live_made(self, rel: str) -> bytes | None:
        """The bytes of the live file at ``rel`` if they are the ones the last build made there (their
        SHA-256 is the one it noted), else None: a file a patch is made from (``search_update``)."""
        previous = self._previous.get(rel)
        if previous is None or _UNSAFE_PATH.search(rel):
            return None
        try:
            with open(f"{self.target}/{rel}", "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return data if hashlib.sha256(data).hexdigest() == previous.sha256 else None

    def has_live(self, rel: str) -> bool:
        """Whether the live site has a regular file at ``rel`` (a safe path)."""
        path = f"{self.target}/{rel}"
        return not _UNSAFE_PATH.search(rel) and os.path.isfile(path) and not os.path.islink(path)

    def keep_made(self, rel: str) -> bool:
        """Keep the live file at ``rel`` as the last build made it (linked into a swap's tree), noted
        as made of what it was; False, and nothing listed, when that build made no file there or it is gone."""
        previous = self._previous.get(rel)
        if previous is None or not self._reuse_live(rel):
            return False
        self.writer.keep(rel, previous.sha256)
        self.writer.made(rel, previous)
        return True

    def _reuse_live(self, rel: str) -> bool:
        if _UNSAFE_PATH.search(rel):
            return False
        if self._stale is not None:
            return os.path.isfile(f"{self.target}/{rel}") and not os.path.islink(f"{self.target}/{rel}")
        return self.link_from_live([rel])

    def link(
        self,
        source: str,
        rel: str,
        sha256: str,
        *,
        owner: str | None = None,
        source_root: str | None = None,
        listed: bool = True,
    ) -> None:
        """Serve the new site's file ``source`` (whose SHA-256 is ``sha256``) at ``rel`` too (see ``TreeWriter.link``);
        ``source_root``: the tree ``source`` is in when it is not the staging tree (a shard's output,
        for a merge that writes only what the site-wide step adds); ``listed`` false: the caller lists
        it in ``SHA256SUMS`` and, patching, names it to ``kept_in_place`` when it is kept.

        When patching, a live ``rel`` that the live ``SHA256SUMS`` lists with these bytes
        (``remember``) is kept as it is, without a look at either file, whether or not this build
        staged ``source`` again: what is served there is the same bytes. (The cache trusts the live
        site to be the tree its ``SHA256SUMS`` lists, as it does for a reused paper's own files: an
        endpoint link per paper is as many files as papers, and a look at each costs ``stat``s.)
        Otherwise a ``source`` this build did not stage is the live one, unchanged, and a live
        ``rel`` that is already a link of it is kept too.
        """
        patching = self._stale is not None
        if patching and self._live_sums.get(rel) == sha256:
            _refuse_unsafe(rel)
            if listed:
                self.writer.keep(rel, sha256, owner=owner)
            return
        _refuse_unsafe(source)
        staged = f"{source_root or self.writer.root_text}/{source}"
        if patching and source_root is None and not os.path.lexists(staged):
            staged = f"{self.target}/{source}"
            _refuse_unsafe(rel)
            if _same_file(staged, f"{self.target}/{rel}"):
                if listed:
                    self.writer.keep(rel, sha256, owner=owner)
                return
        self.writer.link(staged, rel, sha256, owner=owner, listed=listed)

    @property
    def patching(self) -> bool:
        """Whether this build patches the live site (``patch_live``) instead of staging the whole tree."""
        return self._stale is not None

    def kept_in_place(self, rels: Collection[str]) -> None:
        """Patching: live files that stay as they are although no writer line lists them (files whose
        ``SHA256SUMS`` lines the caller makes itself, see ``link``); the patch never deletes them."""
        self._kept_unlisted.append(rels)

    @property
    def files_written(self) -> int:
        return self.writer.count

    def recycle(self, stale: frozenset[str]) -> None:
        """Stage the whole new site in the spare (the tree the last swap retired) if there is one.

        Call before anything is staged. The spare is renamed over the empty staging
        directory, then pruned to what a fresh staging tree seeded by ``link_from_live``
        would hold: a file stays only when it is the live file of its path (one inode,
        a hard link) and not among ``stale`` (the live files this build may make
        obsolete, see ``patch_live``), so it can only be a file of a paper this build
        reuses; every other file goes, and every directory left empty. So whatever the
        spare holds (a killed build's half, a hand edit), the tree staged from it is the
        one a fresh staging tree gives, and the live site is never touched.

        Raises:
            OSError: the spare cannot be renamed or pruned (the build stops; nothing is published).
        """
        if self._spare.is_symlink() or not self._spare.is_dir():
            return
        os.rename(self._spare, self.root)  # over the empty directory ``__enter__`` made
        self._recycled = True
        self._emptied = _prune(str(self.root), str(self.target), stale)[:-1]  # not the root

    def link_from_live(self, rels: list[str]) -> bool:
        """Reuse files of the live site (``/``-separated paths) in the staging tree (see ``link_or_copy``).

        Returns False, having placed possibly only some, when one is missing, unsafe or
        cannot be placed. Safe because the staging tree's files are only ever replaced
        (unlinked, then written; see ``TreeWriter``), never modified in place, so the
        live site never changes through a shared inode. In a recycled tree a file
        already there is the live one (``recycle`` removed every other), so it stays.
        """
        live, staging = str(self.target), str(self.root)
        for rel in rels:
            if _UNSAFE_PATH.search(rel):
                return False
            source, target = f"{live}/{rel}", f"{staging}/{rel}"
            try:
                try:
                    os.link(source, target, follow_symlinks=False)
                except FileExistsError:
                    if not self._recycled:
                        raise
                except FileNotFoundError:  # the directory is not there yet (or the live file is gone)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    link_or_copy(source, target)
                except OSError as exc:
                    if exc.errno not in _NO_LINKS:
                        raise
                    link_or_copy(source, target)
            except OSError:
                return False
        return True

    def remove_tree(self, rel: PurePosixPath) -> None:
        """Remove a directory of the new site (e.g. a page two inputs claimed), staged or (patching) live."""
        remove_tree(self.path(rel))
        self._removed.append(rel)

    def commit(self) -> None:
        """Make the staged tree the live site, atomically where the system allows.

        Raises:
            OutputError: the swap failed; the previous site is left in place.
        """
        if self.target.is_symlink() or (self.target.exists() and not self.target.is_dir()):
            raise OutputError(f"{self.target}: exists and is not a directory; refusing to replace it")
        if self._stale is not None:
            patch = self._patch()
            if patch is not None:
                self._apply_patch(patch)
                return
            self._stage_the_rest()
        _remove_empty(self._emptied)
        try:
            os.chmod(self.root, 0o755)  # noqa: S103 (mkdtemp makes it 0700; a web server must read it)
            if self.target.exists():
                if _exchange(self.root, self.target):
                    retired = self.root
                else:
                    holder = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.parent))
                    retired = holder / "site"
                    os.replace(self.target, retired)
                    os.replace(self.root, self.target)
            else:
                os.replace(self.root, self.target)
                retired = None
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot swap the new site into place: {exc.strerror}") from exc
        with contextlib.suppress(OSError):
            fd = os.open(self.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        if retired is not None:
            self._keep_spare(retired)

    def _keep_spare(self, retired: Path) -> None:
        """Keep the tree the swap retired as the spare for the next rebuild (see ``recycle``).

        An older spare, which this build did not recycle, is renamed aside and deleted by a
        detached process (``remove_tree_later``): the build does not wait for a whole site's
        deletion. Keeping the spare is only a saving: where it fails, the retired tree goes
        the same way.
        """
        holder = retired.parent if retired.parent != self.parent else None  # of the two renames
        try:
            if os.path.lexists(self._spare):
                older = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.parent))
                os.replace(self._spare, older / "site")
                remove_tree_later(older)
            os.replace(retired, self._spare)
        except OSError:
            remove_tree_later(holder or retired)
            return
        if holder is not None:
            remove_tree(holder)  # empty now

    # -- patch mode ------------------------------------------------------------------------

    def _staged_files(self) -> list[str]:
        """Every file of the staging tree, ``/``-separated, in publishing order.

        Paper and alias pages first, then the site-wide pages that link to them, and
        ``SHA256SUMS`` last, so a reader never follows a new link to a page not yet there.
        """
        found: list[str] = []
        prefix = len(str(self.root)) + 1
        for directory, _, names in os.walk(self.root):
            found.extend(os.path.join(directory, name)[prefix:].replace(os.sep, "/") for name in names)
        first = ("pith/", "arxiv/", "doi/")
        return sorted(found, key=lambda rel: (rel == "SHA256SUMS", not rel.startswith(first), rel))

    def _patch(self) -> Patch | None:
        """The moves and deletions that turn the live site into the staged one; None when a path
        changes between file and directory (then the whole tree is staged and swapped instead)."""
        assert self._stale is not None
        moves = self._staged_files()
        staged = set(moves)
        gone = set(self._stale) - staged
        for rel in self._removed:  # live files under a directory a collision page replaced
            live_dir = safe_join(self.target, rel)
            prefix = len(str(self.target)) + 1
            for directory, _, names in os.walk(live_dir):
                gone.update(os.path.join(directory, n)[prefix:].replace(os.sep, "/") for n in names)
        gone -= staged
        # Kept in place: the site-wide files with unchanged bytes, listed by this process's writer.
        # No reused paper's file is among the stale ones: a path is listed once in a SHA256SUMS,
        # and a paper that shared one with another was displaced, so it is not reused.
        gone.difference_update(manifest_paths(self.writer.manifest().splitlines()))
        for kept in self._kept_unlisted:
            gone.difference_update(kept)
        target = os.fspath(self.target)
        placeable = {target}
        """Directories a move may put a file in: there, or to be made under one that is."""
        for move in moves:
            live = f"{target}/{move}"
            if os.path.isdir(live) and not os.path.islink(live):
                return None
            parent, missing = live.rpartition("/")[0], []
            while parent not in placeable and not os.path.isdir(parent):
                if os.path.lexists(parent):
                    return None
                missing.append(parent)
                parent = parent.rpartition("/")[0]
            placeable.add(parent)
            placeable.update(missing)
        return {"staging": self.root.name, "moves": moves, "deletes": sorted(gone)}

    def _stage_the_rest(self) -> None:
        """Hard-link into the staging tree every file of the new ``SHA256SUMS`` this build did not
        write (patching was not possible, so the whole tree is swapped in after all)."""
        kept = [rel for rel in listed_files(self.root) if not os.path.lexists(os.path.join(self.root, rel))]
        if not self.link_from_live(kept):
            raise OutputError(f"{self.target}: cannot link the files this build keeps into {self.root}")
        self._stale = None

    def _apply_patch(self, patch: Patch) -> None:
        """Write the patch's journal, then carry it out; a killed build's journal is finished by the next."""
        try:
            temporary = self._journal.with_name(self._journal.name + ".tmp")
            temporary.write_bytes(json.dumps(patch, sort_keys=True).encode("utf-8"))
            fd = os.open(temporary, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, self._journal)
            _carry_out(self.target, self.root, patch)
            os.unlink(self._journal)
        except OSError as exc:
            raise OutputError(
                f"{self.target}: the update stopped part-way ({exc.strerror}); "
                "every file is whole, and the next build finishes the update"
            ) from exc
        remove_tree(self.root)

    def _finish_interrupted_patch(self) -> None:
        """Finish the patch a killed build journaled, so the live site is again one build's output."""
        try:
            patch = json.loads(self._journal.read_bytes())
        except FileNotFoundError:
            return
        except ValueError:  # a journal is renamed into place whole; this is not ours
            os.unlink(self._journal)
            return
        staging = self.parent / str(patch["staging"])
        if staging.name.startswith(self._prefix) and staging.is_dir():
            _carry_out(self.target, staging, patch)
        os.unlink(self._journal)


def manifest_paths(lines: Iterable[str]) -> Iterator[str]:
    """The paths of ``SHA256SUMS`` lines (``<64 hex>  <path>``); other lines are skipped."""
    for path, _ in manifest_entries(lines):
        yield path


def listed_files(root: Path) -> dict[str, str]:
    """Every file ``root/SHA256SUMS`` lists, by path, with the SHA-256 listed: its bins and the
    files each bin lists (``sitegen.site.manifest_bins``)."""
    with open(root / "SHA256SUMS", encoding="utf-8") as listing:
        listed = dict(manifest_entries(listing))
    for rel in [rel for rel in listed if is_bin(rel)]:
        with open(safe_join(root, PurePosixPath(rel)), encoding="utf-8") as listing:
            listed.update(manifest_entries(listing))
    return listed


def manifest_entries(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(path, SHA-256) of each ``SHA256SUMS`` line; other lines are skipped."""
    for line in lines:
        line = line.rstrip("\n")
        if len(line) > 66 and line[64:66] == "  ":
            yield line[66:], line[:64]


def remove_tree(path: Path | str) -> None:
    """Delete the directory ``path`` and everything under it, as far as it can (errors are ignored).

    Unlike ``shutil.rmtree``, which lists each directory whole before deleting from it, this
    deletes each entry as the listing reaches it, so it holds one directory entry per level
    however wide a directory is: a site's ``pith/`` holds about five entries a paper (its
    directory and its aliases'), millions in a full mirror. Symbolic links are deleted, never
    followed; a ``path`` that is itself a link is left alone (as ``rmtree`` refuses it).
    """
    with contextlib.suppress(OSError):
        if not os.path.islink(path):
            _remove_under(os.fspath(path))
            os.rmdir(path)


def remove_tree_later(path: Path | str) -> None:
    """Delete the tree ``path``, which nothing uses any more (a retired site, a killed build's
    staging tree), in a detached process, so that the caller does not wait for it: deleting a
    site costs a system call a file, and a mirror has millions.

    The process is forked twice, so it is nobody's child and nothing has to wait for it, and it
    closes every file it inherited before it starts: it must not hold the output's lock (the
    next build would find it taken) or the caller's pipes (whoever reads the caller's output
    to its end would wait for the deletion). A tree it leaves, killed, is deleted by the next
    build's start (``StagedSite``); one that another process is deleting still is left to it
    (``remove_tree_alone``). Where no process can be forked, the tree is deleted here.
    """
    try:
        child = os.fork()
    except OSError:
        remove_tree_alone(path)
        return
    if child == 0:  # pragma: no cover (runs in the forked processes)
        try:
            if os.fork() == 0:
                os.closerange(0, _open_files_limit())
                remove_tree_alone(path)
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def remove_tree_alone(path: Path | str) -> bool:
    """Delete the tree ``path`` (``remove_tree``) holding a lock on its top directory; returns
    False, deleting nothing, when another process holds that lock: it is deleting the tree
    already. Each build's start deletes the trees earlier builds left, so without the lock a
    retired site of millions of files would have one more deleter for every build that starts
    before the first is done, each walking the same directories. The lock goes with the
    process, so a deleter killed halfway leaves the tree to the next one.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        remove_tree(path)  # not a directory (or gone): nothing to share
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        remove_tree(path)
        return True
    finally:
        os.close(fd)


def _open_files_limit() -> int:
    """One more than the highest file descriptor this process may have open."""
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (OSError, ValueError):
        return 65536


def _remove_under(directory: str) -> None:
    """Delete what ``directory`` holds (a name already returned by a listing may be removed
    during it: POSIX leaves only that name's own return unspecified)."""
    with os.scandir(directory) as scan:
        for entry in scan:
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    _remove_under(entry.path)
                    os.rmdir(entry.path)
                else:
                    os.unlink(entry.path)


def _prune(root: str, live: str, stale: frozenset[str]) -> list[str]:
    """Remove from the tree at ``root`` every file that is not the live file of its path or is
    ``stale`` (see ``StagedSite.recycle``); return the directories left empty, deepest first."""
    device = os.stat(root).st_dev
    emptied: list[str] = []

    def prune(directory: str, prefix: str) -> bool:
        """Prune ``directory`` (``prefix``: its path under ``root`` with a final ``/``); whether it is empty now."""
        kept = False
        with os.scandir(directory) as scan:  # unlinking as it goes, as ``remove_tree`` does
            for entry in scan:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    kept = not prune(entry.path, f"{rel}/") or kept
                elif rel not in stale and _is_live(entry, f"{live}/{rel}", device):
                    kept = True
                else:
                    os.unlink(entry.path)
        if not kept:
            emptied.append(directory)
        return not kept

    prune(root, "")
    return emptied


def _is_live(entry: os.DirEntry[str], live: str, device: int) -> bool:
    """Whether ``entry`` (a name in a tree on ``device``) is the regular file at ``live`` (a hard link of it)."""
    try:
        found = os.lstat(live)
    except OSError:
        return False
    return stat.S_ISREG(found.st_mode) and (found.st_ino, found.st_dev) == (entry.inode(), device)


def _remove_empty(directories: list[str]) -> None:
    """Remove those of ``directories`` (deepest first) that are empty: the rest hold new files."""
    for directory in directories:
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one regular file (hard links of each other; symlinks are not followed)."""
    try:
        first, second = os.lstat(a), os.lstat(b)
    except OSError:
        return False
    return stat.S_ISREG(first.st_mode) and (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _has_bytes(path: Path | str, data: bytes) -> bool:
    """Whether ``path`` is a regular file holding exactly ``data`` (never follows a symlink)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(len(data) + 1) == data
    finally:
        os.close(fd)


def _carry_out(live: Path, staging: Path, patch: Patch) -> None:
    """Move the staged files over the live ones, then delete the stale ones and every directory
    that leaves empty; safe to repeat.

    Paths are joined as text, each checked as plain names first (``_refuse_unsafe``): a patch
    moves or deletes a file per changed file, and a ``Path`` a file costs more than its move.

    Raises:
        BuildError: a path in the patch could leave the site (a journal this build did not write).
    """
    live_text, staging_text = os.fspath(live), os.fspath(staging)
    made: set[str] = set()
    for rel in patch["moves"]:
        _refuse_unsafe(rel)
        source = f"{staging_text}/{rel}"
        if not os.path.lexists(source):  # moved by the run this one finishes
            continue
        target = f"{live_text}/{rel}"
        parent = target.rpartition("/")[0]
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        os.replace(source, target)
    emptied: set[str] = set()
    for rel in patch["deletes"]:
        _refuse_unsafe(rel)
        path = f"{live_text}/{rel}"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        emptied.add(path.rpartition("/")[0])
    _remove_emptied(emptied, live_text)


def _remove_emptied(directories: set[str], top: str) -> None:
    """Remove each of ``directories`` (under ``top``, which stays) that is empty, then each parent
    that leaves empty: deepest first, so each directory is tried once however many files went."""
    inside = f"{top}/"
    pending = {d for d in directories if d.startswith(inside)}
    while pending:
        depth = max(d.count("/") for d in pending)
        level = {d for d in pending if d.count("/") == depth}
        pending -= level
        for directory in level:
            try:
                os.rmdir(directory)
            except OSError:  # not empty (or gone): the directories above are needed too
                continue
            parent = directory.rpartition("/")[0]
            if parent.startswith(inside):
                pending.add(parent)

"""Writing the site: a staging directory beside the target, then an atomic swap (layer 5).

Nothing half-written is ever published. The whole tree is written into a fresh
staging directory next to the target; only when the build has finished is it
exchanged with the live site (``renameat2(RENAME_EXCHANGE)`` on Linux, so there is
no moment without a site), and the old tree is removed afterwards. A build that
fails or is killed leaves the live site untouched; its stale staging directory is
removed by the next build. A lock file stops two builds writing one target at once.

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
import os
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath

from sitegen.errors import BuildError, OutputError, SitegenError

__all__ = ["StagedSite", "TreeWriter", "refuse_unsafe_target", "safe_join"]


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def _os_error_text(exc: OSError) -> str:
    """``<file>: cannot write the new site: <reason>`` for an OS error raised outside ``TreeWriter``."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}cannot write the new site: {exc.strerror or exc}"


def safe_join(root: Path, rel: PurePosixPath) -> Path:
    """Join a relative output path to ``root``, refusing anything that could leave it.

    The check is lexical: every part must be a plain name. That is sufficient because
    the build creates the output tree itself and never creates a symlink in it.

    Raises:
        BuildError: absolute, ``..``, empty parts, backslashes or control characters.
    """
    text = str(rel)
    if (
        rel.is_absolute()
        or not rel.parts
        or any(p in ("", ".", "..") for p in rel.parts)
        or "\\" in text
        or any(ord(c) < 32 or ord(c) == 127 for c in text)
    ):
        raise BuildError(f"unsafe output path {text!r}")
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

    Each file is written under a temporary name and renamed over its path, never modified
    in place: a tree that shares inodes with the live site (hard links) cannot change the
    live site, and two processes writing one path (two papers claiming one alias) leave
    one whole file, which the build then replaces with a collision page.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0
        self.seconds = 0.0
        """Time spent in ``write`` (creating, writing and hashing files), for the build's stage timings."""
        self._lines: list[str] = []
        self._dirs: set[Path] = set()

    def write(self, rel: PurePosixPath, data: bytes) -> None:
        """Write one file.

        Raises:
            BuildError: the path is unsafe.
            OutputError: the file system refused (read-only, full).
        """
        started = time.perf_counter()
        path = safe_join(self.root, rel)
        try:
            if path.parent not in self._dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._dirs.add(path.parent)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                fd = os.open(temporary, _NEW_FILE, 0o644)
            except FileExistsError:  # left by a write of this process that failed half-way
                temporary.unlink()
                fd = os.open(temporary, _NEW_FILE, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(temporary, path)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        self.count += 1
        self._lines.append(f"{hashlib.sha256(data).hexdigest()}  {rel}\n")
        self.seconds += time.perf_counter() - started

    def record(self, rel: PurePosixPath) -> None:
        """Add the ``SHA256SUMS`` line of a file written under ``root`` by other means."""
        digest = hashlib.sha256()
        with safe_join(self.root, rel).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self.count += 1
        self._lines.append(f"{digest.hexdigest()}  {rel}\n")

    def manifest(self) -> str:
        """The ``SHA256SUMS`` lines of the files written so far, in write order."""
        return "".join(self._lines)


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
        self._linked_dirs: set[str] = set()

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
        self._remove_stale_staging()
        try:
            self.root = Path(tempfile.mkdtemp(prefix=self._prefix, dir=self.parent))
            self.writer = TreeWriter(self.root)
        except OSError as exc:
            self._release()
            raise OutputError(f"{self.parent}: cannot create a staging directory: {exc.strerror}") from exc
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self.root.exists() and self.root != self.target:
            shutil.rmtree(self.root, ignore_errors=True)
        self._release()
        if isinstance(exc, OSError):
            detail = str(exc) if isinstance(exc, SitegenError) else _os_error_text(exc)
            raise OutputError(f"{detail}; the previous site at {self.target} is untouched") from exc

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _remove_stale_staging(self) -> None:
        """Staging and retired trees left by killed builds; safe because we hold the lock."""
        for entry in self.parent.iterdir():
            if entry.name.startswith(self._prefix) or entry.name.startswith(f".{self.target.name}.old-"):
                shutil.rmtree(entry, ignore_errors=True)

    def path(self, rel: PurePosixPath) -> Path:
        return safe_join(self.root, rel)

    def write(self, rel: PurePosixPath, data: bytes) -> None:
        """Write one file of the new site (see ``TreeWriter.write``)."""
        self.writer.write(rel, data)

    @property
    def files_written(self) -> int:
        return self.writer.count

    def link_from_live(self, rels: list[str]) -> bool:
        """Hard-link files of the live site (``/``-separated paths) into the staging tree.

        Returns False, having linked possibly only some, when one is missing, unsafe or
        cannot be linked. Safe because the staging tree's files are only ever replaced
        (unlinked, then written; see ``TreeWriter``), never modified in place, so the
        live site never changes through a shared inode.
        """
        live, staging = str(self.target), str(self.root)
        for rel in rels:
            parts = rel.split("/")
            if any(p in ("", ".", "..") for p in parts) or "\\" in rel or any(ord(c) < 32 for c in rel):
                return False
            directory = os.path.dirname(rel)
            try:
                if directory and directory not in self._linked_dirs:
                    os.makedirs(os.path.join(staging, directory), exist_ok=True)
                    self._linked_dirs.add(directory)
                os.link(os.path.join(live, rel), os.path.join(staging, rel), follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError:
                return False
        return True

    def remove_tree(self, rel: PurePosixPath) -> None:
        """Remove a directory written earlier in this build (e.g. a page two inputs claimed)."""
        shutil.rmtree(self.path(rel), ignore_errors=True)

    def commit(self) -> None:
        """Make the staged tree the live site, atomically where the system allows.

        Raises:
            OutputError: the swap failed; the previous site is left in place.
        """
        if self.target.is_symlink() or (self.target.exists() and not self.target.is_dir()):
            raise OutputError(f"{self.target}: exists and is not a directory; refusing to replace it")
        try:
            os.chmod(self.root, 0o755)  # noqa: S103 (mkdtemp makes it 0700; a web server must read it)
            if self.target.exists():
                if _exchange(self.root, self.target):
                    shutil.rmtree(self.root, ignore_errors=True)
                else:
                    retired = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.parent))
                    os.replace(self.target, retired / "site")
                    os.replace(self.root, self.target)
                    shutil.rmtree(retired, ignore_errors=True)
            else:
                os.replace(self.root, self.target)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot swap the new site into place: {exc.strerror}") from exc
        with contextlib.suppress(OSError):
            fd = os.open(self.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

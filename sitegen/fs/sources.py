"""Finding and reading inputs under ``content/`` (layer 4, I/O).

Inputs are listed in sorted order so builds are deterministic; hidden files and
folders (names starting with ``.``: editor backups, ``.git``) are skipped. Nothing outside the
content directory is ever read: a symlink that leaves the tree is refused with an
error (state files, pages, keys, ``site.yaml`` and the directories holding them), a
file over the size limit is refused before it is read whole, and only regular files
are opened (a FIFO or device could block the build). A file name that is not UTF-8
or holds control characters is refused too: every report, page and terminal line
names its input, and such a name could not be written or could forge a line.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sitegen.errors import ConfigError, InputError, ParseError
from sitegen.pith.keys import Keyring, parse_key
from sitegen.pith.parse import DEFAULT_LIMITS, Limits, load_json

__all__ = [
    "ContentFiles",
    "discover",
    "display_name",
    "load_keyring",
    "prefetch",
    "read_beneath",
    "read_input",
    "read_named_file",
    "read_site_yaml",
]

KEY_FILE_MAX_BYTES = 64 * 1024
"""A key file is a few hundred bytes; anything far larger is not a key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentFiles:
    """Every input of a build, as ``/``-separated paths relative to the content directory
    (``states/2607/01083.json``: the names reports and the cache know them by), sorted."""

    root: Path
    states: tuple[str, ...]
    integrity: tuple[str, ...]
    pages: tuple[str, ...]
    refused: tuple[InputError, ...]
    """Inputs that may not be read at all (symlinks leaving the tree)."""


def _inside(root: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on Python < 3.13
        return False


def display_name(text: str) -> str:
    """``text`` with undecodable bytes and control characters shown as escapes (``\\xff``).

    >>> display_name("states/a\\nb.json")
    'states/a\\\\x0ab.json'
    """
    raw = os.fsencode(text)
    decoded = raw.decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in decoded)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _name_problem(name: str) -> str | None:
    """Why a file name may not name an input, or None when it may."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8"
    if _CONTROL.search(name):
        return "file name holds control characters"
    return None


def _walk(root: Path, sub: str, suffix: str, refused: list[InputError]) -> tuple[str, ...]:
    """The ``suffix`` files under ``root/sub``, in path order (a directory entry's type needs no extra ``stat``)."""
    top = root / sub
    if top.is_symlink():
        refused.append(InputError(sub, "symlinked directories are not followed", check="input.symlink"))
        return ()
    if not top.is_dir():
        return ()
    found: list[str] = []
    problems: list[InputError] = []
    pending = [sub]
    while pending:
        directory = pending.pop()
        with os.scandir(root / directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):  # .git, editor and OS folders and hidden files: never content
                    continue
                rel = f"{directory}/{name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append(rel)
                elif entry.is_symlink() and entry.is_dir():
                    problems.append(
                        InputError(
                            display_name(rel), "symlinked directories are not followed", check="input.symlink"
                        )
                    )
                elif name.endswith(suffix):
                    # a printable name has no control character and no lone surrogate: no problem
                    problem = None if rel.isprintable() else _name_problem(rel)
                    if problem is not None:
                        problems.append(InputError(display_name(rel), problem, check="input.name"))
                    elif entry.is_symlink() and not _inside(root, Path(entry.path)):
                        problems.append(
                            InputError(
                                rel, "symlink points outside the content directory", check="input.symlink"
                            )
                        )
                    else:
                        found.append(rel)
    refused.extend(sorted(problems, key=lambda error: error.source.split("/")))
    # path order, part by part (as ``rel.split("/")`` sorts): no accepted name holds a control
    # character, so with each "/" made the lowest one, the texts sort that way themselves
    return tuple(sorted(found, key=lambda rel: rel.replace("/", "\0")))


def discover(content: Path) -> ContentFiles:
    """List the state files, integrity files and pages under ``content``.

    Starts a build: the directories ``read_input`` resolved for an earlier one are forgotten.

    Raises:
        InputError: ``content`` is not a readable directory.
    """
    _real_dir.cache_clear()
    if not content.is_dir():
        raise InputError(str(content), "content directory does not exist or is not a directory")
    root = content.resolve()
    refused: list[InputError] = []
    try:
        states = _walk(root, "states", ".json", refused)
        integrity = _walk(root, "integrity", ".json", refused)
        pages = _walk(root, "pages", ".md", refused)
    except OSError as exc:
        raise InputError(str(content), f"cannot list: {exc.strerror}") from exc
    return ContentFiles(root=root, states=states, integrity=integrity, pages=pages, refused=tuple(refused))


def read_input(root: Path, rel: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Read one input, refusing files that leave ``root`` or exceed the size limit.

    Raises:
        InputError: unreadable, outside the tree, or not a regular file.
        ParseError: larger than ``limits.max_bytes`` (check ``json.size``).
    """
    return _within_limit(_read_regular(root, root / rel, rel, limits.max_bytes), rel, limits)


def prefetch(root: Path, rels: Iterable[str]) -> None:
    """Ask the kernel to start reading these inputs now; best effort, nothing is read here.

    On a cold checkout the workers would otherwise wait for the disk one small file at a
    time; the build calls this for the inputs it is about to hand out, so their reads are
    in flight together. Only regular files are advised; ``read_input`` still makes every
    check when a worker reads the file.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    for rel in rels:
        try:
            fd = os.open(f"{root}/{rel}", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def read_named_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Read a file the user named (on the command line), wherever it is, within the size limit.

    Raises:
        InputError: missing, not a regular file (a FIFO or device could block), unreadable.
        ParseError: larger than ``limits.max_bytes`` (check ``json.size``).
    """
    try:
        resolved = path.resolve()  # a symlink the user names is theirs to follow
    except (OSError, RuntimeError) as exc:
        raise InputError(str(path), "cannot resolve the path") from exc
    return _within_limit(_read_resolved(resolved, str(path), limits.max_bytes), str(path), limits)


def _within_limit(data: bytes | None, name: str, limits: Limits) -> bytes:
    if data is None:
        raise ParseError(name, "", "json.size", f"file is larger than the limit of {limits.max_bytes} bytes")
    return data


def _read_regular(root: Path, path: Path, name: str, max_bytes: int) -> bytes | None:
    """At most ``max_bytes`` of a regular file inside ``root``; None when the file is larger.

    Its directory must resolve inside ``root``; the file itself is opened without
    following a symlink, and a symlink there is resolved and must stay inside ``root`` too.

    Raises:
        InputError: outside ``root`` (check ``input.symlink``), not a regular file, unreadable.
    """
    try:
        root_real = _real_dir(os.fspath(root))
        inside = _is_within(_real_dir(os.path.dirname(os.fspath(path))), root_real)
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(name, "cannot resolve the path", check="input.symlink") from exc
    if inside:
        data = _read_bounded(path, name, max_bytes)
        if not isinstance(data, _Symlink):
            return data
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(name, "cannot resolve the path", check="input.symlink") from exc
    if not _is_within(os.fspath(resolved), root_real):
        raise InputError(name, "path resolves outside the content directory", check="input.symlink")
    return _read_resolved(resolved, name, max_bytes)


def _read_resolved(resolved: Path, name: str, max_bytes: int) -> bytes | None:
    """``_read_bounded`` of a path already resolved: a symlink there now was swapped in since."""
    data = _read_bounded(resolved, name, max_bytes)
    if isinstance(data, _Symlink):
        raise InputError(name, "the path changed while it was read", check="input.symlink")
    return data


@functools.lru_cache(maxsize=4096)
def _real_dir(directory: str) -> str:
    """``os.path.realpath``, once per directory per build (``discover`` forgets them)."""
    return os.path.realpath(directory, strict=True)


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


_READ_CHUNK = 1 << 16


class _Symlink:
    """What ``_read_bounded`` returns for a path whose last part is a symlink (not opened)."""


def _read_bounded(
    path: Path | str, name: str, max_bytes: int, *, dir_fd: int | None = None
) -> bytes | _Symlink | None:
    """At most ``max_bytes`` of the regular file ``path`` (relative to ``dir_fd`` if given); None when larger.

    Raises:
        InputError: missing, not a regular file, unreadable.
    """
    try:
        # The checked path itself, not whatever a symlink swapped in since points to (O_NOFOLLOW);
        # O_NONBLOCK so that opening a FIFO cannot block the build before fstat refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except FileNotFoundError as exc:
        raise InputError(name, "no such file") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _Symlink()
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from exc
    try:
        status = os.fstat(fd)
        regular = stat.S_ISREG(status.st_mode)
        data = _read_at_most(fd, max_bytes + 1, status.st_size) if regular else b""
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if not regular:
        raise InputError(name, f"not a regular file ({_KINDS.get(stat.S_IFMT(status.st_mode), 'unknown')})")
    return data if len(data) <= max_bytes else None


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def read_beneath(root: Path, rel: PurePosixPath, max_bytes: int) -> bytes | None:
    """At most ``max_bytes`` of the regular file ``rel`` under ``root``; None when it is larger.

    For auditing a built site, which holds no symlinks: each directory on the way is
    opened relative to the one before without following a symlink, and the file itself
    as every input is (no symlink, never blocking on a FIFO or device, fstat first).

    Raises:
        InputError: missing (caused by ``FileNotFoundError``), a symlink anywhere on the
            path (check ``input.symlink``), not a regular file, unreadable.
    """
    name = rel.as_posix()
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(str(root), f"cannot open the directory: {exc.strerror or exc}") from exc
    try:
        for depth, part in enumerate(rel.parts[:-1], start=1):
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except FileNotFoundError as exc:
                raise InputError(name, "no such file") from exc
            except OSError as exc:
                where = "/".join(rel.parts[:depth])
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise InputError(
                        name, f"{where} is a symlink or not a directory", check="input.symlink"
                    ) from exc
                raise InputError(name, f"cannot open {where}: {exc.strerror or exc}") from exc
            os.close(fd)
            fd = inner
        data = _read_bounded(rel.name, name, max_bytes, dir_fd=fd)
    finally:
        os.close(fd)
    if isinstance(data, _Symlink):
        raise InputError(name, "a symlink, not a regular file", check="input.symlink")
    return data


def _read_at_most(fd: int, limit: int, expected: int) -> bytes:
    """Up to ``limit`` bytes of ``fd``, first asking for its ``expected`` size and one more byte.

    Asking for the whole limit at once would allocate it (4 MB) for every small file.
    """
    chunks: list[bytes] = []
    size = 0
    request = expected + 1
    while size < limit:
        chunk = os.read(fd, min(request, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        request = _READ_CHUNK
    return b"".join(chunks)


def read_site_yaml(content: Path) -> str:
    """The text of ``content/site.yaml``, or "" when there is none.

    Raises:
        ConfigError: it leaves the content directory, is not a regular UTF-8 file, or is huge.
    """
    path = content / "site.yaml"
    label = str(path)
    if not path.exists() and not path.is_symlink():
        return ""
    try:
        data = _read_regular(content, path, label, DEFAULT_LIMITS.max_bytes)
        if data is None:
            raise ConfigError(label, "", "file is larger than 4 MiB", check="config.read")
        return data.decode("utf-8")
    except InputError as exc:
        raise ConfigError(label, "", exc.detail, check=exc.check) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            label, "", f"not UTF-8: invalid byte at offset {exc.start}", check="config.read"
        ) from exc


def load_keyring(directory: Path, label: str | None = None) -> Keyring:
    """Read every visible ``*.json`` key file in ``directory`` (sorted), refusing any bad one.

    Only those are keys: a hidden file (``.DS_Store.json``, an editor's ``.key.json.swp``)
    or any other name is not read, and is listed in ``Keyring.skipped`` for a warning.
    A missing directory is an empty keyring: every receipt is then unverifiable.

    Raises:
        ConfigError: the directory cannot be read, or a key file is malformed.
    """
    shown = label if label is not None else str(directory)
    if label is not None and directory.is_symlink() and not _inside(directory.parent, directory):
        raise ConfigError(
            shown,
            "",
            "the keys directory may not be a symlink leaving the content directory",
            check="input.symlink",
        )
    if not directory.exists():
        return Keyring()
    if not directory.is_dir():
        raise ConfigError(shown, "", "not a directory", check="keys.read")
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot list: {exc.strerror}", check="keys.read") from exc
    paths = [p for p in entries if _is_key_file_name(p.name)]
    skipped = [p.name for p in entries if not _is_key_file_name(p.name)]
    keys = []
    for path in paths:
        source = f"{shown.rstrip('/')}/{path.name}"
        if path.is_symlink():
            raise ConfigError(source, "", "key files may not be symlinks", check="input.symlink")
        try:
            data = _read_regular(directory, path, source, KEY_FILE_MAX_BYTES)
        except InputError as exc:
            raise ConfigError(source, "", exc.detail, check="keys.read") from exc
        if data is None:
            raise ConfigError(
                source, "", f"larger than {KEY_FILE_MAX_BYTES} bytes: not a key file", check="keys.read"
            )
        try:
            document = load_json(data, source)
        except ParseError as exc:
            raise ConfigError(source, exc.field, exc.detail, check=exc.check) from exc
        keys.append(parse_key(document, source))
    return Keyring.of(keys, skipped)


def _is_key_file_name(name: str) -> bool:
    """A visible ``*.json`` name: the only names ``load_keyring`` reads as keys."""
    return name.endswith(".json") and not name.startswith(".")

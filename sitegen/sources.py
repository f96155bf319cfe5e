"""Finding and reading inputs under ``content/`` (layer 5, I/O).

Inputs are listed in sorted order so builds are deterministic; hidden files and
folders (names starting with ``.``: editor backups, ``.git``) are skipped. Nothing
outside the content directory is ever read: a symlink that leaves the tree is refused
with an error, and a file over the size limit is refused before it is read whole.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sitegen.errors import ConfigError, InputError, ParseError
from sitegen.keys import Keyring, parse_key
from sitegen.parse import DEFAULT_LIMITS, Limits, load_json

__all__ = ["ContentFiles", "discover", "load_keyring", "read_input"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentFiles:
    """Every input of a build, as paths relative to the content directory, sorted."""

    root: Path
    states: tuple[PurePosixPath, ...]
    integrity: tuple[PurePosixPath, ...]
    pages: tuple[PurePosixPath, ...]
    refused: tuple[InputError, ...]
    """Inputs that may not be read at all (symlinks leaving the tree)."""


def _inside(root: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


def _walk(root: Path, sub: str, suffix: str, refused: list[InputError]) -> tuple[PurePosixPath, ...]:
    top = root / sub
    if not top.is_dir():
        return ()
    found: list[PurePosixPath] = []
    for directory, dirnames, filenames in os.walk(top, followlinks=False):
        here = Path(directory)
        for name in list(dirnames):
            if name.startswith("."):  # .git, editor and OS folders: never content
                dirnames.remove(name)
                continue
            if (here / name).is_symlink():
                dirnames.remove(name)
                refused.append(
                    InputError(
                        (here / name).relative_to(root).as_posix(),
                        "symlinked directories are not followed",
                        check="input.symlink",
                    )
                )
        dirnames.sort()
        for name in filenames:
            if not name.endswith(suffix) or name.startswith("."):
                continue
            path = here / name
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if path.is_symlink() and not _inside(root, path):
                refused.append(
                    InputError(
                        str(rel), "symlink points outside the content directory", check="input.symlink"
                    )
                )
                continue
            found.append(rel)
    return tuple(sorted(found))


def discover(content: Path) -> ContentFiles:
    """List the state files, integrity files and pages under ``content``.

    Raises:
        InputError: ``content`` is not a readable directory.
    """
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


def read_input(root: Path, rel: PurePosixPath, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Read one input, refusing files that leave ``root`` or exceed the size limit.

    Raises:
        InputError: unreadable, outside the tree, or not a regular file.
        ParseError: larger than ``limits.max_bytes`` (check ``json.size``).
    """
    path = root / rel
    if not _inside(root, path):
        raise InputError(str(rel), "path resolves outside the content directory", check="input.symlink")
    if not path.is_file():  # never open a FIFO or device: it could block the build
        raise InputError(str(rel), "not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(str(rel), f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limits.max_bytes:
        raise ParseError(
            str(rel), "", "json.size", f"file is larger than the limit of {limits.max_bytes} bytes"
        )
    return data


def load_keyring(directory: Path, label: str | None = None) -> Keyring:
    """Read every ``*.json`` key file in ``directory`` (sorted), refusing any bad one.

    A missing directory is an empty keyring: every receipt is then unverifiable.

    Raises:
        ConfigError: the directory cannot be read, or a key file is malformed.
    """
    shown = label if label is not None else str(directory)
    if not directory.exists():
        return Keyring()
    if not directory.is_dir():
        raise ConfigError(shown, "", "not a directory", check="keys.read")
    try:
        paths = sorted(p for p in directory.iterdir() if p.suffix == ".json")
    except OSError as exc:
        raise ConfigError(shown, "", f"cannot list: {exc.strerror}", check="keys.read") from exc
    keys = []
    for path in paths:
        source = f"{shown.rstrip('/')}/{path.name}"
        if path.is_symlink():
            raise ConfigError(source, "", "key files may not be symlinks", check="keys.read")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(source, "", f"cannot read: {exc.strerror}", check="keys.read") from exc
        try:
            document = load_json(data, source)
        except ParseError as exc:
            raise ConfigError(source, exc.field, exc.detail, check=exc.check) from exc
        keys.append(parse_key(document, source))
    return Keyring.of(keys)

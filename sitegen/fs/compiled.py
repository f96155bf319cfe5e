"""Compiled templates kept from one build to the next: jinja's bytecode cache, in a form of our own.

Jinja's ``FileSystemBytecodeCache`` unpickles each file's first field and raises on a file
cut short; this store reads no pickle, and takes a file only when its digest, its template's
source checksum and this Python's bytecode magic are the ones it was written with: anything
else (a damaged file, an edited template, another Python) is compiled afresh and written again.

Each file is code this process runs, so the directory belongs with the build's own cache
(written by builds only), never with the inputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import tempfile
import types
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

__all__ = ["CompiledTemplates", "compiled_templates"]

_MAGIC = b"sitegen-compiled-template/1 " + importlib.util.MAGIC_NUMBER.hex().encode("ascii") + b"\n"
"""The first line of each file: this format's and this Python's bytecode version."""


class CompiledTemplates(jinja2.BytecodeCache):
    """The compiled templates in ``directory`` (made when the first one is written).

    A file is ``_MAGIC``, the template's source checksum, the SHA-256 of the code, each on a
    line of its own, then the code (``marshal``). Failing to read or write one costs only a compile.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, bucket: Bucket) -> Path:
        return self.directory / f"{bucket.key}.code"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            data = self._path(bucket).read_bytes()
        except OSError:
            return
        parts = data.split(b"\n", 3)
        if len(parts) != 4:
            return
        head, checksum, digest, code = parts
        if (
            head + b"\n" != _MAGIC
            or checksum != bucket.checksum.encode("ascii")
            or digest != hashlib.sha256(code).hexdigest().encode("ascii")
        ):
            return
        with contextlib.suppress(ValueError, EOFError, TypeError):
            loaded = marshal.loads(code)  # noqa: S302 -- the build's own file, its digest checked
            if isinstance(loaded, types.CodeType):
                bucket.code = loaded

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        code = marshal.dumps(bucket.code)
        data = b"".join(
            (
                _MAGIC,
                bucket.checksum.encode("ascii"),
                b"\n",
                hashlib.sha256(code).hexdigest().encode("ascii"),
                b"\n",
                code,
            )
        )
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(temporary, self._path(bucket))
            except OSError:
                os.unlink(temporary)
                raise


def compiled_templates(directory: Path | None) -> CompiledTemplates | None:
    """The compiled templates kept in ``directory``; None (every template compiled afresh) for none."""
    return None if directory is None else CompiledTemplates(directory)

"""Exception hierarchy (layer 0).

A failed *check* is never an exception: it is a ``Check`` with status ``failed``.
Exceptions are for inputs that cannot be read at all, bad configuration, and
build or output problems. Every leaf subclasses the builtin it resembles so that
generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "BuildError",
    "ConfigError",
    "InputError",
    "OutputError",
    "ParseError",
    "SignatureError",
    "SitegenError",
]


class SitegenError(Exception):
    """Root of every error pith-sitegen raises on purpose."""


def _located(source: str, field: str, check: str, detail: str) -> str:
    parts = [p for p in (source, field, check) if p]
    return ": ".join([*parts, detail])


class ConfigError(SitegenError):
    """Bad ``site.yaml`` or keyring: the run cannot start."""

    def __init__(self, source: str, field: str, detail: str, *, check: str = "config") -> None:
        self.source = source
        self.field = field
        self.check = check
        self.detail = detail
        super().__init__(_located(source, field, check, detail))


class InputError(SitegenError, OSError):
    """A source file could not be read (missing, unreadable, a symlink leaving the tree)."""

    def __init__(self, source: str, detail: str, *, check: str = "input.read") -> None:
        self.source = source
        self.field = ""
        self.check = check
        self.detail = detail
        super().__init__(_located(source, "", check, detail))

    def __str__(self) -> str:
        return _located(self.source, "", self.check, self.detail)


class ParseError(SitegenError, ValueError):
    """Not JSON, or JSON of the wrong shape. Carries the file, the field path and the check."""

    def __init__(self, source: str, field: str, check: str, detail: str) -> None:
        self.source = source
        self.field = field
        self.check = check
        self.detail = detail
        super().__init__(_located(source, field, check, detail))


class BuildError(SitegenError):
    """Two outputs on one path, an unsafe output path, a missing template."""


class OutputError(SitegenError, OSError):
    """Staging, writing or swapping the output directory failed."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)

    def __str__(self) -> str:
        return self.detail


class SignatureError(SitegenError, ValueError):
    """An operator key or signature is malformed, or the signature does not match (the detail says which)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)

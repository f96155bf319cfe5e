"""What ``check`` and the HTTP client are told, apart from the code that does it (layer 6).

The command line builds these before it knows which command runs; keeping them here lets
``build`` and ``serve`` start without importing the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sitegen.pith.parse import Limits

__all__ = ["FetchOptions", "ReadOptions"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchOptions:
    """How one HTTP GET is bounded (``http.fetch_url``, ``http.Fetcher``)."""

    timeout: float = 20.0
    """Seconds for one whole fetch: connect, TLS, headers, body and redirects together."""
    max_bytes: int = Limits().max_bytes
    """Bytes of the body; more is refused."""
    allow_redirect_hosts: frozenset[str] = field(default_factory=frozenset)
    """Host names (lower case) redirects may lead to besides the requested URL's own host."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """How ``check`` reads a site: byte caps per file, and (over HTTP) deadline, redirects and concurrency."""

    timeout: float = 20.0
    """Seconds for one whole request (connect, headers, body and redirects together)."""
    max_state_bytes: int = Limits().max_bytes
    """Bytes of one ``state.json`` (the build's default limit)."""
    max_file_bytes: int = 256 * 1024 * 1024
    """Bytes of any other file (``SHA256SUMS`` and site-wide indexes grow with the site)."""
    allow_redirect_hosts: frozenset[str] = field(default_factory=frozenset)
    workers: int = 8
    """Downloads in flight at once over HTTP; memory held is at most about workers x cap."""

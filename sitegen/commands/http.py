"""One HTTP(S) GET with a deadline for the whole request, a byte cap and a redirect policy (layer 6).

``pull`` and ``check`` both fetch through ``fetch_url``. What it guarantees, whatever
the server does:

- **One deadline** covers connecting, the TLS handshake, sending, the status line and
  headers, the body and every redirect hop together. Socket timeouts bound each
  operation only (a server trickling one byte a second never trips them), so a
  watchdog timer shuts the connection's socket down when the deadline passes and a
  blocked read returns at once. Name resolution is the system resolver's and is not
  bounded by it.
- **A byte cap**: a ``Content-Length`` above it is refused before the body is read, and
  a body that grows past it is refused at the chunk that crosses it.
- **Redirects** are followed only to the same scheme, host and port, or from http to
  https on the same host (to its default port or the same port), or to a host the
  operator allows; never to another scheme and never from https to http. A refusal
  names both URLs.

Built on ``http.client`` rather than ``urllib`` (whose redirects cross hosts and whose
sockets are out of reach) or httpx (whose timeouts are per operation too, and whose
synchronous API gives no handle to cut a trickling header phase short). Proxy
variables (``HTTPS_PROXY``) are not used.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from sitegen import __version__
from sitegen.pith.parse import Limits

__all__ = ["FetchError", "FetchOptions", "fetch_url", "redirect_problem"]

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchError(Exception):
    """One download failed; ``transient`` failures are worth retrying; ``status`` is the HTTP status, if any."""

    def __init__(self, url: str, detail: str, *, transient: bool, status: int | None = None) -> None:
        self.url = url
        self.detail = detail
        self.transient = transient
        self.status = status
        super().__init__(f"{url}: {detail}")


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchOptions:
    timeout: float = 20.0
    """Seconds for one whole fetch: connect, TLS, headers, body and redirects together."""
    max_bytes: int = Limits().max_bytes
    """Bytes of the body; more is refused."""
    allow_redirect_hosts: frozenset[str] = field(default_factory=frozenset)
    """Host names (lower case) redirects may lead to besides the requested URL's own host."""


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, host name (lower case) and port of an http(s) URL.

    Raises:
        ValueError: not http(s), no host, or a port that is not a number.
    """
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError("not an http or https URL")
    if not parts.hostname:
        raise ValueError("no host")
    return parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]


def redirect_problem(source: str, target: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why a redirect from ``source`` to ``target`` may not be followed, or None when it may.

    >>> redirect_problem("http://a.example/x", "https://a.example/x", frozenset()) is None
    True
    >>> redirect_problem("https://a.example/x", "https://b.example/x", frozenset())
    'another host (allow it with --allow-redirect-host b.example)'
    >>> redirect_problem("https://a.example/x", "ftp://a.example/x", frozenset())
    'not an http or https URL'
    """
    try:
        scheme, host, port = _origin(source)
        to_scheme, to_host, to_port = _origin(target)
    except ValueError as exc:
        return str(exc)
    if scheme == "https" and to_scheme == "http":
        return "from https to http"
    if to_host in allowed_hosts:
        return None
    if to_host != host:
        return f"another host (allow it with --allow-redirect-host {to_host})"
    if to_scheme == scheme and to_port == port:
        return None
    if to_scheme == "https" and to_port in (port, _DEFAULT_PORTS["https"]):
        return None
    return f"another port ({port} to {to_port})"


class _Watchdog:
    """Shuts the watched socket down when the deadline passes, so a blocked read returns at once."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._expired = False
        self._finished = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        """Watch ``sock`` from now on (shut down at once if the deadline has already passed)."""
        with self._lock:
            self._socket = sock
            if self._expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._expired = True
            if self._socket is not None:
                _shut(self._socket)

    def finish(self) -> bool:
        """Stop watching; whether the deadline passed first (then whatever was read is cut short)."""
        self._timer.cancel()
        with self._lock:
            self._finished = True
            return self._expired


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected (yet, or any more), or detached into a TLS socket
        sock.shutdown(socket.SHUT_RDWR)


class _Connection(http.client.HTTPConnection):
    """A plain connection whose socket the watchdog can shut down."""

    def __init__(self, host: str, port: int, *, timeout: float, watchdog: _Watchdog) -> None:
        super().__init__(host, port, timeout=timeout)
        self.watchdog = watchdog

    def connect(self) -> None:
        super().connect()
        self.watchdog.watch(self.sock)


class _TLSConnection(_Connection):
    """A TLS connection (certificate and host name verified) watched from before the handshake."""

    def __init__(self, host: str, port: int, *, timeout: float, watchdog: _Watchdog) -> None:
        super().__init__(host, port, timeout=timeout, watchdog=watchdog)
        self.context = ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        tls = self.context.wrap_socket(self.sock, server_hostname=self.host, do_handshake_on_connect=False)
        self.sock = tls
        self.watchdog.watch(tls)
        tls.do_handshake()


def fetch_url(url: str, options: FetchOptions) -> bytes:
    """The body of a GET of ``url``, within the deadline, the byte cap and the redirect policy.

    Raises:
        FetchError: HTTP error, refused redirect, network failure, deadline passed,
            truncated or oversized body.
    """
    try:
        _origin(url)
    except ValueError as exc:
        raise FetchError(url, str(exc), transient=False) from exc
    watchdog = _Watchdog(options.timeout)
    deadline = time.monotonic() + options.timeout
    try:
        body = _follow(url, options, watchdog, deadline)
    except FetchError as exc:
        if watchdog.finish():
            raise _timed_out(url, options) from exc
        raise
    except (OSError, http.client.HTTPException) as exc:
        if watchdog.finish() or isinstance(exc, TimeoutError):
            raise _timed_out(url, options) from exc
        raise _network_error(url, exc) from exc
    if watchdog.finish():
        raise _timed_out(url, options)
    return body


def _timed_out(url: str, options: FetchOptions) -> FetchError:
    return FetchError(url, f"timed out: no complete response within {options.timeout:g} s", transient=True)


def _network_error(url: str, exc: Exception) -> FetchError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchError(url, f"TLS certificate refused: {exc.verify_message}", transient=False)
    if isinstance(exc, http.client.IncompleteRead):
        return FetchError(url, f"truncated: got {len(exc.partial)} bytes, more were promised", transient=True)
    if isinstance(exc, socket.gaierror | ConnectionRefusedError):
        return FetchError(url, f"cannot connect: {exc}", transient=True)
    return FetchError(url, f"network error: {exc}", transient=True)


def _follow(url: str, options: FetchOptions, watchdog: _Watchdog, deadline: float) -> bytes:
    """Request ``url``, following allowed redirects, and read the body of the final 200 response."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port = _origin(current)
        parts = urlsplit(current)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        kind = _TLSConnection if scheme == "https" else _Connection
        remaining = max(deadline - time.monotonic(), 0.001)
        connection = kind(host, port, timeout=remaining, watchdog=watchdog)
        try:
            connection.request(
                "GET",
                target,
                headers={"User-Agent": f"pith-sitegen/{__version__}", "Accept-Encoding": "identity"},
            )
            response = connection.getresponse()
            where = "" if current == url else f"(redirected to {current}) "
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(
                        url, f"{where}HTTP {response.status} without a Location", transient=False
                    )
                following = urljoin(current, location.strip())
                problem = redirect_problem(current, following, options.allow_redirect_hosts)
                if problem is not None:
                    raise FetchError(
                        url, f"redirect refused: {current} -> {following}: {problem}", transient=False
                    )
                current = following
                continue
            if response.status != 200:
                transient = response.status >= 500 or response.status == 429
                raise FetchError(
                    url,
                    f"{where}HTTP {response.status} {response.reason}",
                    transient=transient,
                    status=response.status,
                )
            return _read_body(url, response, options.max_bytes)
        finally:
            connection.close()
    raise FetchError(url, f"more than {MAX_REDIRECTS} redirects", transient=False)


def _read_body(url: str, response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    length_text = response.getheader("Content-Length")
    length = int(length_text) if length_text is not None and length_text.isdigit() else None
    if length is not None and length > max_bytes:
        raise FetchError(url, f"too large: {length} bytes, the limit is {max_bytes}", transient=False)
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, f"too large: over the limit of {max_bytes} bytes", transient=False)
        chunks.append(chunk)
    if length is not None and size < length:
        raise FetchError(url, f"truncated: got {size} of the {length} bytes promised", transient=True)
    return b"".join(chunks)

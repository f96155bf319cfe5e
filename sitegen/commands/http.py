"""HTTP(S) GETs with a deadline for the whole request, a byte cap and a redirect policy (layer 6).

``pull`` fetches through one ``Fetcher`` (one ``httpx.Client``: a bounded pool of
kept-alive connections shared by its worker threads, conditional requests);
``check`` through ``fetch_url`` (one fetch, one connection). What every fetch
guarantees, whatever the server does:

- **One deadline** covers connecting, the TLS handshake, sending, the status line and
  headers, the body and every redirect hop together. httpx's timeouts bound each
  socket operation only (a server trickling one byte every half second never trips
  them), so the client runs on a network backend of our own (``_DeadlineBackend``)
  that clips every connect, read and write to the time left of the request's
  deadline, and shuts a TLS handshake's socket down when the deadline passes during
  it. Name resolution is the system resolver's and is not bounded by it.
- **A byte cap**: a ``Content-Length`` above it is refused before the body is read, and
  a streamed body that grows past it is refused at the chunk that crosses it.
- **Redirects** are not followed by httpx; each hop is checked here: followed only to
  the same scheme, host and port, or from http to https on the same host (to its
  default port or the same port), or to a host the operator allows; never to another
  scheme and never from https to http. A refusal names both URLs.
- **Conditional requests**: given the validators (``ETag``, ``Last-Modified``) of an
  earlier response, the request carries ``If-None-Match`` / ``If-Modified-Since``; a
  ``304`` is then reported as not modified, with no body. A 304 to a request without
  validators is an error.

Proxy variables (``HTTPS_PROXY``) and ``.netrc`` are not used (``trust_env=False``, and
the transport has no proxy). Certificates are checked against the system's store.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from sitegen import __version__
from sitegen.commands.options import FetchOptions

__all__ = ["FetchError", "FetchOptions", "Fetched", "Fetcher", "Validators", "fetch_url", "redirect_problem"]

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_KEEPALIVE_SECONDS = 30.0
_SHORTEST_WAIT = 0.001
"""Seconds a socket operation is given once the deadline has passed, so it times out at once."""
_TRANSPORT_ERRORS = (
    httpx.TransportError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    OSError,
)
_DEADLINE: contextvars.ContextVar[float] = contextvars.ContextVar("sitegen_fetch_deadline")
"""The monotonic time the current thread's fetch must be done by (set by ``Fetcher.get``)."""


class FetchError(Exception):
    """One download failed; ``transient`` failures are worth retrying; ``status`` is the HTTP status, if any."""

    def __init__(self, url: str, detail: str, *, transient: bool, status: int | None = None) -> None:
        self.url = url
        self.detail = detail
        self.transient = transient
        self.status = status
        super().__init__(f"{url}: {detail}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Validators:
    """What a server said identifies the version it served: its ``ETag`` and ``Last-Modified``, as sent."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return self.etag is not None or self.last_modified is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """A finished fetch: ``body`` is None when the server answered 304 (not modified)."""

    body: bytes | None
    validators: Validators
    """The final response's validators (empty when it sent none)."""
    received: int
    """Body bytes transferred (0 for a 304)."""


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


def _time_left(timeout: float | None) -> float:
    """``timeout`` clipped to what is left of the current fetch's deadline (a moment, once it passed)."""
    left = max(_DEADLINE.get() - time.monotonic(), _SHORTEST_WAIT)
    return left if timeout is None else min(timeout, left)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected any more
        sock.shutdown(socket.SHUT_RDWR)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation ends by the deadline of the fetch using it at the time."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        """The handshake reads many times, each bounded alone: a timer shuts the socket at the deadline."""
        sock = self._inner.get_extra_info("socket")
        timer = threading.Timer(_time_left(None), _shut, (sock,))
        timer.daemon = True
        timer.start()
        try:
            return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout)))
        finally:
            timer.cancel()

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """The standard synchronous sockets, connected within the deadline and wrapped in ``_DeadlineStream``."""

    def __init__(self) -> None:
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._sockets.connect_tcp(host, port, _time_left(timeout), local_address, socket_options)
        return _DeadlineStream(stream)


class _Transport(httpx.BaseTransport):
    """httpx's request and response over an httpcore pool on ``_DeadlineBackend``.

    httpx's own ``HTTPTransport`` takes no network backend, so this is its
    proxy-less path with one: a pool of at most ``connections`` kept-alive connections.
    """

    def __init__(self, connections: int) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=_KEEPALIVE_SECONDS,
            network_backend=_DeadlineBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        response = self._pool.handle_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _Body(httpx.SyncByteStream):
    def __init__(self, parts: Iterable[bytes]) -> None:
        self._parts = parts

    def __iter__(self) -> Iterator[bytes]:
        yield from self._parts

    def close(self) -> None:
        close = getattr(self._parts, "close", None)
        if close is not None:
            close()


class Fetcher:
    """GETs over one ``httpx.Client``: at most ``connections`` connections, kept alive between requests.

    ``get`` may be called from several threads at once (the pool is shared and locked by
    httpcore; each thread's deadline is its own). Use it as a context manager.
    """

    def __init__(self, options: FetchOptions, *, connections: int = 1) -> None:
        self.options = options
        self._client = httpx.Client(
            transport=_Transport(max(1, connections)),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(options.timeout),
            headers={"User-Agent": f"pith-sitegen/{__version__}", "Accept-Encoding": "identity"},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, validators: Validators | None = None) -> Fetched:
        """GET ``url`` within the deadline, the byte cap and the redirect policy, conditionally when
        ``validators`` are given.

        Raises:
            FetchError: HTTP error, refused redirect, network failure, deadline passed,
                truncated or oversized body.
        """
        try:
            _origin(url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise FetchError(url, str(exc), transient=False) from exc
        deadline = time.monotonic() + self.options.timeout
        token = _DEADLINE.set(deadline)
        try:
            return self._follow(url, validators or Validators())
        except _TRANSPORT_ERRORS as exc:
            if time.monotonic() >= deadline or isinstance(exc, httpx.TimeoutException | TimeoutError):
                raise self._timed_out(url) from exc
            if isinstance(exc, httpcore.TimeoutException):
                raise self._timed_out(url) from exc
            raise _network_error(url, exc) from exc
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"not a usable URL: {exc}", transient=False) from exc
        finally:
            _DEADLINE.reset(token)

    def _timed_out(self, url: str) -> FetchError:
        return FetchError(
            url, f"timed out: no complete response within {self.options.timeout:g} s", transient=True
        )

    def _follow(self, url: str, validators: Validators) -> Fetched:
        """Request ``url``, following allowed redirects, and read the body of the final 200 response."""
        headers = {}
        if validators.etag is not None:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified is not None:
            headers["If-Modified-Since"] = validators.last_modified
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            request = self._client.build_request("GET", current, headers=headers)
            response = self._client.send(request, stream=True)
            try:
                where = "" if current == url else f"(redirected to {current}) "
                if response.status_code in _REDIRECTS:
                    current = self._redirect_target(url, current, response, where)
                    continue
                if response.status_code == 304 and validators:
                    return Fetched(body=None, validators=_validators(response), received=0)
                if response.status_code != 200:
                    status = response.status_code
                    raise FetchError(
                        url,
                        f"{where}HTTP {status} {response.reason_phrase}",
                        transient=status >= 500 or status == 429,
                        status=status,
                    )
                data = _read_body(url, response, self.options.max_bytes)
                return Fetched(body=data, validators=_validators(response), received=len(data))
            finally:
                response.close()
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects", transient=False)

    def _redirect_target(self, url: str, current: str, response: httpx.Response, where: str) -> str:
        location: str | None = response.headers.get("Location")
        if not location:
            raise FetchError(url, f"{where}HTTP {response.status_code} without a Location", transient=False)
        following = urljoin(current, location.strip())
        problem = redirect_problem(current, following, self.options.allow_redirect_hosts)
        if problem is not None:
            raise FetchError(url, f"redirect refused: {current} -> {following}: {problem}", transient=False)
        return following


def fetch_url(url: str, options: FetchOptions) -> bytes:
    """The body of one GET of ``url``, within the deadline, the byte cap and the redirect policy.

    Raises:
        FetchError: as ``Fetcher.get``.
    """
    with Fetcher(options) as fetcher:
        body = fetcher.get(url).body
    assert body is not None  # no validators were sent, so a 304 was an error
    return body


def _validators(response: httpx.Response) -> Validators:
    return Validators(etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"))


def _caused_by(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """``exc`` or the first exception of ``kind`` it was raised from."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _network_error(url: str, exc: BaseException) -> FetchError:
    refused = _caused_by(exc, ssl.SSLCertVerificationError)
    if isinstance(refused, ssl.SSLCertVerificationError):
        return FetchError(url, f"TLS certificate refused: {refused.verify_message}", transient=False)
    if isinstance(exc, httpcore.ConnectError | httpx.ConnectError | socket.gaierror | ConnectionRefusedError):
        return FetchError(url, f"cannot connect: {exc}", transient=True)
    return FetchError(url, f"network error: {exc}", transient=True)


def _read_body(url: str, response: httpx.Response, max_bytes: int) -> bytes:
    length_text = response.headers.get("Content-Length")
    length = int(length_text) if length_text is not None and length_text.isdigit() else None
    if length is not None and length > max_bytes:
        raise FetchError(url, f"too large: {length} bytes, the limit is {max_bytes}", transient=False)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(url, f"too large: over the limit of {max_bytes} bytes", transient=False)
            chunks.append(chunk)
    except (httpcore.RemoteProtocolError, httpx.RemoteProtocolError) as exc:
        if length is None or time.monotonic() >= _DEADLINE.get():
            raise
        raise FetchError(
            url, f"truncated: got {size} of the {length} bytes promised", transient=True
        ) from exc
    if length is not None and size < length:
        raise FetchError(url, f"truncated: got {size} of the {length} bytes promised", transient=True)
    return b"".join(chunks)

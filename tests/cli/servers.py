"""Misbehaving HTTP servers on loopback for the network tests: real sockets, handlers in threads."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.waiting import wait_until

Respond = Callable[[BaseHTTPRequestHandler], None]
"""Writes one whole response to the handler's socket."""


@dataclass
class Server:
    """A running server: its base URL, the responses by path, and what it has seen."""

    url: str = ""
    port: int = 0
    routes: dict[str, Respond] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    requested: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    keep_alive: bool = False
    """Whether connections stay open after a response (else every response closes its connection)."""
    connections: int = 0
    bodies: int = 0
    """Responses with a body sent by ``conditional``."""
    conditional_requests: int = 0
    """Requests that carried ``If-None-Match`` (seen by ``conditional``)."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def setup(self) -> None:
            super().setup()
            with server.lock:
                server.connections += 1

        def do_GET(self) -> None:
            with server.lock:
                server.requested.append(self.path)
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                respond = server.routes.get(self.path)
                if respond is None:
                    self.send_error(404)
                else:
                    with contextlib.suppress(OSError):  # the client hung up: that is what some tests want
                        respond(self)
            finally:
                with server.lock:
                    server.in_flight -= 1
                self.close_connection = self.close_connection or not server.keep_alive

    return Handler


@contextlib.contextmanager
def serve(host: str = "127.0.0.1") -> Iterator[Server]:
    """A ThreadingHTTPServer on ``host``, a free port, in a thread; its handlers stop when the test ends."""
    server = Server()
    httpd = ThreadingHTTPServer((host, 0), _handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    server.url = f"http://{host}:{server.port}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.stop.set()
        httpd.shutdown()
        httpd.server_close()


def body(data: bytes, *, content_length: bool = True) -> Respond:
    """200 with ``data``; without ``Content-Length`` the body ends when the connection closes."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        if content_length:
            handler.send_header("Content-Length", str(len(data)))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(data)

    return respond


def conditional(server: Server, data: bytes, etag: str) -> Respond:
    """200 with ``data``, its ``ETag`` and a ``Last-Modified``; 304 (no body) when ``If-None-Match`` matches."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        asked = handler.headers.get("If-None-Match")
        with server.lock:
            server.conditional_requests += asked is not None
            server.bodies += asked != etag
        if asked == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", "Wed, 01 Jul 2026 15:40:12 GMT")
        handler.end_headers()
        handler.wfile.write(data)

    return respond


def held(server: Server, respond: Respond, *, until: int, timeout: float = 10) -> Respond:
    """``respond`` once ``until`` requests are in flight at once (or after ``timeout`` seconds)."""

    def hold(handler: BaseHTTPRequestHandler) -> None:
        wait_until(lambda: server.in_flight >= until or server.stop.is_set(), timeout)
        respond(handler)

    return hold


def redirect(location: str, status: int = 302) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return respond


def trickle(stop: threading.Event, *, every: float = 0.5, headers: bool = False) -> Respond:
    """One byte every ``every`` seconds, of the body (or of the headers), until the client or test ends."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        if headers:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
            line = b"X-Slow: " + b"a" * 60_000
        else:
            handler.send_response(200)
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            line = b"x" * 100_000
        handler.wfile.flush()
        for byte in line:
            if stop.wait(every):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()

    return respond

"""``python -m sitegen serve``: build, serve on 127.0.0.1, rebuild on change, reload the page (layer 6).

A thread watches the content directory and the templates with ``watchfiles`` (inotify
on Linux, the platform's own notification elsewhere) and runs an incremental build
when they change. The server adds one same-origin script, ``/__sitegen__/reload.js``,
to the HTML it sends; the script polls ``/__sitegen__/generation`` and reloads the page
when a build finishes. Both exist only in this server's responses, never in the built
site, and a same-origin script and ``fetch`` are what the site's CSP (``script-src
'self'; connect-src 'self'``) already allows.

The server answers only requests whose ``Host`` names it (``127.0.0.1:PORT`` or
``localhost:PORT``): a page on another site that points its own name at 127.0.0.1 (DNS
rebinding) gets 421 and nothing of the site. SIGINT and SIGTERM stop it cleanly
(``Stop``, raised in the main thread by ``stop_on_signals``).
"""

from __future__ import annotations

import contextlib
import http.server
import signal
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import watchfiles

from sitegen.build.pipeline import BuildResult, build_site
from sitegen.errors import SitegenError
from sitegen.render.templates import TEMPLATES_DIR
from sitegen.site.config import Publish

__all__ = ["SiteServer", "Stop", "WatchError", "stop_on_signals"]

_PREFIX = "/__sitegen__/"
_RELOAD_JS = b"""// Added by `python -m sitegen serve` only: reloads the page after each rebuild.
(function () {
  var seen = null;
  function poll() {
    fetch("/__sitegen__/generation", {cache: "no-store"})
      .then(function (r) { return r.text(); })
      .then(function (g) { if (seen !== null && g !== seen) { location.reload(); } seen = g; })
      .catch(function () {})
      .then(function () { setTimeout(poll, 700); });
  }
  poll();
})();
"""
_TAG = b'<script src="/__sitegen__/reload.js"></script>'
_LOOPBACK_NAMES = ("127.0.0.1", "localhost")
_WATCH_ANSWER_MS = 100
"""The watcher answers at least this often, changes or not: its first answer says the watches are in place."""
_WATCH_START_SECONDS = 60.0
_WATCHER_JOIN_SECONDS = 5.0
"""On stop, how long to let the watcher finish; a rebuild still running then is abandoned, which
is safe: the published site is replaced only whole, and the next build removes its staging tree."""


class Stop(BaseException):
    """SIGINT or SIGTERM arrived: ``serve`` stops, closing its server and watcher.

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception`` on the way
    (a build's clean-up, say) takes it for an error of its own.
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class WatchError(SitegenError):
    """The content directory or the templates cannot be watched for changes."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Inside, SIGINT and SIGTERM raise ``Stop`` in the main thread; the old handlers come back after.

    A signal that was ignored when the process started stays ignored (as Python keeps
    SIGINT ignored for a shell's background job), so ``serve`` honours its parent's choice.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stop(signal.Signals(signum).name)

    previous = {
        sig: signal.signal(sig, stop)
        for sig in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _with_reload(html: bytes) -> bytes:
    at = html.rfind(b"</body>")
    return html[:at] + _TAG + html[at:] if at >= 0 else html + _TAG


class _Handler(http.server.SimpleHTTPRequestHandler):
    server_state: SiteServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def parse_request(self) -> bool:
        """Any method: a request whose ``Host`` does not name this server gets 421 and nothing else."""
        if not super().parse_request():
            return False
        if (self.headers.get("Host") or "").lower() in self.server_state.hosts:
            return True
        self.close_connection = True
        names = " or ".join(sorted(self.server_state.hosts))
        body = f"421 Misdirected Request: this server answers only to Host {names}\n".encode()
        self._send(body, "text/plain; charset=utf-8", status=421)
        return False

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == _PREFIX + "reload.js":
            self._send(_RELOAD_JS, "text/javascript; charset=utf-8")
            return
        if path == _PREFIX + "generation":
            self._send(str(self.server_state.generation).encode(), "text/plain; charset=utf-8")
            return
        local = Path(self.translate_path(path))
        if local.is_dir() and path.endswith("/"):
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file():
            self._send(_with_reload(local.read_bytes()), "text/html; charset=utf-8")
            return
        not_found = Path(self.directory) / "404.html"
        if not local.exists() and not_found.is_file():  # as static hosts do with the site's 404.html
            self._send(_with_reload(not_found.read_bytes()), "text/html; charset=utf-8", status=404)
            return
        if self.command == "HEAD":
            super().do_HEAD()
        else:
            super().do_GET()


class SiteServer:
    """The build, the HTTP server and the watcher thread of one ``serve`` run.

    Use it as a context manager: leaving it stops the watcher and closes the server.
    """

    def __init__(
        self, content: Path, out: Path, *, port: int = 8000, report: Callable[[str], None] = print
    ) -> None:
        self.content = content
        self.out = out.absolute()
        self.report = report
        self.generation = 0
        self._stop = threading.Event()
        self._building = threading.Lock()  # the first build and the watcher's rebuilds, one at a time
        self._watching = threading.Event()
        self._watch_error: OSError | None = None
        self._watcher: threading.Thread | None = None
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), partial(handler, directory=str(self.out))
        )
        self.httpd.daemon_threads = True
        # the Host values answered; a client leaves the port out only when it is 80
        bound = self.httpd.server_address[1]
        named = {f"{name}:{bound}" for name in _LOOPBACK_NAMES}
        self.hosts = frozenset(named | set(_LOOPBACK_NAMES)) if bound == 80 else frozenset(named)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self.httpd.server_close()
        if self._watcher is not None:
            self._watcher.join(timeout=_WATCHER_JOIN_SECONDS)

    def build(self) -> BuildResult | None:
        """One incremental build; an error is reported and the previous site keeps being served.

        A change seen during a build waits for it and then builds again (never two at once,
        which the output's lock would refuse). It patches the live site (see ``Publish.PATCH``):
        the one reader is the author, whose page reloads only once the build has ended.
        """
        with self._building:
            try:
                result = build_site(self.content, self.out, publish=Publish.PATCH)
            except SitegenError as exc:
                self.report(f"build failed: {exc}; still serving the previous site")
                return None
            counts = result.counts()
            self.generation += 1
        self.report(
            f"built: {counts['verified']} verified, {counts['failed']} failed, {counts['unverifiable']} "
            f"unverifiable, {counts['rejected']} rejected; {result.rendered} inputs rendered, "
            f"{result.reused} reused ({result.seconds:.1f} s)"
        )
        return result

    def start_watching(self) -> None:
        """Watch the content and the templates; returns once the watches are in place.

        Call it before the first build, so that a change made during that build is seen too.

        Raises:
            WatchError: a directory cannot be watched (missing, or the system's watch limit).
        """
        for root in (self.content, TEMPLATES_DIR):
            if not root.is_dir():
                raise WatchError(f"{root}: cannot watch for changes: not a directory")
        self._watcher = threading.Thread(target=self._watch, name="sitegen-watch", daemon=True)
        self._watcher.start()
        if not self._watching.wait(timeout=_WATCH_START_SECONDS):
            raise WatchError(f"{self.content}: the watcher did not start within {_WATCH_START_SECONDS:.0f} s")
        if self._watch_error is not None:
            reason = self._watch_error.strerror or str(self._watch_error)
            raise WatchError(f"{self.content}, {TEMPLATES_DIR}: cannot watch for changes: {reason}")

    def _watch(self) -> None:
        try:
            for changes in watchfiles.watch(
                self.content,
                TEMPLATES_DIR,
                stop_event=self._stop,
                rust_timeout=_WATCH_ANSWER_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                self._watching.set()
                if changes:
                    self.build()
        except OSError as exc:
            self._watch_error = exc
            self._watching.set()

    def run(self) -> None:
        """Serve until ``Stop`` (see ``stop_on_signals``) or another exception ends it."""
        self.httpd.serve_forever(poll_interval=0.2)

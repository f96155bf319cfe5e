"""``python -m sitegen serve``: build, serve on 127.0.0.1, rebuild on change, reload the page (layer 6).

A thread polls the modification times and sizes of the content directory and the
templates (no extra dependency) and runs an incremental build when they change. The
server adds one same-origin script, ``/__sitegen__/reload.js``, to the HTML it sends;
the script polls ``/__sitegen__/generation`` and reloads the page when a build
finishes. Both exist only in this server's responses, never in the built site, and
a same-origin script and ``fetch`` are what the site's CSP (``script-src 'self';
connect-src 'self'``) already allows.
"""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sitegen.build.pipeline import BuildResult, build_site
from sitegen.errors import SitegenError
from sitegen.render.templates import TEMPLATES_DIR

__all__ = ["SiteServer", "tree_snapshot"]

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


def tree_snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file under ``roots``: a rebuild is due when it changes."""
    found: dict[str, tuple[int, int]] = {}
    for root in roots:
        for directory, _, names in os.walk(root):
            for name in names:
                path = os.path.join(directory, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                found[path] = (st.st_mtime_ns, st.st_size)
    return found


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
    """The build, the HTTP server and the watcher thread of one ``serve`` run."""

    def __init__(
        self,
        content: Path,
        out: Path,
        *,
        port: int = 8000,
        interval: float = 0.5,
        report: Callable[[str], None] = print,
    ) -> None:
        self.content = content
        self.out = out.absolute()
        self.interval = interval
        self.report = report
        self.generation = 0
        self._stop = threading.Event()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), partial(handler, directory=str(self.out))
        )
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def build(self) -> BuildResult | None:
        """One incremental build; an error is reported and the previous site keeps being served."""
        try:
            result = build_site(self.content, self.out)
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

    def _watch(self) -> None:
        watched = (self.content, TEMPLATES_DIR)
        before = tree_snapshot(*watched)
        while not self._stop.wait(self.interval):
            now = tree_snapshot(*watched)
            if now != before:
                before = now
                self.build()

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C)."""
        watcher = threading.Thread(target=self._watch, name="sitegen-watch", daemon=True)
        watcher.start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self._stop.set()
            self.httpd.server_close()
            watcher.join(timeout=5)

"""The engine over real HTTP: a stdlib threading server around EngineApp.

In tests: ``with EngineServer(EngineConfig(render_delay=0.2)).start() as server:``
binds 127.0.0.1 on a free port and ``server.url`` is its base URL.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .app import EngineApp, EngineConfig
from .web import Request

__all__ = ["EngineConfig", "EngineServer"]

MAX_BODY = 60 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server_version = "riffweb-engine/1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for
    # the client's delayed ACK (~40 ms per call), which makes polling crawl.
    disable_nagle_algorithm = True
    app: EngineApp  # set on the subclass made per server
    fallback_base: str

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host")
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}" if host else self.fallback_base,
        )
        response = self.app.handle(request)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        pass  # tests and demos poll a lot; per-request lines would drown real output


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A poller that hangs up mid-answer is normal; anything else is a bug to show.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class EngineServer:
    def __init__(self, config: EngineConfig | None = None):
        self.config = config or EngineConfig()
        self.app: EngineApp | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""  # base URL without a trailing slash, set by start()

    def start(self) -> "EngineServer":
        self.app = EngineApp(self.config)
        handler = type("Handler", (_Handler,), {"app": self.app, "fallback_base": ""})
        self._httpd = _HTTPServer((self.config.host, self.config.port), handler)
        host, port = self._httpd.server_address[:2]
        self.url = handler.fallback_base = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="engine-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None
        if self.app is not None:
            self.app.close()
            self.app = None

    def stats(self) -> dict:
        return self.app.stats()

    def __enter__(self) -> "EngineServer":
        return self if self._httpd else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""A fault-injecting HTTP server for tests (standard library only, 127.0.0.x, bounded).

Each path of a :class:`FaultServer` answers with one :class:`Route`: a plain response (any status,
headers and body), a redirect, a body dripped a few bytes at a time, a connection reset in the
middle of the body, or a ``Content-Length`` larger than the body sent. The server counts the
requests of every path, stops answering after ``max_requests`` and shuts itself down after
``lifetime`` seconds, so a test that goes wrong cannot leave it running or hammer it forever.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FaultServer", "Route", "serve_faults"]


@dataclass(frozen=True)
class Route:
    """How one path answers. ``fault``: None (a plain response), ``"drip"`` (``drip`` bytes every
    ``interval`` seconds), ``"reset"`` (half the body, then a TCP reset), ``"short"`` (a
    Content-Length ``extra`` bytes larger than the body, then the connection closed)."""

    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    fault: str | None = None
    drip: int = 1
    interval: float = 1.0
    extra: int = 1000
    # Statuses to answer first, one per request (e.g. (503, 429)); then the route itself.
    first: tuple[tuple[int, Mapping[str, str]], ...] = ()

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Route:
        return cls(status=status, headers={"Location": location, "Content-Length": "0"})


class FaultServer(ThreadingHTTPServer):
    """Serves ``routes`` (path -> Route, or a callable of the server returning one) on ``host``."""

    daemon_threads = True

    def __init__(
        self,
        routes: Mapping[str, Route | Callable[[FaultServer], Route]],
        *,
        host: str = "127.0.0.1",
        max_requests: int = 2000,
        lifetime: float = 300.0,
    ) -> None:
        super().__init__((host, 0), _Handler)
        self.routes = dict(routes)
        self.max_requests = max_requests
        self.lifetime = lifetime
        self.hits: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {}  # path -> monotonic times of its requests
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> int:
        with self._lock:
            return sum(self.hits.values())

    def hit(self, path: str) -> int:
        """Count a request for ``path``; return how many it had before."""
        with self._lock:
            before = self.hits[path]
            self.hits[path] += 1
            self.times.setdefault(path, []).append(time.monotonic())
            return before

    def start(self) -> FaultServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fault-server", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self.shutdown)
        self._timer.daemon = True
        self._timer.start()
        return self

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is what some faults are about: not worth a traceback."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        before = self.server.hit(path)
        if self.server.requests > self.server.max_requests:
            self._plain(503, b"request budget spent", {"Content-Type": "text/plain"})
            return
        route = self.server.routes.get(path)
        if callable(route):
            route = route(self.server)
        if route is None:
            self._plain(404, b"not found", {"Content-Type": "text/plain"})
            return
        if before < len(route.first):
            status, headers = route.first[before]
            self._plain(status, b"try again later", {"Content-Type": "text/plain", **headers})
            return
        if route.fault is None:
            self._plain(route.status, route.body, route.headers)
        elif route.fault == "drip":
            self._drip(route)
        elif route.fault == "reset":
            self._reset(route)
        elif route.fault == "short":
            self._short(route)
        else:
            raise ValueError(f"unknown fault {route.fault!r}")

    def _head(self, status: int, headers: Mapping[str, str], length: int | None) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is not None and not any(k.lower() == "content-length" for k in headers):
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _plain(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        if b"{{BASE}}" in body:  # as crawler.siteserver does for generated pages
            body = body.replace(b"{{BASE}}", self.server.url.encode())
        self._head(status, headers, len(body))
        self.wfile.write(body)

    def _drip(self, route: Route) -> None:
        self._head(route.status, route.headers, len(route.body))
        try:
            for i in range(0, len(route.body), route.drip):
                self.wfile.write(route.body[i : i + route.drip])
                self.wfile.flush()
                time.sleep(route.interval)
        except OSError:  # the client gave up, as it should
            self.close_connection = True

    def _reset(self, route: Route) -> None:
        self._head(route.status, route.headers, len(route.body))
        self.wfile.write(route.body[: len(route.body) // 2])
        self.wfile.flush()
        # SO_LINGER 0: close() sends a RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _short(self, route: Route) -> None:
        headers = {**route.headers, "Content-Length": str(len(route.body) + route.extra)}
        self._head(route.status, headers, None)
        self.wfile.write(route.body)
        self.wfile.flush()
        self.close_connection = True


@contextmanager
def serve_faults(
    routes: Mapping[str, Route | Callable[[FaultServer], Route]], **kwargs: object
) -> Iterator[FaultServer]:
    """A started :class:`FaultServer` for the ``with`` block."""
    server = FaultServer(routes, **kwargs).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()

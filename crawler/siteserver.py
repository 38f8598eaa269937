"""A small local HTTP server for a directory of static pages (the bundled sample site, test fixtures).

It serves files on 127.0.0.1 (a free port by default) the way a news site would:

- text files (``.html``, ``.xml``, ``.txt``, ``.rss``, ``.atom``, ``.json``) have the literal token
  ``{{BASE}}`` replaced by the server's base URL, so sitemaps, feeds and links can carry absolute URLs
  although the port is random; gzip files (``.gz``) are decompressed, substituted and recompressed, and
  served raw as ``application/gzip`` (no ``Content-Encoding``), like a gzipped sitemap;
- a ``Content-Type`` by extension, an ``ETag`` (hash of the bytes served) and ``Last-Modified`` (the
  file's mtime), and conditional requests (``If-None-Match``, ``If-Modified-Since``) answered ``304``;
- a file without a suffix (``/city/park-plan``) is sniffed: PDF, PNG, gzip by their magic bytes,
  anything else is HTML (and gets the substitution);
- ``/`` and ``/section/`` map to the ``index.html`` inside; ``/section`` redirects (301) to
  ``/section/``; anything else missing is ``404``.

In a program or test::

    with serve_directory(SITE_DIR) as server:
        fetch(server.url + "/robots.txt")
        server.hits[("GET", "/robots.txt", 200)]  # -> 1

From a shell (the base URL is the first line printed, like Scrapy's test mockserver)::

    python -m crawler.siteserver DIR [--host 127.0.0.1] [--port 0]

Requests are logged through :mod:`logging` at DEBUG, never to stderr directly.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import logging
import mimetypes
import posixpath
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["BASE_TOKEN", "SiteServer", "main", "serve_directory"]

logger = logging.getLogger(__name__)

BASE_TOKEN = b"{{BASE}}"

_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".gz": "application/gzip",
}
# Feeds named feed.xml / atom.xml are XML files; their type is told by name, as real sites do.
_NAMED_TYPES = {
    "feed.xml": "application/rss+xml",
    "rss.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
}
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\x1f\x8b", "application/gzip"),
)
_TEXT_SUFFIXES = {".html", ".htm", ".xml", ".rss", ".atom", ".txt", ".json"}


class SiteServer(ThreadingHTTPServer):
    """A threaded HTTP server for one directory.

    ``url`` is the base URL (``http://127.0.0.1:PORT``, no trailing slash) and ``hits`` a
    :class:`collections.Counter` of ``(method, path, status)`` for every request answered;
    read it under ``lock`` if requests may still be in flight.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, root: Path, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"not a directory: {root}")
        self.hits: Counter[tuple[str, str, int]] = Counter()
        self.lock = threading.Lock()
        super().__init__((host, port), _Handler)
        bound_host, bound_port = self.server_address[:2]
        self.url = f"http://{_url_host(str(bound_host))}:{bound_port}"
        # The base written into pages: ``url``, or a host name the server answers for as an
        # HTTP proxy (requests in absolute form, ``GET http://host/path``).
        self.public_url = (public_url or self.url).rstrip("/")

    def count(self, method: str, path: str, status: int) -> None:
        """Record one answered request in ``hits``."""
        with self.lock:
            self.hits[(method, path, status)] += 1

    def hits_for(self, path: str, method: str = "GET") -> int:
        """How many times ``path`` was requested with ``method``, whatever the status."""
        with self.lock:
            return sum(n for (m, p, _), n in self.hits.items() if m == method and p == path)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer
    server_version = "NewsArchiverSiteServer/1.0"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def _respond(self, send_body: bool) -> None:
        self._serve(urlsplit(self.path).path or "/", send_body)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Counted before the status line goes out, so a client that has its answer sees it counted.
        # A request too malformed to parse (a TLS hello on this plain port) has no path.
        self.server.count(self.command or "?", urlsplit(getattr(self, "path", "")).path or "/", int(code))
        super().send_response(code, message)

    def _serve(self, url_path: str, send_body: bool) -> int:
        target = self._resolve(url_path)
        if target is None:
            return self._send_error(HTTPStatus.NOT_FOUND, send_body)
        if target.is_dir():
            if not url_path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", url_path + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return HTTPStatus.MOVED_PERMANENTLY
            target = target / "index.html"
            if not target.is_file():
                return self._send_error(HTTPStatus.NOT_FOUND, send_body)
        try:
            body = target.read_bytes()
            mtime = target.stat().st_mtime
        except OSError:
            return self._send_error(HTTPStatus.NOT_FOUND, send_body)
        body = self._substitute(target, body)
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        last_modified = email.utils.formatdate(int(mtime), usegmt=True)
        if self._not_modified(etag, int(mtime)):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return HTTPStatus.NOT_MODIFIED
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", _content_type(target, body))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.end_headers()
        if send_body:
            self.wfile.write(body)
        return HTTPStatus.OK

    def _resolve(self, url_path: str) -> Path | None:
        """The file or directory under the root that ``url_path`` names, or None (missing, outside)."""
        clean = posixpath.normpath(unquote(url_path))
        parts = [p for p in clean.split("/") if p and p not in (".", "..")]
        target = self.server.root.joinpath(*parts)
        try:
            resolved = target.resolve()
        except OSError:
            return None
        if not resolved.is_relative_to(self.server.root) or not resolved.exists():
            return None
        return resolved

    def _substitute(self, target: Path, body: bytes) -> bytes:
        base = self.server.public_url.encode("ascii")
        if target.suffix.lower() in _TEXT_SUFFIXES or _content_type(target, body).startswith("text/html"):
            return body.replace(BASE_TOKEN, base)
        if target.suffix.lower() == ".gz":
            try:
                inner = gzip.decompress(body)
            except (OSError, EOFError):
                return body  # not a valid gzip file: serve it as it is
            if BASE_TOKEN in inner:
                # mtime=0 keeps the bytes (and so the ETag) stable between requests.
                return gzip.compress(inner.replace(BASE_TOKEN, base), mtime=0)
        return body

    def _not_modified(self, etag: str, mtime: int) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
            return "*" in tags or etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return mtime <= since.timestamp()
        return False

    def _send_error(self, status: HTTPStatus, send_body: bool) -> int:
        body = f"<!doctype html><title>{status.value} {status.phrase}</title><h1>{status.phrase}</h1>\n"
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if send_body:
            self.wfile.write(data)
        return status.value


def _content_type(path: Path, body: bytes) -> str:
    """The type by file name; a file without a suffix (a "pretty" URL) is sniffed, HTML by default."""
    name = path.name.lower()
    if name in _NAMED_TYPES:
        return _NAMED_TYPES[name]
    suffix = path.suffix.lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    if not suffix:
        for magic, mime in _MAGIC:
            if body.startswith(magic):
                return mime
        return "text/html; charset=utf-8"
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


@contextmanager
def serve_directory(
    root: Path, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None
) -> Iterator[SiteServer]:
    """Serve ``root`` in a daemon thread for the duration of the ``with`` block.

    Yields the running :class:`SiteServer`: ``server.url`` is the base URL (e.g.
    ``http://127.0.0.1:41234``), ``server.hits`` counts ``(method, path, status)``.
    With ``public_url`` (e.g. ``http://sample-news.example``) pages carry that base instead,
    and clients reach the site by using the server as their HTTP proxy.
    The server is shut down and its socket closed on exit.
    """
    server = SiteServer(root, host, port, public_url)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="siteserver", daemon=True
    )
    thread.start()
    logger.debug("serving %s at %s", server.root, server.url)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """Serve a directory in the foreground; print the base URL as the first line of output."""
    parser = argparse.ArgumentParser(prog="python -m crawler.siteserver", description=__doc__.splitlines()[0])
    parser.add_argument(
        "directory", nargs="?", type=Path, help="directory to serve (default: the sample site)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    args = parser.parse_args(argv)
    root = args.directory
    if root is None:
        from crawler.sample_site import SITE_DIR

        root = SITE_DIR
    try:
        server = SiteServer(root, args.host, args.port)
    except (OSError, NotADirectoryError) as exc:
        print(f"error: cannot serve {root}: {exc}", file=sys.stderr)
        return 2
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

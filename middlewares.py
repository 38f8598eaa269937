"""Scrapy downloader middleware for incremental crawls: skip or conditionally fetch archived pages.

At spider open, :class:`IncrementalMiddleware` reads from the archive (``ARCHIVE_URL``), in one
query, when each archived URL was last fetched or checked and its ETag / Last-Modified. Like every
archive access of a crawl it goes through the crawl's archive (:func:`pipelines.crawl_archive`):
reads in its reader thread, writes in its writer thread, never on the reactor's. Then,
for every page request the spider marks with ``meta["incremental"]`` (all pages but the start
pages), :func:`crawler.incremental.decide` says whether to send it at all and with which
conditional headers. Requests not sent, and pages answered ``304 Not Modified``, end in the
request's errback with ``meta["incremental_skip"]`` set to the reason; the spider turns a 304 into
a ``NotModifiedPage`` item (no extraction) and the store pipeline records the check time.

Pages that are not articles (home and section pages, sitemaps, feeds) must be read every run,
since they are where new articles appear; but they too are asked for conditionally when the
archive's ``page_cache`` has them, and a ``304`` is answered from the cache (a response flagged
``cached``: its links are followed, nothing is extracted). A page enters the cache when the
extract pipeline finds it is not an article (signal ``item_dropped``); sitemaps and feeds
(``meta["cacheable"]``) when they arrive.

Settings: ``CRAWLER_INCREMENTAL`` (default on), ``CRAWLER_REVISIT_AFTER`` (default 6h; a
request may override it with ``meta["revisit_after"]`` in seconds, as the sources file does),
``CRAWLER_CONDITIONAL_REQUESTS`` (default on).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, HtmlResponse, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet.error import DNSLookupError
from w3lib.url import safe_url_string

from archive.db import ArchiveError
from archive.faults import StorageFault
from archive.models import Article
from archive.state import FetchState, cache_page, cached_body, load_cache_validators, load_fetch_states
from archive.writer import ArchiveAccess
from crawler.incremental import CONDITIONAL, Decision, decide, parse_duration, parse_listed_date
from crawler.items import RawPage
from crawler.reach import Reach, host_port, is_public_address
from crawler.reasons import Reason
from pipelines import crawl_archive

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

__all__ = [
    "BackoffRetryMiddleware",
    "GuardedRedirectMiddleware",
    "IncrementalMiddleware",
    "NotModified",
    "NotRequested",
    "QuickMetaRefreshMiddleware",
    "ReachMiddleware",
    "Refused",
]

logger = logging.getLogger(__name__)

DEFAULT_REVISIT_AFTER = 6 * 3600
CACHE_CONDITIONAL = "cache_conditional"
# Why the pipelines drop a fetched page that is worth caching (it will not become an article
# while it is not modified).
_CACHEABLE_DROPS = ("not_article", "empty_body", "duplicate")


class NotRequested(IgnoreRequest):
    """The archive's copy of the page is recent enough: no request sent."""


class NotModified(IgnoreRequest):
    """The server answered 304 Not Modified to a conditional request."""


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class IncrementalMiddleware:
    """Skip fresh archived pages, send conditional requests for the others, turn 304s away."""

    def __init__(self, crawler: Crawler, url: str) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.url = url
        self.enabled = settings.getbool("CRAWLER_INCREMENTAL", True)
        try:
            self.revisit_after = parse_duration(settings.get("CRAWLER_REVISIT_AFTER", DEFAULT_REVISIT_AFTER))
        except ValueError as exc:
            raise NotConfigured(f"CRAWLER_REVISIT_AFTER: {exc}") from exc
        self.conditional = settings.getbool("CRAWLER_CONDITIONAL_REQUESTS", True)
        self.use_cache = self.enabled and self.conditional
        self.states: dict[str, FetchState] = {}
        self.cache: dict[str, tuple[str | None, str | None]] = {}
        self.archive: ArchiveAccess | None = None
        try:
            self.archive = crawl_archive(crawler)
        except ArchiveError as exc:
            logger.warning("incremental crawling off: %s", exc)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        url = crawler.settings.get("ARCHIVE_URL")
        if not url:
            raise NotConfigured("ARCHIVE_URL is empty: nothing to crawl incrementally against")
        mw = cls(crawler, url)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.item_dropped, signal=signals.item_dropped)
        return mw

    async def spider_opened(self, spider: Spider) -> None:
        """Read the fetch states and cache validators (in the archive's reader thread; Scrapy
        awaits this before it schedules a request)."""
        if self.archive is None:
            return
        started = time.perf_counter()

        def load(session: Session) -> tuple[dict[str, FetchState], dict[str, tuple[str | None, str | None]]]:
            return load_fetch_states(session), load_cache_validators(session) if self.use_cache else {}

        self.states, self.cache = await self.archive.read(load)
        stats = self.crawler.stats
        stats.set_value("incremental/known_urls", len(self.states))
        stats.set_value("incremental/cached_pages", len(self.cache))
        logger.info(
            "incremental: %d archived URLs and %d cached pages read in %.2fs (revisit after %ss, %s)",
            len(self.states),
            len(self.cache),
            time.perf_counter() - started,
            int(self.revisit_after),
            "on" if self.enabled else "off: only pages done in this job are skipped",
        )

    # -- archived articles -------------------------------------------------------------------

    def _decide(self, request: Request, state: FetchState) -> Decision:
        meta = request.meta
        job_started = meta.get("job_started")
        job_start = datetime.fromisoformat(job_started) if job_started else None
        if not self.enabled:
            return decide(
                last_seen=state.last_seen,
                etag=None,
                last_modified=None,
                now=_utcnow(),
                revisit_after=0,
                job_started=job_start,
                conditional=False,
            )
        revisit = meta.get("revisit_after")
        return decide(
            last_seen=state.last_seen,
            etag=state.etag,
            last_modified=state.last_modified,
            now=_utcnow(),
            revisit_after=self.revisit_after if revisit is None else float(revisit),
            job_started=job_start,
            listed=parse_listed_date(meta.get("lastmod") or meta.get("feed_date")),
            conditional=self.conditional,
        )

    def process_request(self, request: Request) -> None:
        if request.meta.get("incremental_action"):
            return  # already decided (a retry, a redirect)
        state = self.states.get(request.url) if request.meta.get("incremental") else None
        if state is None:
            self._cache_request(request)
            return
        decision = self._decide(request, state)
        stats = self.crawler.stats
        request.meta["incremental_action"] = decision.action
        if decision.skip:
            stats.inc_value(f"incremental/not_requested/{decision.action}")
            stats.inc_value("incremental/not_requested")
            request.meta["incremental_skip"] = decision.action
            raise NotRequested(f"{decision.action}: {request.url}")
        if decision.action == CONDITIONAL:
            stats.inc_value("incremental/conditional")
            for name, value in decision.headers.items():
                request.headers[name] = value

    async def process_response(self, request: Request, response: Response) -> Response | Request:
        action = request.meta.get("incremental_action")
        if action == CACHE_CONDITIONAL and response.status == 304:
            return await self._from_cache(request, response)
        if request.meta.get("cacheable") and response.status == 200:
            self._store(request.url, response)
        if action != CONDITIONAL:
            return response
        if response.status == 304:
            self.crawler.stats.inc_value("incremental/not_modified")
            request.meta["incremental_skip"] = "not_modified"
            request.meta["not_modified_headers"] = {
                "etag": _header(response, b"ETag"),
                "last_modified": _header(response, b"Last-Modified"),
            }
            raise NotModified(f"not modified: {request.url}")
        if response.status == 200:
            self.crawler.stats.inc_value("incremental/modified")
        return response

    # -- pages that are not articles ---------------------------------------------------------

    def _cache_request(self, request: Request) -> None:
        """Ask for a cached non-article page conditionally."""
        validators = self.cache.get(request.url)
        if validators is None or self.archive is None:
            return
        etag, last_modified = validators
        request.meta["incremental_action"] = CACHE_CONDITIONAL
        if etag:
            request.headers["If-None-Match"] = etag
        if last_modified:
            request.headers["If-Modified-Since"] = last_modified

    async def _from_cache(self, request: Request, response: Response) -> Response | Request:
        """The cached copy of a page the server says is not modified, flagged ``cached`` (read in
        the archive's reader thread)."""
        body = None
        if self.archive is not None:
            url = request.url
            try:
                body = await self.archive.read(lambda session: cached_body(session, url))
            except SQLAlchemyError as exc:
                logger.warning("page cache unreadable for %s: %s", request.url, exc)
        if body is None:  # gone from the cache meanwhile: fetch it in full
            retry = request.replace(dont_filter=True)
            for name in (b"If-None-Match", b"If-Modified-Since"):
                retry.headers.pop(name, None)
            retry.meta["incremental_action"] = "refetch"
            return retry
        self.crawler.stats.inc_value("incremental/cache_not_modified")
        headers = Headers(response.headers)
        if body.content_type:
            headers[b"Content-Type"] = body.content_type
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body.body)
        return cls(
            url=request.url, status=200, headers=headers, body=body.body, flags=["cached"], request=request
        )

    def _store(self, url: str, response: Response) -> None:
        """Cache the page (a write queued to the archive's writer thread; not waited for)."""
        etag = _header(response, b"ETag")
        last_modified = _header(response, b"Last-Modified")
        if not self.use_cache or self.archive is None or "cached" in response.flags:
            return
        if not (etag or last_modified):
            return  # the server cannot answer conditional requests for it
        content_type = _header(response, b"Content-Type")
        body = response.body
        fetched_at = _utcnow()
        written = self.archive.submit(
            url,
            lambda session: cache_page(
                session,
                url,
                etag=etag,
                last_modified=last_modified,
                content_type=content_type,
                body=body,
                fetched_at=fetched_at,
            ),
        )

        def done(written: asyncio.Future[Any]) -> None:
            error = None if written.cancelled() else written.exception()
            if error is None:
                self.crawler.stats.inc_value("incremental/cache_stored")
            elif not isinstance(error, StorageFault):  # a fault is reported once, and stops the crawl
                logger.warning("could not cache %s: %s", url, error)

        written.add_done_callback(done)

    def item_dropped(self, item: Any, response: Any, exception: Any, spider: Any) -> None:
        """A page the pipelines dropped as not an article (or a duplicate): cache it, so that next
        time a 304 answers it from the cache. Extraction failures are not cached: they are retried."""
        if not (isinstance(item, RawPage) and isinstance(response, Response)):
            return
        reason = getattr(exception, "reason", None)  # pipelines.Dropped names why
        if response.status == 200 and item.url == response.url and reason in _CACHEABLE_DROPS:
            self._store(item.url, response)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class Refused(IgnoreRequest):
    """A request the crawl refuses to send or follow, for a named ``reason``
    (:class:`crawler.reasons.Reason`): the spider's errback records it in fetch_failures."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _reach(crawler: Any) -> Reach | None:
    """The reach (own sites, given hosts) of the running spider, when it has one."""
    return getattr(crawler.spider, "reach", None)


class ReachMiddleware:
    """Refuse requests to sites that are not the crawl's own, and to private addresses.

    It runs first among the downloader middlewares (before robots.txt is fetched for a host), so a
    refused host is never contacted. A host name is resolved through the reactor's resolver (the
    caching resolver the download itself then uses) and refused (``private_address``) when an
    address is not public (:func:`crawler.reach.is_public_address`), unless
    CRAWLER_ALLOW_PRIVATE_ADDRESSES is on or the host and port are those of a URL the user gave
    (allowed with one notice per host). A name that does not resolve is left to the download,
    which fails with its DNS error, or to the HTTP proxy when one is used.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("CRAWLER_ALLOW_PRIVATE_ADDRESSES", False)
        self._noticed: set[tuple[str, int]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ReachMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        reach = _reach(self.crawler)
        if reach is None or urlparse_cached(request).scheme not in ("http", "https"):
            return
        if not reach.is_own(request.url) and not request.meta.get("reach_any_site"):
            raise Refused(
                Reason.OFFSITE_REDIRECT if request.meta.get("redirect_urls") else Reason.OFFSITE, request.url
            )
        if self.allow_private:
            return
        host, port = host_port(request.url)
        address = await self._resolve(host)
        if address is None or is_public_address(address):
            return
        if reach.is_given(request.url):
            if (host, port) not in self._noticed:
                self._noticed.add((host, port))
                logger.info(
                    "notice: %s:%d is on a private address (%s); crawled because it was given, "
                    "other private addresses stay refused",
                    host,
                    port,
                    address,
                )
                # One line in `crawler crawl`'s summary (crawler.cli.crawl.report).
                given = ", ".join(f"{h}:{p}" for h, p in sorted(self._noticed))
                self.crawler.stats.set_value("reach/private_given", given)
            return
        self.crawler.stats.inc_value(f"refused/{Reason.PRIVATE_ADDRESS}")
        raise Refused(Reason.PRIVATE_ADDRESS, f"{request.url} resolves to {address}")

    async def _resolve(self, host: str) -> str | None:
        if _is_ip(host):
            return host.strip("[]")
        from twisted.internet import reactor

        try:
            resolved: Any = reactor.resolve(host)  # type: ignore[attr-defined, arg-type]
            return str(await maybe_deferred_to_future(resolved))
        except (DNSLookupError, OSError, TimeoutError):
            return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class GuardedRedirectMixin:
    """Redirects refused (a :class:`Refused` error, recorded by the spider) instead of followed when
    they go to another site (``offsite_redirect``), back to a URL of the same chain
    (``redirect_loop``) or past REDIRECT_MAX_TIMES (``too_many_redirects``)."""

    crawler: Any
    max_redirect_times: int

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            raise Refused(
                Reason.REDIRECT_LOOP, f"{request.url} -> {redirected.url} (after {len(chain)} URLs)"
            )
        reach = _reach(self.crawler)
        if reach is not None and not reach.is_own(redirected.url):
            raise Refused(Reason.OFFSITE_REDIRECT, f"{request.url} -> {redirected.url}")
        if len(chain) > self.max_redirect_times:
            raise Refused(Reason.TOO_MANY_REDIRECTS, f"{chain[0]}: more than {self.max_redirect_times}")
        return super()._redirect(redirected, request, reason)  # type: ignore[misc]


class GuardedRedirectMiddleware(GuardedRedirectMixin, RedirectMiddleware):
    """Scrapy's HTTP redirects, guarded (:class:`GuardedRedirectMixin`); a redirect to a scheme
    other than http(s) (``file:``, ``ftp:``, ``gopher:``...) is refused as ``bad_scheme``
    rather than passed on as a 3xx response. It replaces Scrapy's in DOWNLOADER_MIDDLEWARES."""

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        location = response.headers.get(b"Location")
        if (
            location
            and response.status in (301, 302, 303, 307, 308)
            and not request.meta.get("dont_redirect")
        ):
            target = urljoin(request.url, safe_url_string(location))
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                raise Refused(Reason.BAD_SCHEME, f"{request.url} -> {target[:200]}")
        return super().process_response(request, response)


# Scrapy looks for <meta http-equiv="refresh"> in a page's first 4,096 characters: at most this many
# bytes in any ASCII-compatible encoding.
_REFRESH_SCAN_BYTES = 4 * 4096
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class QuickMetaRefreshMiddleware(GuardedRedirectMixin, MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, without decoding every page to learn that it has none.

    Scrapy's middleware decodes the whole body (``response.text``) of each HTML response to read its
    first 4,096 characters; nearly no article page has a refresh tag, so a page whose first bytes do
    not spell "refresh" is passed on as it is. It replaces Scrapy's in DOWNLOADER_MIDDLEWARES.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if isinstance(response, HtmlResponse):
            head = response.body[:_REFRESH_SCAN_BYTES]
            if not head.startswith(_UTF16_BOMS) and b"refresh" not in head.lower():
                return response
        return super().process_response(request, response)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries (RETRY_TIMES, RETRY_HTTP_CODES: 5xx, 429, timeouts, lost connections),
    each after a pause: the server's ``Retry-After`` (seconds or an HTTP date) when it sends one,
    else CRAWLER_RETRY_BACKOFF seconds doubled at each retry; never more than
    CRAWLER_RETRY_MAX_DELAY. It replaces Scrapy's in DOWNLOADER_MIDDLEWARES."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("CRAWLER_RETRY_BACKOFF", 1.0)
        self.max_delay = settings.getfloat("CRAWLER_RETRY_MAX_DELAY", 30.0)

    def delay(self, request: Request, response: Response | None = None) -> float:
        """Seconds to wait before retrying ``request`` (answered ``response``, if any)."""
        tries = int(request.meta.get("retry_times", 0))
        wait = self.backoff * 2**tries
        after = response.headers.get(b"Retry-After") if response is not None else None
        if after:
            asked = _retry_after(after.decode("latin-1"))
            if asked is not None:
                wait = asked
        return max(0.0, min(wait, self.max_delay))

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._pause(self.delay(request, response), request)
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._pause(self.delay(request), request)
        return result

    async def _pause(self, seconds: float, request: Request) -> None:
        if seconds > 0:
            self.crawler.stats.inc_value("retry/backoff_ms", int(seconds * 1000))
            logger.debug("retrying %s in %.1fs", request.url, seconds)
            await asyncio.sleep(seconds)


def _retry_after(value: str) -> float | None:
    """Seconds from now that a ``Retry-After`` header asks for, or None when it says nothing usable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WarcMiddleware:
    """Write every response the crawl receives to WARC files (:class:`archive.warc.WarcFileWriter`)
    in ARCHIVE_WARC_DIR, as received: before decompression, retries and redirects (it sits next to
    the downloader). The record's location goes with the request (``meta["warc_record"]``) to the
    spider's raw page and so to the article row. A 304 becomes a revisit record pointing to the
    digest of the archived payload. Writes are small appends on the reactor thread; a 304's lookup of
    the earlier digest is one indexed read of the archive, in the crawl's reader thread.
    """

    def __init__(self, crawler: Crawler, folder: str) -> None:
        from archive.warc import WarcFileWriter

        settings = crawler.settings
        self.crawler = crawler
        info = {
            "isPartOf": settings.get("BOT_NAME"),
            "http-header-user-agent": settings.get("USER_AGENT"),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "settings": f"ARCHIVE_WARC_MAX_SIZE={settings.getint('ARCHIVE_WARC_MAX_SIZE')}",
        }
        self.writer = WarcFileWriter(
            folder, max_size=settings.getint("ARCHIVE_WARC_MAX_SIZE", 1 << 30), info=info
        )
        self.archive: ArchiveAccess | None = None
        if settings.get("ARCHIVE_URL"):
            try:
                self.archive = crawl_archive(crawler)
            except ArchiveError as exc:
                logger.debug("no earlier digests for revisit records: %s", exc)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        folder = crawler.settings.get("ARCHIVE_WARC_DIR")
        if not folder:
            raise NotConfigured  # ARCHIVE_WARC_DIR empty: no WARC output (no message: no warning)
        middleware = cls(crawler, folder)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def _earlier(self, url: str) -> tuple[str | None, datetime | None]:
        """The payload digest and fetch time of the archived page at ``url`` (None, None if unknown)."""
        if self.archive is None:
            return None, None

        def earlier(session: Session) -> Any:
            return session.execute(
                select(Article.payload_digest, Article.fetched_at).where(Article.url == url)
            ).first()

        try:
            row = await self.archive.read(earlier)
        except SQLAlchemyError as exc:
            logger.debug("no earlier digest for %s: %s", url, exc)
            return None, None
        return (row[0], row[1]) if row is not None else (None, None)

    async def process_response(self, request: Request, response: Response) -> Response:
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, values in response.headers.items()
            for v in values
        ]
        sent = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, values in request.headers.items()
            for v in values
        ]
        if response.status == 304:
            digest, when = await self._earlier(request.url)
            location = self.writer.write_revisit(
                response.url,
                status=304,
                headers=headers,
                refers_to_digest=digest,
                refers_to_date=when,
                method=request.method,
                request_headers=sent,
            )
            self.crawler.stats.inc_value("warc/revisits")
        else:
            location = self.writer.write_exchange(
                response.url,
                status=response.status,
                headers=headers,
                body=response.body,
                method=request.method,
                request_headers=sent,
            )
            self.crawler.stats.inc_value("warc/responses")
        request.meta["warc_record"] = tuple(location)
        return response

    def spider_closed(self, spider: Spider, reason: str) -> None:
        files = self.writer.close()
        self.crawler.stats.set_value("warc/files", len(files))

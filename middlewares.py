"""Scrapy downloader middleware for incremental crawls: skip or conditionally fetch archived pages.

At spider open, :class:`IncrementalMiddleware` reads from the archive (``ARCHIVE_URL``), in one
query, when each archived URL was last fetched or checked and its ETag / Last-Modified. Then,
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

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, HtmlResponse, Response
from scrapy.responsetypes import responsetypes
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from archive.db import ArchiveError, make_engine, make_sessionmaker
from archive.state import FetchState, cache_page, cached_body, load_cache_validators, load_fetch_states
from crawler.incremental import CONDITIONAL, Decision, decide, parse_duration, parse_listed_date
from crawler.items import RawPage

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

__all__ = ["IncrementalMiddleware", "NotModified", "NotRequested"]

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
        self.engine: Engine | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        url = crawler.settings.get("ARCHIVE_URL")
        if not url:
            raise NotConfigured("ARCHIVE_URL is empty: nothing to crawl incrementally against")
        mw = cls(crawler, url)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(mw.item_dropped, signal=signals.item_dropped)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        started = time.perf_counter()
        try:
            self.engine = make_engine(self.url)
        except ArchiveError as exc:
            logger.warning("incremental crawling off: %s", exc)
            return
        with make_sessionmaker(self.engine)() as session:
            self.states = load_fetch_states(session)
            if self.use_cache:
                self.cache = load_cache_validators(session)
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

    def spider_closed(self, spider: Spider) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

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

    def process_response(self, request: Request, response: Response) -> Response | Request:
        action = request.meta.get("incremental_action")
        if action == CACHE_CONDITIONAL and response.status == 304:
            return self._from_cache(request, response)
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
        if validators is None or self.engine is None:
            return
        etag, last_modified = validators
        request.meta["incremental_action"] = CACHE_CONDITIONAL
        if etag:
            request.headers["If-None-Match"] = etag
        if last_modified:
            request.headers["If-Modified-Since"] = last_modified

    def _from_cache(self, request: Request, response: Response) -> Response | Request:
        """The cached copy of a page the server says is not modified, flagged ``cached``."""
        body = None
        if self.engine is not None:
            try:
                with make_sessionmaker(self.engine)() as session:
                    body = cached_body(session, request.url)
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
        etag = _header(response, b"ETag")
        last_modified = _header(response, b"Last-Modified")
        if not self.use_cache or self.engine is None or "cached" in response.flags:
            return
        if not (etag or last_modified):
            return  # the server cannot answer conditional requests for it
        try:
            with make_sessionmaker(self.engine).begin() as session:
                cache_page(
                    session,
                    url,
                    etag=etag,
                    last_modified=last_modified,
                    content_type=_header(response, b"Content-Type"),
                    body=response.body,
                    fetched_at=_utcnow(),
                )
        except SQLAlchemyError as exc:
            logger.warning("could not cache %s: %s", url, exc)
            return
        self.crawler.stats.inc_value("incremental/cache_stored")

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


# Scrapy looks for <meta http-equiv="refresh"> in a page's first 4,096 characters: at most this many
# bytes in any ASCII-compatible encoding.
_REFRESH_SCAN_BYTES = 4 * 4096
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
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

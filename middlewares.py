"""Scrapy downloader middleware for incremental crawls: skip or conditionally fetch archived pages.

At spider open, :class:`IncrementalMiddleware` reads from the archive (``ARCHIVE_URL``), in one
query, when each archived URL was last fetched or checked and its ETag / Last-Modified. Then,
for every page request the spider marks with ``meta["incremental"]`` (all pages but the start
pages, which are always fetched so that links are found), :func:`crawler.incremental.decide`
says whether to send it at all and with which conditional headers. Requests not sent, and
pages answered ``304 Not Modified``, end in the request's errback with ``meta["incremental_skip"]``
set to the reason; the spider turns a 304 into a ``NotModified`` item (no extraction) and the
store pipeline records the check time.

Settings: ``CRAWLER_INCREMENTAL`` (default on), ``CRAWLER_REVISIT_AFTER`` (default 6h; a
request may override it with ``meta["revisit_after"]`` in seconds, as the sources file does),
``CRAWLER_CONDITIONAL_REQUESTS`` (default on).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from archive.db import ArchiveError, make_engine, make_sessionmaker
from archive.state import FetchState, load_fetch_states
from crawler.incremental import CONDITIONAL, Decision, decide, parse_duration, parse_listed_date

__all__ = ["IncrementalMiddleware", "NotModified", "NotRequested"]

logger = logging.getLogger(__name__)

DEFAULT_REVISIT_AFTER = 6 * 3600


class NotRequested(IgnoreRequest):
    """The archive's copy of the page is recent enough: no request sent."""


class NotModified(IgnoreRequest):
    """The server answered 304 Not Modified to a conditional request."""


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class IncrementalMiddleware:
    """Skip fresh archived pages, send conditional requests for the others, turn 304s away."""

    def __init__(self, crawler: Any, url: str) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.url = url
        self.enabled = settings.getbool("CRAWLER_INCREMENTAL", True)
        try:
            self.revisit_after = parse_duration(settings.get("CRAWLER_REVISIT_AFTER", DEFAULT_REVISIT_AFTER))
        except ValueError as exc:
            raise NotConfigured(f"CRAWLER_REVISIT_AFTER: {exc}") from exc
        self.conditional = settings.getbool("CRAWLER_CONDITIONAL_REQUESTS", True)
        self.states: dict[str, FetchState] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> IncrementalMiddleware:
        url = crawler.settings.get("ARCHIVE_URL")
        if not url:
            raise NotConfigured("ARCHIVE_URL is empty: nothing to crawl incrementally against")
        mw = cls(crawler, url)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider: Any) -> None:
        started = time.perf_counter()
        try:
            engine = make_engine(self.url)
        except ArchiveError as exc:
            logger.warning("incremental crawling off: %s", exc)
            return
        try:
            with make_sessionmaker(engine)() as session:
                self.states = load_fetch_states(session)
        finally:
            engine.dispose()
        self.crawler.stats.set_value("incremental/known_urls", len(self.states))
        logger.info(
            "incremental: %d archived URLs read in %.2fs (revisit after %ss, %s)",
            len(self.states),
            time.perf_counter() - started,
            int(self.revisit_after),
            "on" if self.enabled else "off: only pages done in this job are skipped",
        )

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
        if not request.meta.get("incremental") or request.meta.get("incremental_action"):
            return  # not an article page candidate, or already decided (retry, redirect)
        state = self.states.get(request.url)
        if state is None:
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
        return

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("incremental_action") != CONDITIONAL:
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


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None

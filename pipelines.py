"""Scrapy item pipelines: thin adapters from raw pages to archived articles.

ExtractPipeline turns a RawPage into an ExtractedPage (clean text and language tags, via
crawler.extract) or drops it with a counted reason; StorePipeline writes it to the archive,
records failed fetches, and keeps the crawl_runs row of the crawl. The item that leaves
StorePipeline is the clean record, so ``scrapy crawl article -O items.jsonl`` exports it.

Every component of a crawl that uses the archive (these pipelines, the incremental and WARC
middlewares) goes through :func:`crawl_archive`: one :class:`archive.writer.ArchiveAccess` per
crawler (one engine, the writer thread, the reader thread), closed when the crawl's engine stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy.orm import Session

from archive.db import ArchiveError
from archive.export import json_record_from_article
from archive.faults import StorageFault
from archive.store import (
    DUPLICATE,
    NEW,
    UNCHANGED,
    finish_run,
    mark_checked,
    record_failure,
    start_run,
    utcnow,
)
from archive.writer import ArchiveAccess, SiteLines, store_record
from archive.writer import article_record as build_record
from crawler.extract import EXTRACTOR_VERSION, ExtractOptions, lines_for_learning
from crawler.items import Article, FetchFailed, NotModifiedPage, RawPage
from crawler.pool import ExtractionPool, TaskFailed, TaskMemory, TaskTimeout, use_batch_scheduling
from crawler.reasons import SKIP_REASONS, Reason
from crawler.urls import domain_of
from crawler.worker import Extraction, extract_page

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

__all__ = [
    "Dropped",
    "ExtractPipeline",
    "ExtractedPage",
    "Extraction",
    "RecordPipeline",
    "StorePipeline",
    "article_record",
    "crawl_archive",
    "extract_page",
    "run_counts",
]

logger = logging.getLogger(__name__)

# The archive of each crawler (or why it could not be opened), made by its first component.
_ARCHIVES: weakref.WeakKeyDictionary[Crawler, ArchiveAccess | ArchiveError] = weakref.WeakKeyDictionary()


def crawl_archive(crawler: Crawler) -> ArchiveAccess:
    """The archive (ARCHIVE_URL) of this crawl, shared by all its components: opened by the first
    that asks (while Scrapy builds the components, before any request), closed once, when the
    crawl's engine stops (signal ``engine_stopped``). Raises ArchiveError (the same one to every
    component) when ARCHIVE_URL is empty or the archive cannot be opened.

    Writes are batched (ARCHIVE_BATCH_SIZE records or ARCHIVE_BATCH_SECONDS per transaction); a
    locked database is waited for up to ARCHIVE_LOCK_WAIT seconds; a fault of the database
    (StorageFault) stops the crawl, once.
    """
    known = _ARCHIVES.get(crawler)
    if isinstance(known, ArchiveError):
        raise known
    if known is not None:
        return known
    settings = crawler.settings
    url = settings.get("ARCHIVE_URL")
    try:
        if not url:
            raise ArchiveError("ARCHIVE_URL is empty")
        archive = ArchiveAccess.open(
            url,
            batch_size=settings.getint("ARCHIVE_BATCH_SIZE", 100),
            batch_seconds=settings.getfloat("ARCHIVE_BATCH_SECONDS", 0.2),
            lock_wait=settings.getfloat("ARCHIVE_LOCK_WAIT", 300),
            on_fault=lambda fault: _stop_crawl(crawler, fault),
        )
    except ArchiveError as exc:
        _ARCHIVES[crawler] = exc
        raise
    _ARCHIVES[crawler] = archive

    async def close() -> None:
        await archive.close()

    crawler.signals.connect(close, signal=signals.engine_stopped, weak=False)
    return archive


# Keeps the task that closes a crawl stopped by a fault of the archive until it is done.
_CLOSING: set[asyncio.Future[Any]] = set()


def _stop_crawl(crawler: Crawler, fault: StorageFault) -> None:
    """Stop the crawl, once, for a fault of the database: its message is the crawl's last word
    (``archive/fault``), its kind the finish reason."""
    stats = crawler.stats
    if stats.get_value("archive/fault") is not None:
        return
    stats.set_value("archive/fault", str(fault))
    logger.info("stopping the crawl: %s", fault)
    engine = crawler.engine
    if engine is None:
        return
    if hasattr(engine, "close_spider_async"):  # Scrapy 2.14+; this runs on the reactor's loop
        closing = asyncio.ensure_future(engine.close_spider_async(reason=fault.kind))
        _CLOSING.add(closing)
        closing.add_done_callback(_CLOSING.discard)
    elif crawler.spider is not None:
        engine.close_spider(crawler.spider, fault.kind)


@dataclass
class ExtractedPage:
    """A fetched page with its extracted article, on its way to the archive."""

    page: RawPage
    extraction: Extraction  # as the worker sent it

    @property
    def article(self) -> Article:
        return self.extraction.article


class Dropped(DropItem):
    """An item dropped for a named ``reason`` (not_article, duplicate, http_error...), which
    other components (the incremental middleware's page cache) read instead of the message."""

    def __init__(self, reason: str, url: str, kind: str = "skipped") -> None:
        super().__init__(f"{kind} ({reason}): {url}", log_level="DEBUG")
        self.reason = reason


def _drop(crawler: Crawler, reason: str, url: str) -> DropItem:
    crawler.stats.inc_value(f"skipped/{reason}")
    return Dropped(reason, url)


def _skipped(crawler: Crawler, page: RawPage, reason: str) -> FetchFailed:
    """A page that is not archived for ``reason``: counted, and recorded by StorePipeline so that
    ``crawler check`` can say why a seed URL is absent."""
    crawler.stats.inc_value(f"skipped/{reason}")
    return FetchFailed(url=page.url, reason=reason, http_status=page.status, failed_at=utcnow())


class ExtractPipeline:
    """Extract the clean article and tag its language; drop what is not an article.

    Extraction runs in a pool of worker processes (:class:`crawler.pool.ExtractionPool`), off the
    reactor thread: ``process_item`` awaits the worker's answer. At most CRAWLER_EXTRACT_QUEUE
    pages are handed to the pool at once; the others wait here while their responses stay in
    Scrapy's scraper slot, which makes the engine stop downloading (backpressure). A page whose
    extraction times out, fails or needs more than CRAWLER_EXTRACT_MAX_MEMORY becomes a
    :class:`crawler.items.FetchFailed` item (reason ``extract_timeout``, ``extract_error`` or
    ``extract_memory``), which the store pipeline records.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.min_words = settings.getint("CRAWLER_MIN_WORDS", 20)
        self.workers = settings.getint("CRAWLER_EXTRACT_WORKERS", 0) or os.cpu_count() or 1
        self.timeout = settings.getfloat("CRAWLER_EXTRACT_TIMEOUT", 5.0)
        self.max_pages = settings.getint("CRAWLER_WORKER_MAX_PAGES", 500)
        self.max_memory = settings.getint("CRAWLER_EXTRACT_MAX_MEMORY", 896 * 1024 * 1024)
        self.queue_size = settings.getint("CRAWLER_EXTRACT_QUEUE", 0) or 2 * self.workers
        self.batch_scheduling = settings.getbool("CRAWLER_BATCH_SCHEDULING", True)
        self.pool: ExtractionPool | None = None
        self._slots = asyncio.Semaphore(self.queue_size)
        self.site_lines = SiteLinesCache.from_crawler(crawler)
        # What the store pipeline will want from the worker besides the article.
        self.keep_html = bool(settings.get("ARCHIVE_URL")) and settings.getbool("ARCHIVE_KEEP_HTML", True)
        self.learn_lines = bool(settings.get("ARCHIVE_URL")) and settings.getbool(
            "CRAWLER_LEARN_BOILERPLATE", True
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        if self.batch_scheduling and not use_batch_scheduling():
            logger.debug("SCHED_BATCH not available: the crawl keeps the default scheduling policy")
        self.pool = ExtractionPool(
            self.workers,
            func=extract_page,
            timeout=self.timeout,
            max_tasks_per_worker=self.max_pages,
            preload=["crawler.worker", "crawler.pool_warmup"],
            max_memory=self.max_memory or None,
        )

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.close()
            for key, value in self.pool.counts.items():
                self.crawler.stats.set_value(f"extract_pool/{key}", value)
            self.crawler.stats.set_value("extract_pool/idle_seconds", round(self.pool.idle_seconds, 1))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        if self.pool is None:
            raise RuntimeError("ExtractPipeline used before open_spider")
        options = await self.site_lines.options_for(domain_of(item.final_url))
        async with self._slots:
            future = self.pool.submit(
                item.html,
                item.final_url,
                content_language=item.content_language,
                content_type=item.content_type,
                options=options,
                keep_html=self.keep_html,
                learn_lines=self.learn_lines,
                fetched_at=item.fetched_at,
            )
            try:
                extraction = await asyncio.wrap_future(future)
            except TaskTimeout as exc:
                return self._failed(item, Reason.EXTRACT_TIMEOUT, str(exc))
            except TaskMemory as exc:
                return self._failed(item, Reason.EXTRACT_MEMORY, exc.detail)
            except TaskFailed as exc:
                return self._failed(item, Reason.EXTRACT_ERROR, exc.detail)
        if extraction is None:
            return _skipped(self.crawler, item, Reason.NOT_ARTICLE)
        if extraction.words < self.min_words:
            return _skipped(self.crawler, item, Reason.EMPTY_BODY)
        return ExtractedPage(item, extraction)

    def _failed(self, page: RawPage, reason: str, detail: str) -> FetchFailed:
        logger.warning("%s: %s (%s)", reason, page.url, (detail.strip().splitlines() or ["?"])[-1])
        self.crawler.stats.inc_value(f"failed/{reason}")
        return FetchFailed(
            url=page.url, reason=reason, http_status=page.status, detail=detail[-2000:], failed_at=utcnow()
        )


class SiteLinesCache:
    """Per-site boilerplate lines learned in the archive (:class:`archive.writer.SiteLines`, read
    in the archive's reader thread), as the extractor's options."""

    def __init__(self, archive: ArchiveAccess | None, refresh: int = 50) -> None:
        self.lines = SiteLines(archive, refresh)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteLinesCache:
        if not crawler.settings.getbool("CRAWLER_LEARN_BOILERPLATE", True):
            return cls(None)
        try:
            return cls(crawl_archive(crawler))
        except ArchiveError:  # no archive, or StorePipeline reports an unusable one
            return cls(None)

    async def options_for(self, domain: str) -> ExtractOptions | None:
        lines = await self.lines.lines_for(domain)
        return ExtractOptions(site_boilerplate=lines) if lines else None


def article_record(
    page: RawPage, article: Article, *, keep_html: bool = True, extraction: Extraction | None = None
) -> dict[str, Any]:
    """The archive row (and exported item) of a crawled page: :func:`archive.writer.article_record`
    with this extractor's version. StorePipeline removes ``html_z`` from the item it passes on."""
    return build_record(
        page, article, extractor_version=EXTRACTOR_VERSION, keep_html=keep_html, extraction=extraction
    )


class StorePipeline:
    """Store articles in the archive (ARCHIVE_URL) and keep the crawl's run record."""

    def __init__(self, crawler: Crawler, archive: ArchiveAccess) -> None:
        self.crawler = crawler
        # The crawl's archive (crawl_archive): writes batched in its writer thread, so the reactor
        # never waits for the database; a fault of the database stops the crawl.
        self.archive = archive
        self.run_id: int | None = None
        self.keep_html = crawler.settings.getbool("ARCHIVE_KEEP_HTML", True)
        self.learn_lines = crawler.settings.getbool("CRAWLER_LEARN_BOILERPLATE", True)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        if not crawler.settings.get("ARCHIVE_URL"):
            raise NotConfigured("ARCHIVE_URL is empty: not archiving")
        try:
            archive = crawl_archive(crawler)
        except ArchiveError as exc:
            raise NotConfigured(str(exc)) from exc
        pipeline = cls(crawler, archive)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def open_spider(self) -> None:
        spider = self.crawler.spider
        assert spider is not None  # Scrapy opens pipelines once the crawl has its spider
        arguments = {
            "start": [entry[0] for entry in getattr(spider, "start_entries", [])][:100],
            "max_depth": getattr(spider, "max_depth", None),
            "max_pages": getattr(spider, "max_pages", None),
        }
        self.run_id = await self.archive.transaction(
            lambda session: start_run(session, spider.name, arguments)
        )
        self.crawler.stats.set_value("archive/run_id", self.run_id)

    async def process_item(self, item: Any) -> Any:
        try:
            return await self._process_item(item)
        except StorageFault as exc:  # the crawl is stopping (_stop_crawl); the page is fetched next run
            raise DropItem(
                f"not stored ({exc.kind}): {getattr(item, 'url', item)}", log_level="DEBUG"
            ) from exc

    async def _process_item(self, item: Any) -> Any:
        stats = self.crawler.stats
        if isinstance(item, FetchFailed):
            await self._write(
                item.url,
                lambda session: record_failure(
                    session,
                    url=item.url,
                    reason=item.reason,
                    run_id=self.run_id,
                    http_status=item.http_status,
                    detail=item.detail,
                    failed_at=item.failed_at,
                ),
            )
            skip = item.reason in SKIP_REASONS
            raise Dropped(item.reason, item.url, "skipped" if skip else "failed")
        if isinstance(item, NotModifiedPage):
            await self._write(
                item.url,
                lambda session: mark_checked(
                    session, item.url, item.checked_at, etag=item.etag, last_modified=item.last_modified
                ),
            )
            raise DropItem(f"not modified: {item.url}", log_level="DEBUG")
        if not isinstance(item, ExtractedPage):
            return item
        extraction = item.extraction
        # The raw page comes compressed from the worker (ExtractPipeline asks for it when it is kept).
        record = article_record(item.page, item.article, keep_html=self.keep_html, extraction=extraction)
        lines: list[str] | None = None
        if self.learn_lines:
            lines = extraction.lines if extraction.lines is not None else lines_for_learning(item.article)
        outcome = await self._write(record["url"], lambda session: store_record(session, record, lines))
        stats.inc_value(f"archive/{outcome}")
        if outcome == DUPLICATE:
            await self._write(
                record["url"],
                lambda session: record_failure(
                    session,
                    url=record["url"],
                    reason=DUPLICATE,
                    run_id=self.run_id,
                    http_status=record["http_status"],
                ),
            )
            raise _drop(self.crawler, DUPLICATE, item.page.url)
        # The item Scrapy's feed exports write: the record exactly as `crawler export` gives it.
        return json_record_from_article(record)

    async def _write(self, url: str, op: Callable[[Session], Any]) -> Any:
        """Run ``op(session)`` (a write about ``url``) in the next batch's transaction; its result."""
        return await self.archive.write(url, op)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        """Close the crawl_runs row (in the writer thread, after every write of the crawl)."""
        stats = self.crawler.stats.get_stats()
        counts = run_counts(stats)
        failures = counts["failures"]
        for key in ("requested", "not_modified", "not_requested", "changed", "unchanged"):
            self.crawler.stats.set_value(f"run/{key}", counts[key])
        self.crawler.stats.set_value("run/new", counts["archived"])
        logger.info(
            "crawl run %s: requested %d, not modified %d, not requested %d, new %d, changed %d, "
            "unchanged %d, failed %s, skipped %s",
            self.run_id,
            counts["requested"],
            counts["not_modified"],
            counts["not_requested"],
            counts["archived"],
            counts["changed"],
            counts["unchanged"],
            failures or 0,
            counts["skipped"] or 0,
        )
        if self.run_id is not None:
            run_id = self.run_id
            try:
                await self.archive.transaction(
                    lambda session: finish_run(session, run_id, reason=reason, counts=counts)
                )
            except StorageFault as exc:
                logger.warning("the end of crawl run %s is not recorded: %s", run_id, exc)
        if self.archive.writer.retries:
            self.crawler.stats.set_value("archive/retried_transactions", self.archive.writer.retries)


def run_counts(stats: dict[str, Any]) -> dict[str, Any]:
    """The counts of a crawl_runs row (see :func:`archive.store.finish_run`) from Scrapy's stats."""
    skipped = {str(r): int(stats.get(f"skipped/{r}", 0)) for r in sorted(SKIP_REASONS)}
    skipped.update({k.split("/", 1)[1]: int(v) for k, v in stats.items() if k.startswith("skipped/")})
    failures = {k.split("/", 1)[1]: int(v) for k, v in stats.items() if k.startswith("failed/")}
    return {
        "pages_fetched": int(stats.get("discovery/html_pages", 0)),
        "archived": int(stats.get(f"archive/{NEW}", 0)),
        "updated": int(stats.get("archive/changed", 0)) + int(stats.get(f"archive/{UNCHANGED}", 0)),
        "failed": sum(failures.values()),
        "skipped": {k: v for k, v in skipped.items() if v},
        "requested": int(stats.get("downloader/request_count", 0)),
        # Every request answered 304: archived articles and cached pages (sections, sitemaps, feeds).
        "not_modified": int(stats.get("incremental/not_modified", 0))
        + int(stats.get("incremental/cache_not_modified", 0)),
        "not_requested": int(stats.get("incremental/not_requested", 0)),
        "changed": int(stats.get("archive/changed", 0)),
        "unchanged": int(stats.get(f"archive/{UNCHANGED}", 0)),
        "failures": failures,
    }


class RecordPipeline:
    """Last in line: what reaches Scrapy's feed exports is always the clean record.

    With an archive, StorePipeline already turned each article into its record; without one
    (ARCHIVE_URL empty), this shapes extracted pages the same way and drops failure records.
    """

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ExtractedPage):
            record = article_record(item.page, item.article, keep_html=False, extraction=item.extraction)
            return json_record_from_article(record)
        if isinstance(item, FetchFailed | NotModifiedPage):
            raise DropItem(f"not an article ({type(item).__name__}): {item.url}", log_level="DEBUG")
        return item

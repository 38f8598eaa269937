"""Scrapy item pipelines: thin adapters from raw pages to archived articles.

ExtractPipeline turns a RawPage into an ExtractedPage (clean text and language tags, via
crawler.extract) or drops it with a counted reason; StorePipeline writes it to the archive,
records failed fetches, and keeps the crawl_runs row of the crawl. The item that leaves
StorePipeline is the clean record, so ``scrapy crawl article -O items.jsonl`` exports it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy.orm import Session

from archive.boilerplate import learned_lines, record_lines
from archive.db import ArchiveError, make_engine, make_sessionmaker, run_transaction
from archive.export import json_record_from_article
from archive.faults import StorageFault, retry_while_locked
from archive.store import (
    DUPLICATE,
    NEW,
    UNCHANGED,
    compress_html,
    content_hash,
    extraction_columns,
    finish_run,
    mark_checked,
    record_failure,
    start_run,
    store_article,
    utcnow,
)
from crawler.extract import EXTRACTOR_VERSION, ExtractOptions, extract, lines_for_learning
from crawler.items import Article, FetchFailed, NotModifiedPage, RawPage
from crawler.pool import ExtractionPool, TaskFailed, TaskMemory, TaskTimeout, use_batch_scheduling
from crawler.text import word_count

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
from crawler.reasons import SKIP_REASONS, Reason
from crawler.urls import domain_of

logger = logging.getLogger(__name__)

# Reasons an item is dropped; each is a stats counter and a key of crawl_runs.skipped.


@dataclass
class Extraction:
    """What an extraction worker sends back for a page: the article and what the archive needs of
    it, computed there rather than in the crawl process (whose one thread runs the whole crawl)."""

    article: Article
    words: int
    text_hash: str
    lines: list[str] | None = None  # lines_for_learning, when boilerplate learning is on
    html_z: bytes | None = None  # the raw page compressed for article_pages, when it is kept

    @classmethod
    def of(
        cls, article: Article, html: bytes, *, keep_html: bool = False, learn_lines: bool = False
    ) -> Extraction:
        """What the archive needs of ``article``, extracted from the raw page ``html``."""
        text = article.text
        return cls(
            article=article,
            words=word_count(text),
            text_hash=content_hash(text),
            lines=lines_for_learning(article) if learn_lines else None,
            html_z=compress_html(html) if keep_html else None,
        )


def extract_page(
    html: bytes,
    url: str,
    *,
    content_language: str | None = None,
    content_type: str | None = None,
    options: ExtractOptions | None = None,
    keep_html: bool = False,
    learn_lines: bool = False,
    fetched_at: datetime | None = None,
) -> Extraction | None:
    """Run in an extraction worker: :func:`crawler.extract.extract` and the per-article work that
    follows it (word count, content hash, lines to learn from, compressed raw page). ``fetched_at``:
    when the page was fetched (no publication date is later)."""
    article = extract(
        html,
        url,
        content_language=content_language,
        content_type=content_type,
        options=options,
        fetched_at=fetched_at,
    )
    if article is None:
        return None
    return Extraction.of(article, html, keep_html=keep_html, learn_lines=learn_lines)


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
        self.site_lines = SiteLinesCache.from_settings(settings)
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
            preload=["pipelines", "crawler.pool_warmup"],
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
        async with self._slots:
            options = self.site_lines.options_for(domain_of(item.final_url))
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
    """Per-site boilerplate lines learned in the archive, for the extractor's options.

    Read once per site and again every ``refresh`` pages of it, so that what a crawl learns
    is used while it goes on, at the cost of one small query per site now and then.
    """

    def __init__(self, url: str | None, refresh: int = 50) -> None:
        self.Session = make_sessionmaker(make_engine(url)) if url else None
        self.refresh = refresh
        self._cache: dict[str, tuple[int, ExtractOptions | None]] = {}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> SiteLinesCache:
        url = settings.get("ARCHIVE_URL") if settings.getbool("CRAWLER_LEARN_BOILERPLATE", True) else None
        try:
            return cls(url or None)
        except ArchiveError:  # StorePipeline reports an unusable archive
            return cls(None)

    def options_for(self, domain: str) -> ExtractOptions | None:
        if self.Session is None:
            return None
        seen, options = self._cache.get(domain, (0, None))
        if seen % self.refresh == 0:
            with self.Session() as session:
                lines = learned_lines(session, domain)
            options = ExtractOptions(site_boilerplate=lines) if lines else None
        self._cache[domain] = (seen + 1, options)
        return options


def _store(session: Session, record: dict[str, Any], lines: list[str] | None) -> str:
    """Store one article; a new one also counts its lines for the site's boilerplate learning."""
    outcome = store_article(session, record)
    if outcome == NEW and lines is not None:
        record_lines(session, record["domain"], lines)
    return outcome


def article_record(
    page: RawPage, article: Article, *, keep_html: bool = True, extraction: Extraction | None = None
) -> dict[str, Any]:
    """The archive row (and exported item) for an extracted page.

    With ``keep_html`` the record also carries the compressed raw page (``html_z``, kept in
    ``article_pages`` for re-extraction); StorePipeline removes it from the item it passes on.
    What the worker computed (``extraction``) is used rather than computed again.
    """
    columns = extraction_columns(
        article,
        page.final_url,
        words=extraction.words if extraction else word_count(article.text),
        extractor_version=EXTRACTOR_VERSION,
        text_hash=extraction.text_hash if extraction else None,
    )
    html_z = None
    if keep_html:
        html_z = extraction.html_z if extraction and extraction.html_z else compress_html(page.html)
    return {
        "url": page.url,
        "domain": domain_of(page.final_url),
        **columns,
        "fetched_at": page.fetched_at,
        "http_status": page.status,
        "etag": page.etag,
        "last_modified": page.last_modified,
        "final_url": page.final_url,
        "content_type": page.content_type,
        "content_language": page.content_language,
        "html_z": html_z,
    }


class StorePipeline:
    """Store articles in the archive (ARCHIVE_URL) and keep the crawl's run record."""

    def __init__(self, crawler: Crawler, url: str) -> None:
        self.crawler = crawler
        try:
            self.engine = make_engine(url)
        except ArchiveError as exc:
            raise NotConfigured(str(exc)) from exc
        self.Session = make_sessionmaker(self.engine)
        self.run_id: int | None = None
        self.keep_html = crawler.settings.getbool("ARCHIVE_KEEP_HTML", True)
        self.learn_lines = crawler.settings.getbool("CRAWLER_LEARN_BOILERPLATE", True)
        # Writes are batched: one transaction per ARCHIVE_BATCH_SIZE records or ARCHIVE_BATCH_SECONDS,
        # run by one writer thread so the reactor never waits for the database.
        self.batch_size = max(1, crawler.settings.getint("ARCHIVE_BATCH_SIZE", 100))
        self.batch_seconds = crawler.settings.getfloat("ARCHIVE_BATCH_SECONDS", 0.2)
        self._pending: list[tuple[str, Callable[[Session], Any], asyncio.Future[Any]]] = []
        self.retries = 0  # transactions run again after a deadlock (set by the writer thread)
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Future[list[tuple[bool, Any]]]] = set()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="archive-writer")
        # A locked database is waited for up to this long; a fault of the database stops the crawl.
        self.lock_wait = crawler.settings.getfloat("ARCHIVE_LOCK_WAIT", 300)
        self.fault: StorageFault | None = None
        self._closing: asyncio.Future[Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        url = crawler.settings.get("ARCHIVE_URL")
        if not url:
            raise NotConfigured("ARCHIVE_URL is empty: not archiving")
        pipeline = cls(crawler, url)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        assert spider is not None  # Scrapy opens pipelines once the crawl has its spider
        arguments = {
            "start": [entry[0] for entry in getattr(spider, "start_entries", [])][:100],
            "max_depth": getattr(spider, "max_depth", None),
            "max_pages": getattr(spider, "max_pages", None),
        }
        self.run_id = self._transaction(lambda session: start_run(session, spider.name, arguments))
        self.crawler.stats.set_value("archive/run_id", self.run_id)

    async def process_item(self, item: Any) -> Any:
        try:
            return await self._process_item(item)
        except StorageFault as exc:  # the crawl is stopping (see _stop); the page is fetched next run
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
        outcome = await self._write(record["url"], lambda session: _store(session, record, lines))
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

    # -- batched writes ----------------------------------------------------------------------

    async def _write(self, url: str, op: Callable[[Session], Any]) -> Any:
        """Run ``op(session)`` (a write about ``url``) in the next batch's transaction; its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((url, op, future))
        if len(self._pending) >= self.batch_size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.batch_seconds, self._flush)
        return await future

    def _flush(self) -> None:
        """Hand the pending writes to the writer thread (batches run one after another, in order)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(self._writer, self._write_batch, [(url, op) for url, op, _ in batch])
        self._flushes.add(done)

        def resolve(done: asyncio.Future[list[tuple[bool, Any]]]) -> None:
            self._flushes.discard(done)
            error = done.exception()
            results: list[tuple[bool, Any]]
            if error is not None:
                results = [(False, error)] * len(batch)
            else:
                results = done.result()
            for ok, value in results:
                if not ok and isinstance(value, StorageFault):
                    self._stop(value)
                    break
            for (_, _, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

        done.add_done_callback(resolve)

    def _retried(self, _: BaseException) -> None:
        self.retries += 1

    def _transaction(self, op: Callable[[Session], Any]) -> Any:
        """``op(session)`` in one transaction: run again after a deadlock (:func:`run_transaction`),
        and while the database is locked (up to ARCHIVE_LOCK_WAIT); a fault of the database raises
        StorageFault, rolled back whole."""
        return retry_while_locked(
            lambda: run_transaction(self.Session, op, on_retry=self._retried), wait=self.lock_wait
        )

    def _write_batch(self, ops: list[tuple[str, Callable[[Session], Any]]]) -> list[tuple[bool, Any]]:
        """In the writer thread: all ``ops`` in one transaction, in URL order on a server database
        (writers that lock rows in the same order do not deadlock; on SQLite, in the order they
        came); if it fails, one transaction each, so that an error lands on the record that caused
        it and the others are kept. Once the database has failed (StorageFault), nothing more is
        tried. Results come back in the order of ``ops``."""
        if self.fault is not None:
            return [(False, self.fault)] * len(ops)
        order = list(range(len(ops)))
        if self.engine.dialect.name != "sqlite":  # SQLite's database lock serialises writers anyway
            order.sort(key=lambda i: ops[i][0])

        def run_all(session: Session) -> list[Any]:
            return [ops[i][1](session) for i in order]

        results: list[tuple[bool, Any]] = [(False, None)] * len(ops)
        try:
            for i, value in zip(order, self._transaction(run_all), strict=True):
                results[i] = (True, value)
            return results
        except StorageFault as exc:
            self.fault = exc
            return [(False, exc)] * len(ops)
        except Exception as exc:  # noqa: BLE001 - redone one by one below, each error reported
            if len(ops) == 1:
                return [(False, exc)]
            logger.warning("batch of %d writes failed (%s); writing them one by one", len(ops), exc)
        for i in order:
            try:
                results[i] = (True, self._transaction(ops[i][1]))
            except StorageFault as exc:
                self.fault = exc
                results[i] = (False, exc)
            except Exception as exc:  # noqa: BLE001 - raised again in that item's process_item
                results[i] = (False, exc)
        return results

    def _stop(self, fault: StorageFault) -> None:
        """Stop the crawl, once, for a fault of the database: its message is the crawl's last word
        (``archive/fault``), its kind the finish reason."""
        stats = self.crawler.stats
        if stats.get_value("archive/fault") is not None:
            return
        stats.set_value("archive/fault", str(fault))
        logger.info("stopping the crawl: %s", fault)
        engine = self.crawler.engine
        if engine is None:
            return
        if hasattr(engine, "close_spider_async"):  # Scrapy 2.14+; this runs on the reactor's loop
            self._closing = asyncio.ensure_future(engine.close_spider_async(reason=fault.kind))
        elif self.crawler.spider is not None:
            engine.close_spider(self.crawler.spider, fault.kind)

    async def close_spider(self) -> None:
        self._flush()
        while self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        self._writer.shutdown(wait=True)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        counts = run_counts(stats)
        failures = counts["failures"]
        for key in ("requested", "not_modified", "not_requested", "changed", "unchanged"):
            self.crawler.stats.set_value(f"run/{key}", counts[key])
        if self.retries:
            self.crawler.stats.set_value("archive/retried_transactions", self.retries)
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
                self._transaction(lambda session: finish_run(session, run_id, reason=reason, counts=counts))
            except StorageFault as exc:
                logger.warning("the end of crawl run %s is not recorded: %s", run_id, exc)
        self.engine.dispose()


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

"""What a crawl or a WARC ingest writes for an extracted page, and how it reaches the archive.

:func:`article_record` builds the archive row of an extracted page; :func:`store_record` stores it
and counts its lines for the site's boilerplate learning; :class:`BatchWriter` runs such writes in
transactions of up to ``batch_size`` writes or every ``batch_seconds``, in one writer thread.
:class:`ArchiveAccess` is the one way into the archive of a crawl or an ingest: one engine, its
sessionmaker, the batching writer and one reader thread, so that an asyncio caller (Scrapy's
reactor, the ingest loop) never runs a database call on its own thread. Nothing here knows Scrapy
or runs the extractor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from archive.boilerplate import learned_lines, record_lines
from archive.db import make_engine, make_sessionmaker, run_transaction
from archive.faults import StorageFault, retry_while_locked
from archive.store import NEW, compress_html, extraction_columns, store_article
from crawler.items import Article, RawPage
from crawler.text import word_count
from crawler.urls import domain_of

__all__ = ["ArchiveAccess", "BatchWriter", "SiteLines", "article_record", "store_record"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

T = TypeVar("T")


def store_record(session: Session, record: dict[str, Any], lines: list[str] | None) -> str:
    """Store one article; a new one also counts its lines for the site's boilerplate learning."""
    outcome = store_article(session, record)
    if outcome == NEW and lines is not None:
        record_lines(session, record["domain"], lines)
    return outcome


def article_record(
    page: RawPage,
    article: Article,
    *,
    extractor_version: str,
    keep_html: bool = True,
    extraction: Any = None,
) -> dict[str, Any]:
    """The archive row (and exported item) for an extracted page.

    With ``keep_html`` the record also carries the compressed raw page (``html_z``, kept in
    ``article_pages`` for re-extraction). What the worker computed (``extraction``, a
    :class:`crawler.worker.Extraction`) is used rather than computed again.
    """
    columns = extraction_columns(
        article,
        page.final_url,
        words=extraction.words if extraction else word_count(article.text),
        extractor_version=extractor_version,
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
        **_warc_columns(page.warc_record),
    }


def _warc_columns(location: tuple[str, int, str, str | None] | None) -> dict[str, Any]:
    """The ``articles.warc_*`` columns of a page's WARC record (none when it has no record)."""
    if location is None:
        return {}
    file, offset, record_id, digest = location
    return {"warc_file": file, "warc_offset": offset, "warc_record_id": record_id, "payload_digest": digest}


class SiteLines:
    """Per-site boilerplate lines learned in the archive, read once per site and again every
    ``refresh`` pages of it, so that what a crawl learns is used while it goes on, at the cost of
    one small query per site now and then, run in the reader thread of ``archive``. ``archive``
    None: nothing learned is used."""

    def __init__(self, archive: ArchiveAccess | None, refresh: int = 50) -> None:
        self.archive = archive
        self.refresh = refresh
        self._cache: dict[str, tuple[int, frozenset[str]]] = {}
        self._reading: dict[str, asyncio.Future[frozenset[str]]] = {}

    async def lines_for(self, domain: str) -> frozenset[str]:
        """The lines learned as boilerplate of ``domain`` (possibly ``refresh`` pages old). Pages
        of the site that come while its lines are read wait for that same read."""
        if self.archive is None:
            return frozenset()
        seen, lines = self._cache.get(domain, (0, frozenset()))
        self._cache[domain] = (seen + 1, lines)
        reading = self._reading.get(domain)
        if reading is not None:
            return await asyncio.shield(reading)
        if seen % self.refresh:
            return lines
        archive = self.archive
        reading = asyncio.ensure_future(archive.read(lambda session: learned_lines(session, domain)))
        self._reading[domain] = reading
        try:
            lines = await reading
        finally:
            del self._reading[domain]
        self._cache[domain] = (self._cache[domain][0], lines)
        return lines


class BatchWriter:
    """Writes run in batches: one transaction per ``batch_size`` writes or ``batch_seconds``, run by
    one writer thread. Use from a running asyncio loop; :meth:`close` waits for every write."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        batch_size: int = 100,
        batch_seconds: float = 0.2,
        lock_wait: float = 300,
        on_fault: Callable[[StorageFault], None] | None = None,
    ) -> None:
        self.Session = sessions
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        # A locked database is waited for up to ``lock_wait`` seconds; a fault of the database
        # (StorageFault) fails every write after it and is reported once to ``on_fault``.
        self.lock_wait = lock_wait
        self.on_fault = on_fault
        self.fault: StorageFault | None = None
        self.retries = 0  # transactions run again after a deadlock (set by the writer thread)
        self._pending: list[tuple[str, Callable[[Session], Any], asyncio.Future[Any]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Future[list[tuple[bool, Any]]]] = set()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="archive-writer")
        bind = sessions.kw.get("bind")
        self._sort = bind is not None and bind.dialect.name != "sqlite"
        self._fault_reported = False

    async def write(self, url: str, op: Callable[[Session], Any]) -> Any:
        """Run ``op(session)`` (a write about ``url``) in the next batch's transaction; its result."""
        return await self.submit(url, op)

    def submit(self, url: str, op: Callable[[Session], Any]) -> asyncio.Future[Any]:
        """:meth:`write` without waiting: ``op`` is queued at once (before :meth:`close` waits for
        what is queued); the future holds its result. Call it on the running loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((url, op, future))
        if len(self._pending) >= self.batch_size:
            self.flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.batch_seconds, self.flush)
        return future

    async def run(self, op: Callable[[Session], T]) -> T:
        """``op(session)`` in a transaction of its own (:meth:`transaction`) in the writer thread,
        after every write queued before it; its result. For the one-off writes of a run (its
        crawl_runs row), which wait for no batch timer."""
        self.flush()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self.transaction, op)

    def flush(self) -> None:
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
                    self._report(value)
                    break
            for (_, _, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

        done.add_done_callback(resolve)

    def _report(self, fault: StorageFault) -> None:
        if not self._fault_reported and self.on_fault is not None:
            self._fault_reported = True
            self.on_fault(fault)

    def _retried(self, _: BaseException) -> None:
        self.retries += 1

    def transaction(self, op: Callable[[Session], Any]) -> Any:
        """``op(session)`` in one transaction: run again after a deadlock (:func:`run_transaction`),
        and while the database is locked (up to ``lock_wait``); a fault of the database raises
        StorageFault, rolled back whole. Blocking: call it from the writer thread or outside a loop."""
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
        if self._sort:  # SQLite's database lock serialises writers anyway
            order.sort(key=lambda i: ops[i][0])

        def run_all(session: Session) -> list[Any]:
            return [ops[i][1](session) for i in order]

        results: list[tuple[bool, Any]] = [(False, None)] * len(ops)
        try:
            for i, value in zip(order, self.transaction(run_all), strict=True):
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
                results[i] = (True, self.transaction(ops[i][1]))
            except StorageFault as exc:
                self.fault = exc
                results[i] = (False, exc)
            except Exception as exc:  # noqa: BLE001 - raised again in that item's caller
                results[i] = (False, exc)
        return results

    async def close(self) -> None:
        """Write what is pending, wait for every batch, stop the writer thread."""
        self.flush()
        while self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        self._writer.shutdown(wait=True)


class ArchiveAccess:
    """One crawl's (or one ingest's) way into the archive, from an asyncio loop: one engine and its
    sessionmaker, the :class:`BatchWriter` (writes, in the writer thread) and one reader thread
    (:meth:`read`), so that no database call runs on the loop's thread. Reads do not wait for the
    writer: neither for its batch timer nor behind a batch that waits for a locked database.

    Made with :meth:`open` (an engine of its own, disposed by :meth:`close`) or around a caller's
    ``sessions`` (whose engine the caller disposes). :meth:`close` waits for every write and read.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        batch_size: int = 100,
        batch_seconds: float = 0.2,
        lock_wait: float = 300,
        on_fault: Callable[[StorageFault], None] | None = None,
        dispose: bool = False,
    ) -> None:
        self.Session = sessions
        self.writer = BatchWriter(
            sessions,
            batch_size=batch_size,
            batch_seconds=batch_seconds,
            lock_wait=lock_wait,
            on_fault=on_fault,
        )
        self._dispose = dispose
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="archive-reader")
        self._reads: set[asyncio.Future[Any]] = set()
        self.closed = False

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> ArchiveAccess:
        """The archive at ``url`` (:func:`archive.db.make_engine`: ArchiveError when it cannot be
        opened) with an engine of its own. Opening reads the schema: do it before the loop runs
        or before any work is scheduled."""
        return cls(make_sessionmaker(make_engine(url)), dispose=True, **kwargs)

    async def read(self, op: Callable[[Session], T]) -> T:
        """``op(session)`` in a session of its own, in the reader thread; its result."""
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._reader, self._read, op)
        self._reads.add(future)
        future.add_done_callback(self._reads.discard)
        return await future

    def _read(self, op: Callable[[Session], T]) -> T:
        with self.Session() as session:
            return op(session)

    async def write(self, url: str, op: Callable[[Session], Any]) -> Any:
        """:meth:`BatchWriter.write`."""
        return await self.writer.write(url, op)

    def submit(self, url: str, op: Callable[[Session], Any]) -> asyncio.Future[Any]:
        """:meth:`BatchWriter.submit`."""
        return self.writer.submit(url, op)

    async def transaction(self, op: Callable[[Session], T]) -> T:
        """:meth:`BatchWriter.run`: ``op`` in a transaction of its own in the writer thread."""
        return await self.writer.run(op)

    async def close(self) -> None:
        """Wait for every write and read, stop both threads, dispose of an engine of its own (in
        the reader thread: closing the last SQLite connection may checkpoint the WAL). Once."""
        if self.closed:
            return
        self.closed = True
        await self.writer.close()
        while self._reads:
            await asyncio.gather(*self._reads, return_exceptions=True)
        if self._dispose:
            bind = self.Session.kw["bind"]
            await asyncio.get_running_loop().run_in_executor(self._reader, bind.dispose)
        self._reader.shutdown(wait=True)

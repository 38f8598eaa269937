"""Ingest web-archive (WARC) files: the response records of a WARC go through the crawl's extraction
and storage, with no fetching.

:func:`read_records` reads a WARC file (gzip per record or plain) with warcio and yields one
:class:`WarcEntry` per record, its payload read; a record that does not parse, or a file cut in the
middle of one, becomes a :class:`CorruptRecord` and reading goes on at the next record (the next
gzip member, or the next ``WARC/`` line of a plain file). :func:`ingest` runs the HTML response
records of many files through the crawl's worker pool (:func:`crawler.worker.extract_page`) and
writes them with the crawl's writer (:mod:`archive.writer`): the same extraction, language tags,
dedup, boilerplate learning and rows as a crawl, each row pointing to its WARC record. Everything
else is skipped and counted by reason (:class:`crawler.reasons.Reason`).

Each file is recorded in ``warc_files``; one fully read is skipped by a later ingest (same path and
size, or same digest). A file whose ingest was interrupted is read again from its start: its
records already stored update their rows to the same values (re-ingesting a record never makes a
second article).

Several ingests may share one archive and overlapping file lists: a file is claimed while it is read
(:class:`_FileClaim`: on PostgreSQL an advisory lock keyed by the file's digest, which every machine
writing to that database sees; on SQLite an ``flock`` on the file, seen by this machine's
processes). A file claimed by another ingest is put off to the end of the list, then waited for: if
its reader finished it, it is not read again; if its reader died, this ingest reads it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import functools
import hashlib
import io
import logging
import os
import zlib
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session, sessionmaker
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archive.models import WarcFile
from archive.store import CHANGED, DUPLICATE, NEW, finish_run, record_failure, start_run, utcnow
from archive.writer import ArchiveAccess, SiteLines, article_record, store_record
from crawler.extract import EXTRACTOR_VERSION, ExtractOptions
from crawler.incremental import parse_time
from crawler.items import RawPage, is_html
from crawler.pool import ExtractionPool, TaskFailed, TaskMemory, TaskTimeout
from crawler.reasons import Reason, http_reason
from crawler.urls import domain_of
from crawler.worker import Extraction, extract_page

__all__ = [
    "CorruptRecord",
    "FileCounts",
    "IngestOptions",
    "IngestResult",
    "WarcEntry",
    "file_digest",
    "ingest",
    "read_records",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = b"WARC/1."
_SCAN = 1 << 20
# What reading a damaged record raises: warcio's own error, a bad gzip member, a cut file.
_READ_ERRORS = (ArchiveLoadFailed, EOFError, OSError, ValueError, IndexError, zlib.error)


@dataclass(frozen=True)
class WarcEntry:
    """One WARC record as read: its headers of interest and (responses, revisits) its HTTP payload."""

    offset: int  # where the record (its gzip member) begins in the file
    rec_type: str
    url: str | None
    date: datetime | None  # WARC-Date, naive UTC
    record_id: str | None
    truncated: str | None  # WARC-Truncated
    status: int | None = None
    content_type: str | None = None
    content_language: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    payload: bytes = field(default=b"", repr=False)  # content-decoded (chunked, gzip)
    payload_digest: str | None = None
    too_large: bool = False


@dataclass(frozen=True)
class CorruptRecord:
    """A record at ``offset`` that could not be read (``error``); reading went on after it."""

    offset: int
    error: str


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_time(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, datetime) else datetime.combine(parsed, time())


def _one_line(exc: BaseException) -> str:
    """An error as one short printable line (warcio quotes the bytes it could not parse)."""
    text = " ".join((str(exc) or type(exc).__name__).split())
    return "".join(ch if ch.isprintable() and ch.isascii() else ascii(ch)[1:-1] for ch in text)[:200]


def _sha1_digest(data: bytes) -> str:
    """A payload digest as WARC writes it: ``sha1:`` and the base-32 SHA-1."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _entry(record: Any, offset: int, max_size: int) -> WarcEntry:
    """Read the record's payload (responses and revisits) and headers, as the iterator stands on it."""
    headers = record.rec_headers
    http = record.http_headers
    payload = b""
    too_large = False
    status = None
    if record.rec_type in ("response", "revisit") and http is not None:
        status = int(http.get_statuscode() or 0) or None
        payload = record.content_stream().read(max_size + 1)
        too_large = len(payload) > max_size
        if too_large:
            payload = b""
        while record.raw_stream.read(_SCAN):  # the rest of the record, to see whether it is all there
            pass
        if record.raw_stream.limit > 0:
            raise EOFError(f"record cut {record.raw_stream.limit} bytes short of its Content-Length")
    return WarcEntry(
        offset=offset,
        rec_type=record.rec_type,
        url=headers.get_header("WARC-Target-URI"),
        date=_warc_date(headers.get_header("WARC-Date")),
        record_id=headers.get_header("WARC-Record-ID"),
        truncated=headers.get_header("WARC-Truncated"),
        status=status,
        content_type=http.get_header("Content-Type") if http is not None else None,
        content_language=http.get_header("Content-Language") if http is not None else None,
        etag=http.get_header("ETag") if http is not None else None,
        last_modified=http.get_header("Last-Modified") if http is not None else None,
        payload=payload,
        payload_digest=headers.get_header("WARC-Payload-Digest")
        or (_sha1_digest(payload) if payload else None),
        too_large=too_large,
    )


def _next_start(fh: IO[bytes], after: int, marker: bytes) -> int | None:
    """The offset of the next ``marker`` (a gzip member's or a WARC record's first bytes) after ``after``."""
    position = after + 1
    fh.seek(position)
    tail = b""
    while True:
        chunk = fh.read(_SCAN)
        if not chunk:
            return None
        data = tail + chunk
        found = data.find(marker)
        while found != -1 and marker == _WARC_LINE and found > 0 and data[found - 1 : found] != b"\n":
            found = data.find(marker, found + 1)
        if found != -1:
            return position - len(tail) + found
        tail = data[-(len(marker)) :]
        position += len(chunk)


def read_records(
    path: str | os.PathLike[str], *, max_size: int = 20 * 1024 * 1024
) -> Iterator[WarcEntry | CorruptRecord]:
    """Every record of the WARC file at ``path``, in order; a damaged one as a :class:`CorruptRecord`.

    Payloads over ``max_size`` bytes are not kept (``too_large``).
    """
    with open(path, "rb") as fh:
        gzipped = fh.read(3) == _GZIP_MAGIC
        marker = _GZIP_MAGIC if gzipped else _WARC_LINE
        start: int | None = 0
        while start is not None:
            fh.seek(start)
            records = ArchiveIterator(fh)
            failed_at: int | None = None
            while True:
                at = records.offset  # where the next record begins
                try:
                    record = next(records)
                    entry = _entry(record, at, max_size)
                    errors = records.err_count
                    with contextlib.redirect_stderr(io.StringIO()):  # warcio prints its warnings there
                        records.get_record_offset()  # past the record: a cut member shows here
                    if records.err_count != errors:
                        raise ArchiveLoadFailed("record not followed by a blank line: wrong Content-Length")
                except StopIteration:
                    break
                except _READ_ERRORS as exc:
                    failed_at = at
                    yield CorruptRecord(at, _one_line(exc))
                    break
                yield entry
            start = None if failed_at is None else _next_start(fh, failed_at, marker)


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_SCAN):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class IngestOptions:
    """What to ingest and how (the CLI fills it from its options and the project's settings)."""

    sites: frozenset[str] = frozenset()  # domains (and their subdomains); empty: all
    langs: frozenset[str] = frozenset()  # ISO 639-1; empty: all
    since: date | datetime | None = None  # on WARC-Date
    until: date | datetime | None = None
    max_records: int | None = None  # stop after reading this many records (of every type)
    min_words: int = 20
    workers: int = 0  # 0: one per CPU
    timeout: float = 5.0
    max_pages_per_worker: int = 500
    max_memory: int | None = None
    queue_size: int = 0  # 0: twice the workers
    keep_html: bool = True
    learn_boilerplate: bool = True
    batch_size: int = 100
    batch_seconds: float = 0.2
    max_size: int = 20 * 1024 * 1024


@dataclass
class FileCounts:
    """What came of one file's records."""

    records: int = 0  # records read, of every type
    responses: int = 0  # HTTP response records (any status)
    archived: int = 0  # new articles
    changed: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    def add(self, other: FileCounts) -> None:
        self.records += other.records
        self.responses += other.responses
        self.archived += other.archived
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.skipped.update(other.skipped)
        self.failures.update(other.failures)


@dataclass
class IngestResult:
    """What an ingest did: totals, the run's id, and the files read, already done, or missing."""

    run_id: int
    counts: FileCounts = field(default_factory=FileCounts)
    files_read: list[str] = field(default_factory=list)
    files_done_before: list[str] = field(default_factory=list)
    stopped_early: bool = False  # --max-records reached


def _in_time(moment: datetime | None, since: date | datetime | None, until: date | datetime | None) -> bool:
    if since is None and until is None:
        return True
    if moment is None:
        return False
    if since is not None:
        start = since if isinstance(since, datetime) else datetime.combine(since, time.min)
        if moment < start:
            return False
    if until is not None:
        end = until if isinstance(until, datetime) else datetime.combine(until, time.max)
        if moment > end:
            return False
    return True


def _in_sites(url: str, sites: frozenset[str]) -> bool:
    if not sites:
        return True
    domain = domain_of(url)
    return domain in sites or any(domain.endswith("." + site) for site in sites)


_RECORD_REASONS = {
    "request": Reason.WARC_REQUEST,
    "metadata": Reason.WARC_METADATA,
    "warcinfo": Reason.WARC_INFO,
}


def _skip_reason(entry: WarcEntry, options: IngestOptions) -> str | None:
    """Why a record is not a page to extract (None: it is one)."""
    if entry.rec_type not in ("response", "revisit"):
        return _RECORD_REASONS.get(entry.rec_type, Reason.OTHER_RECORD)
    if entry.status is None or not entry.url:
        return Reason.OTHER_RECORD  # a response record that holds no HTTP response (dns:, a resource)
    if entry.rec_type == "revisit" and not entry.payload:
        return Reason.REVISIT
    if entry.truncated:
        return Reason.TRUNCATED
    if not _in_sites(entry.url, options.sites) or not _in_time(entry.date, options.since, options.until):
        return Reason.FILTERED
    if entry.status != 200:
        return http_reason(entry.status)
    if entry.too_large:
        return Reason.TOO_LARGE
    if not is_html(entry.content_type, entry.payload):
        return Reason.NON_HTML
    return None


# Reasons of records that are pages: recorded in fetch_failures with their URL, as a crawl does.
_PAGE_REASONS = frozenset({Reason.TRUNCATED, Reason.TOO_LARGE, Reason.NON_HTML})


class _Ingest:
    """One ingest run: the pool, the archive (:class:`archive.writer.ArchiveAccess`: writes in its
    writer thread, reads in its reader thread, none on the loop's), the per-site learned lines,
    the counts."""

    def __init__(
        self,
        Session: sessionmaker[Session],
        options: IngestOptions,
        on_progress: Callable[[str, FileCounts, FileCounts], None] | None,
    ) -> None:
        self.archive = ArchiveAccess(
            Session, batch_size=options.batch_size, batch_seconds=options.batch_seconds
        )
        self.writer = self.archive.writer
        self.options = options
        self.on_progress = on_progress
        self.workers = options.workers or os.cpu_count() or 1
        self.site_lines = SiteLines(self.archive if options.learn_boilerplate else None)
        self.queue_size = options.queue_size or 2 * self.workers
        self.extracting = asyncio.Semaphore(self.queue_size)
        self.pool: ExtractionPool | None = None
        self.run_id = 0

    async def _fail(self, url: str, reason: str, status: int | None, detail: str | None) -> None:
        """Record a page that is not archived, and why, in fetch_failures (as a crawl does)."""
        await self.writer.write(
            url,
            lambda session: record_failure(
                session, url=url, reason=reason, run_id=self.run_id, http_status=status, detail=detail
            ),
        )

    async def _page(self, entry: WarcEntry, path: str, counts: FileCounts) -> None:
        """Extract and store one HTML response record."""
        assert self.pool is not None and entry.url is not None
        options = self.options
        lines = await self.site_lines.lines_for(domain_of(entry.url))
        try:
            # At most queue_size pages in the pool at once; the writes that follow wait apart from it.
            async with self.extracting:
                future = self.pool.submit(
                    entry.payload,
                    entry.url,
                    content_language=entry.content_language,
                    content_type=entry.content_type,
                    options=ExtractOptions(site_boilerplate=lines) if lines else None,
                    keep_html=options.keep_html,
                    learn_lines=options.learn_boilerplate,
                    fetched_at=entry.date,
                )
                extraction: Extraction | None = await asyncio.wrap_future(future)
        except TaskTimeout as exc:
            return await self._failed(counts, entry, Reason.EXTRACT_TIMEOUT, str(exc))
        except TaskMemory as exc:
            return await self._failed(counts, entry, Reason.EXTRACT_MEMORY, exc.detail)
        except TaskFailed as exc:
            return await self._failed(counts, entry, Reason.EXTRACT_ERROR, exc.detail)
        if extraction is None or extraction.words < options.min_words:
            reason = Reason.NOT_ARTICLE if extraction is None else Reason.EMPTY_BODY
            counts.skipped[reason] += 1
            return await self._fail(entry.url, reason, entry.status, None)
        if options.langs and extraction.article.lang not in options.langs:
            counts.skipped[Reason.FILTERED] += 1
            return None
        page = RawPage(
            url=entry.url,
            final_url=entry.url,
            status=entry.status or 200,
            html=entry.payload,
            content_type=entry.content_type,
            etag=entry.etag,
            last_modified=entry.last_modified,
            content_language=entry.content_language,
            fetched_at=entry.date or utcnow(),
            source="warc",
            warc_record=(path, entry.offset, entry.record_id or "", entry.payload_digest),
        )
        record = article_record(
            page,
            extraction.article,
            extractor_version=EXTRACTOR_VERSION,
            keep_html=options.keep_html,
            extraction=extraction,
        )
        learn = extraction.lines if options.learn_boilerplate else None
        outcome = await self.writer.write(entry.url, lambda session: store_record(session, record, learn))
        if outcome == NEW:
            counts.archived += 1
        elif outcome == CHANGED:
            counts.changed += 1
        elif outcome == DUPLICATE:
            counts.skipped[Reason.DUPLICATE] += 1
            await self._fail(entry.url, Reason.DUPLICATE, entry.status, None)
        else:
            counts.unchanged += 1
        return None

    async def _failed(self, counts: FileCounts, entry: WarcEntry, reason: str, detail: str) -> None:
        assert entry.url is not None
        logger.warning("%s: %s (%s)", reason, entry.url, (detail.strip().splitlines() or ["?"])[-1])
        counts.failures[reason] += 1
        await self._fail(entry.url, reason, entry.status, detail[-2000:])

    async def ingest_file(
        self, path: str, size: int, digest: str, total: FileCounts, budget: list[int]
    ) -> bool:
        """Read one file; True when every record was read (not stopped by --max-records)."""

        def start(session: Session) -> int:
            row = session.scalar(
                select(WarcFile)
                .where(WarcFile.path == path, WarcFile.size == size, WarcFile.finished_at.is_(None))
                .order_by(WarcFile.id.desc())
                .limit(1)
            )
            if row is None:
                row = WarcFile(path=path, size=size, sha256=digest, started_at=utcnow(), skipped={})
                session.add(row)
            else:  # interrupted before: read again from the start
                row.sha256, row.started_at = digest, utcnow()
            row.run_id = self.run_id
            session.flush()
            return row.id

        file_id = await self.archive.transaction(start)
        counts = FileCounts()
        # Records in hand at once: enough to fill a write batch while the pool is kept busy.
        in_flight = asyncio.Semaphore(self.options.batch_size + self.queue_size)
        tasks: set[asyncio.Task[None]] = set()
        complete = True

        async def spawn(work: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
            """Run ``work(*args)`` as a task once a place is free (made only when it runs: a record
            dropped by Ctrl-C leaves no coroutine that was never awaited)."""
            await in_flight.acquire()

            async def run() -> None:
                try:
                    await work(*args)
                finally:
                    in_flight.release()

            task = asyncio.create_task(run())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        try:
            for item in read_records(path, max_size=self.options.max_size):
                if budget[0] <= 0:
                    complete = False
                    break
                budget[0] -= 1
                counts.records += 1
                if self.on_progress is not None and counts.records % 50 == 0:
                    self.on_progress(path, counts, total)
                if isinstance(item, CorruptRecord):
                    logger.warning("%s: corrupt record at offset %d (%s)", path, item.offset, item.error)
                    counts.failures[Reason.CORRUPT_RECORD] += 1
                    where = f"{path}#{item.offset}"
                    await spawn(self._fail, where, Reason.CORRUPT_RECORD, None, item.error[:2000])
                    continue
                if item.rec_type in ("response", "revisit") and item.status is not None:
                    counts.responses += 1
                reason = _skip_reason(item, self.options)
                if reason is not None:
                    counts.skipped[reason] += 1
                    if (reason in _PAGE_REASONS or reason.startswith("http_")) and item.url:
                        await spawn(self._fail, item.url, reason, item.status, item.content_type)
                    continue
                await spawn(self._page, item, path, counts)
            results = await asyncio.gather(*tasks, return_exceptions=True)
        except BaseException:
            # Stopped (Ctrl-C): the records in hand are dropped before the writer closes, the file is
            # left unfinished (read again by the next ingest).
            dropped = list(tasks)
            for task in dropped:
                task.cancel()
            await asyncio.gather(*dropped, return_exceptions=True)
            raise
        errors = [r for r in results if isinstance(r, BaseException)]
        total.add(counts)
        if self.on_progress is not None:
            self.on_progress(path, FileCounts(), total)

        def done(session: Session) -> None:
            row = session.get(WarcFile, file_id)
            assert row is not None
            row.records = counts.records
            row.archived = counts.archived
            row.updated = counts.changed + counts.unchanged
            row.failed = sum(counts.failures.values())
            row.skipped = dict(sorted(counts.skipped.items()))
            if complete and not errors:
                row.finished_at = utcnow()

        await self.writer.write(path, done)
        if errors:
            raise errors[0]
        return complete


def _done_before(session: Session, path: str, size: int, digest: str | None = None) -> WarcFile | None:
    """The file's finished row: by path and size, or (``digest`` given) by its content under any path."""
    same = (WarcFile.path == path) & (WarcFile.size == size)
    if digest is not None:
        same = same | (WarcFile.sha256 == digest)
    return session.scalar(select(WarcFile).where(same, WarcFile.finished_at.is_not(None)).limit(1))


# The first half of the PostgreSQL advisory lock keys of WARC files ("warc"); the schema lock
# (archive.db) uses the one-number form, whose first half is 0.
_PG_CLAIM_SPACE = 0x77617263


class _FileClaim:
    """This ingest's hold on one WARC file while it reads it, so that another ingest of the same
    archive does not read it at the same time.

    On PostgreSQL, a session advisory lock keyed by the file's digest on a connection of its own
    (released when the connection ends: a killed ingest leaves no claim); elsewhere an ``flock`` on
    the file itself (released when the process ends).
    """

    def __init__(self, Session: sessionmaker[Session], path: str, digest: str) -> None:
        self.engine = Session.kw["bind"]
        self.path = path
        self.key = int.from_bytes(bytes.fromhex(digest[:8]), "big", signed=True)
        self.conn: Connection | None = None
        self.fd = -1

    def take(self) -> bool:
        """Claim the file; False (and nothing held) when another ingest holds it."""
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:space, :key)"), {"space": _PG_CLAIM_SPACE, "key": self.key}
            ).scalar()
            conn.commit()  # the lock outlives the transaction; no transaction is left open
            if not got:
                conn.close()
                return False
            self.conn = conn
            return True
        fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:space, :key)"),
                    {"space": _PG_CLAIM_SPACE, "key": self.key},
                )
                conn.commit()
            finally:
                conn.invalidate()  # never back to the pool holding a lock, whatever happened above
                conn.close()
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)  # releases the flock


def run_counts(counts: FileCounts) -> dict[str, Any]:
    """The counts of the ingest's crawl_runs row (see :func:`archive.store.finish_run`)."""
    return {
        "pages_fetched": counts.responses,
        "archived": counts.archived,
        "updated": counts.changed + counts.unchanged,
        "failed": sum(counts.failures.values()),
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "skipped": dict(sorted(counts.skipped.items())),
        "failures": dict(sorted(counts.failures.items())),
    }


async def _ingest(
    paths: list[str],
    Session: sessionmaker[Session],
    options: IngestOptions,
    on_progress: Callable[[str, FileCounts, FileCounts], None] | None,
    arguments: dict[str, Any],
) -> IngestResult:
    run = _Ingest(Session, options, on_progress)
    archive = run.archive
    run.run_id = await archive.transaction(lambda session: start_run(session, "ingest", arguments))
    result = IngestResult(run.run_id)
    budget = [options.max_records if options.max_records is not None else 1 << 62]
    reason = "finished"
    try:
        queue = list(paths)
        put_off: set[str] = set()  # files another ingest was reading when we came to them
        while queue:
            path = queue.pop(0)
            size = os.path.getsize(path)
            before = await archive.read(functools.partial(_done_before, path=path, size=size))
            digest = ""
            if before is None:
                digest = await asyncio.to_thread(file_digest, path)
                before = await archive.read(
                    functools.partial(_done_before, path=path, size=size, digest=digest)
                )
            if before is not None:
                result.files_done_before.append(path)
                continue
            if budget[0] <= 0:
                result.stopped_early = True
                break
            claim = _FileClaim(Session, path, digest)
            if not await asyncio.to_thread(claim.take):
                if path not in put_off:  # read the others first, then wait for this one
                    put_off.add(path)
                    logger.info("%s: being read by another ingest; put off to the end", path)
                    queue.append(path)
                    continue
                while not await asyncio.to_thread(claim.take):
                    await asyncio.sleep(0.5)
            try:
                # The other ingest may have finished it meanwhile.
                before = await archive.read(
                    functools.partial(_done_before, path=path, size=size, digest=digest)
                )
                if before is not None:
                    result.files_done_before.append(path)
                    continue
                if run.pool is None:
                    run.pool = ExtractionPool(
                        run.workers,
                        func=extract_page,
                        timeout=options.timeout,
                        max_tasks_per_worker=options.max_pages_per_worker,
                        preload=["crawler.worker", "crawler.pool_warmup"],
                        max_memory=options.max_memory,
                    )
                complete = await run.ingest_file(path, size, digest, result.counts, budget)
            finally:
                claim.release()
            result.files_read.append(path)
            if not complete:
                result.stopped_early = True
                reason = "max_records"
                break
    except Exception:
        reason = "failed"
        raise
    except BaseException:  # Ctrl-C (KeyboardInterrupt, or the loop's task cancelled)
        reason = "interrupted"
        raise
    finally:
        try:
            if run.pool is not None:
                run.pool.close()
            # In the writer thread, after every write of the run.
            await archive.transaction(
                lambda session: finish_run(
                    session, run.run_id, reason=reason, counts=run_counts(result.counts)
                )
            )
        finally:
            await archive.close()
    return result


def ingest(
    paths: list[str],
    Session: sessionmaker[Session],
    options: IngestOptions | None = None,
    *,
    on_progress: Callable[[str, FileCounts, FileCounts], None] | None = None,
    arguments: dict[str, Any] | None = None,
) -> IngestResult:
    """Ingest the WARC files at ``paths`` (absolute) into the archive of ``Session``.

    ``on_progress(path, file_counts, total_counts)`` is called now and then from this thread.
    """
    return asyncio.run(_ingest(paths, Session, options or IngestOptions(), on_progress, arguments or {}))

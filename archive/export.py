"""Streaming export of the archive as clean datasets: JSON Lines, CSV and Parquet.

Rows are read in batches (one streaming query, ``yield_per``) and written as they come, so memory
stays flat whatever the archive's size; Parquet is written one row group per batch with a real
schema (strings, int64, float64, UTC timestamps). The output goes to a temporary file beside the
target and is renamed over it only when complete: an interrupted export leaves no half file under
the target name. Articles with the same content hash are exported once (the oldest row wins);
``dedup="near"`` also drops near-duplicates (MinHash LSH over word shingles, see archive.dedup).

:func:`record_from_article` shapes one article (an ORM row or a mapping of column values) into the
exported record; the Scrapy pipeline uses it too, so ``scrapy crawl article -O items.jsonl`` and
``crawler export`` give the same fields.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, Select, Table, and_, exists, func, select
from sqlalchemy.orm import Session

from archive.models import Article
from crawler.text import remove_controls

__all__ = [
    "ALL_FIELDS",
    "DEFAULT_FIELDS",
    "FORMATS",
    "ExportError",
    "ExportFilter",
    "ExportStats",
    "arrow_schema",
    "count_matching",
    "export",
    "iter_records",
    "join_text",
    "json_record_from_article",
    "parse_fields",
    "record_from_article",
    "stated_offset",
    "to_json_record",
]

logger = logging.getLogger(__name__)

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")

# The default record, in this order.
DEFAULT_FIELDS: tuple[str, ...] = (
    "id",
    "url",
    "canonical_url",
    "site",
    "title",
    "lede",
    "body",
    "text",
    "lang",
    "lang_confidence",
    "author",
    "authors",
    "credit",
    "published",
    "published_offset",
    "modified",
    "modified_offset",
    "fetched_at",
    "word_count",
    "access",
    "truncated",
    "content_hash",
)
# Further fields --fields may ask for.
EXTRA_FIELDS: tuple[str, ...] = (
    "published_source",
    "site_name",
    "declared_lang",
    "lang_source",
    "http_status",
    "etag",
    "last_modified",
    "checked_at",
    "extractor_version",
    "boilerplate_hits",
)
ALL_FIELDS: tuple[str, ...] = DEFAULT_FIELDS + EXTRA_FIELDS

_TS = pa.timestamp("us", tz="UTC")
FIELD_TYPES: dict[str, pa.DataType] = {
    "id": pa.int64(),
    "word_count": pa.int64(),
    "http_status": pa.int64(),
    "boilerplate_hits": pa.int64(),
    "lang_confidence": pa.float64(),
    "published": _TS,
    "modified": _TS,
    "fetched_at": _TS,
    "checked_at": _TS,
    "authors": pa.list_(pa.string()),
    "credit": pa.list_(pa.string()),
    "truncated": pa.bool_(),
}
_TIMESTAMP_FIELDS = frozenset(k for k, v in FIELD_TYPES.items() if v == _TS)
# Stated times: exported as UTC instants, their original offset in a field of its own.
_OFFSET_OF = {"published_offset": "published", "modified_offset": "modified"}

# Record field -> the articles column it comes from (fields not listed are computed).
_COLUMN_OF: dict[str, str] = {f: f for f in ALL_FIELDS if f not in ("site", "text")}
_COLUMN_OF["site"] = "domain"
_COLUMN_OF.update(_OFFSET_OF)
# Columns a record needs, besides its own: text is built from title, lede and body; dedup reads them too.
_TEXT_COLUMNS = ("title", "lede", "body")


class ExportError(Exception):
    """The export cannot run as asked (unknown field, format that cannot go to stdout...)."""


@dataclass(frozen=True)
class ExportFilter:
    """Which articles to export. Dates are inclusive; a date-only ``until`` covers that whole day."""

    langs: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    since: date | datetime | None = None
    until: date | datetime | None = None
    date_field: Literal["fetched", "published", "modified"] = "fetched"
    min_words: int | None = None
    # Only articles whose text is the whole article: not truncated, not behind a paywall.
    complete_only: bool = False


@dataclass
class ExportStats:
    """What an export wrote and skipped."""

    path: str
    format: str
    written: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    matched: int = 0  # rows the filters selected, duplicates included
    fields: tuple[str, ...] = field(default_factory=tuple)


def parse_fields(spec: str | Sequence[str] | None) -> tuple[str, ...]:
    """The field list from ``--fields`` ("title,text,lang" or a sequence); None means the default."""
    if spec is None:
        return DEFAULT_FIELDS
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    fields = tuple(n.strip() for n in names if n.strip())
    if not fields:
        raise ExportError("--fields is empty")
    unknown = [f for f in fields if f not in ALL_FIELDS]
    if unknown:
        raise ExportError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(ALL_FIELDS)}")
    if len(set(fields)) != len(fields):
        raise ExportError("--fields names a field twice")
    return fields


def join_text(title: str | None, lede: str | None, body: str | None) -> str:
    """Title, lede and body as one clean document, parts separated by a blank line."""
    return "\n\n".join(p.strip() for p in (title, lede, body) if p and p.strip())


def _utc(value: datetime) -> datetime:
    """A datetime in UTC; naive values are UTC already (that is what the archive stores)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_published(value: str | datetime | date | None) -> datetime | None:
    """The publication date as an aware UTC datetime (a date alone is midnight UTC), None if unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    text = str(value).strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        logger.debug("unparseable published date %r", text)
        return None


def stated_offset(stamp: str | None) -> str | None:
    """The UTC offset an ISO 8601 time states (``+02:00``; ``Z`` as ``+00:00``), None for a date alone
    or a time without one."""
    if not stamp or len(stamp) <= 10:
        return None
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    offset = parsed.utcoffset()
    if offset is None:
        return None
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _get(article: Any, name: str) -> Any:
    if isinstance(article, Mapping):
        return article.get(name)
    return getattr(article, name, None)


def record_from_article(article: Any, fields: Sequence[str] = DEFAULT_FIELDS) -> dict[str, Any]:
    """The exported record of one article, with Python values (str, int, float, aware UTC datetime).

    ``article`` is an archive ``Article`` row, a SQLAlchemy result row, or a mapping of ``articles``
    column values (as the Scrapy pipeline builds); a missing value (``id`` before storing) is None.
    """
    record: dict[str, Any] = {}
    for name in fields:
        if name == "text":
            value: Any = join_text(_get(article, "title"), _get(article, "lede"), _get(article, "body"))
        elif name == "site":
            value = _get(article, "domain")
            if value is None and isinstance(article, Mapping):
                value = article.get("site")
        else:
            value = _get(article, _COLUMN_OF[name])
        if value is not None:
            if name in _OFFSET_OF:
                value = stated_offset(value)
            elif name in ("published", "modified"):
                value = parse_published(value)
            elif name in _TIMESTAMP_FIELDS and isinstance(value, datetime):
                value = _utc(value)
            elif name == "lang_confidence":
                value = float(value)
            elif FIELD_TYPES.get(name) == pa.int64():
                value = int(value)
            elif name == "truncated":
                value = bool(value)
            elif name in ("authors", "credit"):
                value = [str(v) for v in value]
            elif isinstance(value, str):
                value = remove_controls(value)  # a row stored before extraction removed them
        record[name] = value
    return record


def _iso(value: datetime) -> str:
    # Second precision and a Z: every row has the same shape, which JSON loaders infer as one type.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _published_text(value: datetime) -> str:
    if value.time() == time() and value.tzinfo is not None and value.utcoffset() == timedelta(0):
        return value.strftime("%Y-%m-%d")
    return _iso(value)


def to_json_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with timestamps as ISO 8601 strings (UTC, ``Z``; a bare date for a date-only
    ``published`` or ``modified``)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, datetime):
            value = _published_text(value) if key in ("published", "modified") else _iso(value)
        out[key] = value
    return out


def json_record_from_article(article: Any, fields: Sequence[str] = DEFAULT_FIELDS) -> dict[str, Any]:
    """The record exactly as ``crawler export --format jsonl`` writes it (timestamps as ISO strings).

    For Scrapy items: ``StorePipeline`` can return this for the stored record so that Scrapy's feed
    exports (``scrapy crawl article -O items.jsonl``) carry the same fields and values.
    """
    return to_json_record(record_from_article(article, fields))


def arrow_schema(fields: Sequence[str]) -> pa.Schema:
    """The Parquet schema of an export with these fields: typed, every column nullable."""
    return pa.schema(
        [pa.field(name, FIELD_TYPES.get(name, pa.string())) for name in fields],
        metadata={b"generator": b"news-archiver crawler export"},
    )


def _conditions(table: Table | Any, flt: ExportFilter) -> list[ColumnElement[bool]]:
    c = table.c
    conds: list[ColumnElement[bool]] = []
    if flt.langs:
        conds.append(c.lang.in_(flt.langs))
    if flt.sites:
        sites = {s.lower().removeprefix("www.") for s in flt.sites}
        conds.append(c.domain.in_(sorted(sites)))
    if flt.min_words is not None:
        conds.append(c.word_count >= flt.min_words)
    if flt.complete_only:
        conds.append(c.truncated.is_not(True))
        conds.append(c.access != "paywalled")
    if flt.since is not None or flt.until is not None:
        # The stated times as UTC instants (a date alone: its midnight UTC).
        col = {"published": c.published_utc, "modified": c.modified_utc}.get(flt.date_field, c.fetched_at)
        if flt.since is not None:
            conds.append(col >= _bound_dt(flt.since))
        if flt.until is not None:
            conds.append(col < _bound_dt(_until_exclusive(flt.until)))
    return conds


def _until_exclusive(until: date | datetime) -> date | datetime:
    if isinstance(until, datetime):
        return until + timedelta(microseconds=1)
    return until + timedelta(days=1)


def _bound_dt(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return _utc(value).replace(tzinfo=None)
    return datetime.combine(value, time())


def _query(flt: ExportFilter, columns: Sequence[str], *, dedup_exact: bool) -> Select[Any]:
    articles = Article.__table__
    conds = _conditions(articles, flt)
    if dedup_exact:
        # Exported once per content hash: skip a row when an older matching row has the same hash.
        older = articles.alias("older")
        conds.append(
            ~exists().where(
                and_(
                    older.c.content_hash == articles.c.content_hash,
                    older.c.id < articles.c.id,
                    *_conditions(older, flt),
                )
            )
        )
    return select(*(articles.c[name] for name in columns)).where(*conds).order_by(articles.c.id)


def count_matching(session: Session, flt: ExportFilter, *, dedup_exact: bool = False) -> int:
    """How many articles the filters select (each content hash once with ``dedup_exact``)."""
    sub = _query(flt, ("id",), dedup_exact=dedup_exact).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def iter_records(
    session: Session,
    flt: ExportFilter = ExportFilter(),
    fields: Sequence[str] = DEFAULT_FIELDS,
    *,
    batch_size: int = 1000,
    dedup_exact: bool = True,
    with_text_columns: bool = False,
) -> Iterator[dict[str, Any]]:
    """Stream the selected articles as records, oldest id first, ``batch_size`` rows per fetch.

    With ``with_text_columns`` each record also carries ``_title``, ``_lede``, ``_body`` and ``_id``
    (for near-duplicate detection when those fields are not exported).
    """
    needed = {_COLUMN_OF[f] for f in fields if f in _COLUMN_OF}
    if "text" in fields or with_text_columns:
        needed.update(_TEXT_COLUMNS)
    needed.add("id")
    columns = [c.key for c in Article.__table__.columns if c.key in needed]
    stmt = _query(flt, columns, dedup_exact=dedup_exact).execution_options(yield_per=batch_size)
    with session.execute(stmt) as result:  # closed (PostgreSQL: its server-side cursor) if abandoned
        for row in result:
            mapping = row._mapping
            record = record_from_article(mapping, fields)
            if with_text_columns:
                record["_title"], record["_lede"], record["_body"] = (mapping[c] for c in _TEXT_COLUMNS)
                record["_id"] = mapping["id"]
            yield record


def _text_of(session: Session, article_id: Any) -> str:
    """The text near-duplicate detection compares: title, lede and body, as exported in ``text``."""
    articles = Article.__table__
    row = session.execute(
        select(*(articles.c[c] for c in _TEXT_COLUMNS)).where(articles.c.id == article_id)
    ).one()
    return join_text(*row)


# ---------------------------------------------------------------------------------------------
# Writers: each takes records one at a time and writes in batches.


class _JsonlWriter:
    def __init__(self, stream: IO[str], fields: Sequence[str]) -> None:
        self.stream = stream

    def write(self, record: Mapping[str, Any]) -> None:
        self.stream.write(json.dumps(to_json_record(record), ensure_ascii=False))
        self.stream.write("\n")

    def close(self) -> None:
        self.stream.flush()


class _CsvWriter:
    def __init__(self, stream: IO[str], fields: Sequence[str]) -> None:
        self.stream = stream
        self.writer = csv.DictWriter(stream, fieldnames=list(fields), lineterminator="\n")
        self.writer.writeheader()

    def write(self, record: Mapping[str, Any]) -> None:
        row = to_json_record(record)
        for key, value in row.items():
            if isinstance(value, list):  # authors, credit: a JSON array in the cell
                row[key] = json.dumps(value, ensure_ascii=False)
        self.writer.writerow(row)

    def close(self) -> None:
        self.stream.flush()


class _ParquetWriter:
    def __init__(self, path: str, fields: Sequence[str], row_group_size: int) -> None:
        self.fields = list(fields)
        self.schema = arrow_schema(fields)
        self.writer = pq.ParquetWriter(path, self.schema, compression="snappy")
        self.row_group_size = row_group_size
        self.columns: dict[str, list[Any]] = {f: [] for f in self.fields}
        self.pending = 0

    def write(self, record: Mapping[str, Any]) -> None:
        for name in self.fields:
            self.columns[name].append(record.get(name))
        self.pending += 1
        if self.pending >= self.row_group_size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        arrays = [pa.array(self.columns[f], type=self.schema.field(f).type) for f in self.fields]
        self.writer.write_batch(pa.record_batch(arrays, schema=self.schema))
        self.columns = {f: [] for f in self.fields}
        self.pending = 0

    def close(self) -> None:
        self.flush()
        self.writer.close()

    def abort(self) -> None:
        self.writer.close()


def _file_mode(target: Path) -> int:
    """The mode the finished file gets: the target's when it exists, else what the umask allows."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _temp_path(target: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    return Path(name)


def export(
    session: Session,
    out: str | Path,
    fmt: Format,
    flt: ExportFilter = ExportFilter(),
    fields: Sequence[str] = DEFAULT_FIELDS,
    *,
    dedup: Literal["exact", "near"] = "exact",
    near_threshold: float = 0.8,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    stdout: IO[str] | None = None,
) -> ExportStats:
    """Export the selected articles to ``out`` (``"-"``: ``stdout``, JSONL or CSV only).

    Writes a temporary file in the target's folder and renames it over ``out`` when done; on any
    error or interruption the temporary file is removed and ``out`` is left as it was.
    ``progress`` is called with the number of rows handled since its last call.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fields = tuple(fields)
    to_stdout = str(out) == "-"
    if to_stdout and fmt == "parquet":
        raise ExportError("Parquet cannot go to stdout; give --out FILE")
    stats = ExportStats(path=str(out), format=fmt, fields=fields)
    stats.matched = count_matching(session, flt)

    near = None
    if dedup == "near":
        from archive.dedup import NearDuplicateIndex

        # A candidate's text is read back from the archive: the index keeps signatures only.
        near = NearDuplicateIndex(threshold=near_threshold, text_of=lambda key: _text_of(session, key))

    def records() -> Iterator[Mapping[str, Any]]:
        for record in iter_records(
            session, flt, fields, batch_size=batch_size, with_text_columns=near is not None
        ):
            if progress is not None:
                progress(1)
            if near is not None:
                text = join_text(record.pop("_title"), record.pop("_lede"), record.pop("_body"))
                if near.seen_or_add(record.pop("_id"), text):
                    stats.near_duplicates += 1
                    continue
            yield record

    if to_stdout:
        stream = stdout if stdout is not None else sys.stdout
        writer: Any = (_JsonlWriter if fmt == "jsonl" else _CsvWriter)(stream, fields)
        _drain(records(), writer, stats)
        writer.close()
    else:
        target = Path(out)
        if not target.parent.is_dir():
            raise ExportError(f"cannot write {target}: no folder {target.parent}")
        try:
            tmp = _temp_path(target)
        except OSError as exc:
            raise ExportError(f"cannot write in {target.parent}: {exc.strerror or exc}") from exc
        try:
            if fmt == "parquet":
                writer = _ParquetWriter(str(tmp), fields, batch_size)
                try:
                    _drain(records(), writer, stats)
                except BaseException:
                    writer.abort()
                    raise
                writer.close()
            else:
                with open(tmp, "w", encoding="utf-8", newline="") as fh:
                    writer = (_JsonlWriter if fmt == "jsonl" else _CsvWriter)(fh, fields)
                    _drain(records(), writer, stats)
                    writer.close()
            os.chmod(tmp, _file_mode(target))  # mkstemp made it private
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    stats.exact_duplicates = stats.matched - stats.written - stats.near_duplicates
    logger.info(
        "exported %d articles to %s (%d exact and %d near duplicates skipped)",
        stats.written,
        out,
        stats.exact_duplicates,
        stats.near_duplicates,
    )
    return stats


def _drain(records: Iterable[Mapping[str, Any]], writer: Any, stats: ExportStats) -> None:
    for record in records:
        writer.write(record)
        stats.written += 1


def text_io_for(stream: IO[bytes]) -> IO[str]:
    """A UTF-8 text wrapper over a binary stream (stdout whatever the locale)."""
    return io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=False)

"""Raw pages out as WARC/1.1: rotated gzip-per-record files of request + response (or revisit) records.

:class:`WarcFileWriter` writes each HTTP exchange of a crawl as a ``response`` record and its
``request`` record, and a ``304 Not Modified`` as a ``revisit`` record (profile server-not-modified,
pointing to the earlier payload's digest when it is known), each record its own gzip member, into
files of at most ``max_size`` bytes that begin with a ``warcinfo`` record naming the tool and its
settings. A file is written as ``NAME.warc.gz.open`` and renamed to ``NAME.warc.gz`` when it is
closed, so a folder holds only complete files; a ``.open`` file left by a killed crawl is repaired
(cut after its last complete record) and renamed when the next writer opens the folder.

Each write returns a :class:`WarcLocation` (file, offset of the record, record id, payload digest),
which the archive keeps with the article row (``articles.warc_*``). Nothing here knows Scrapy.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

__all__ = ["OPEN_SUFFIX", "WarcFileWriter", "WarcLocation", "WarcPage", "read_payload", "repair_open_file"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

OPEN_SUFFIX = ".open"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# The body is stored as received, content encoding (gzip, br) included, but without the chunked
# transfer encoding, which the HTTP client removed: its length is written again.
_DROPPED_HEADERS = frozenset({"transfer-encoding", "content-length"})


class WarcLocation(NamedTuple):
    """Where a page's record lives."""

    file: str  # absolute path of the closed file
    offset: int  # of the record's gzip member
    record_id: str
    payload_digest: str | None


def _warc_date(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def repair_open_file(path: Path) -> Path | None:
    """Cut a ``.open`` file after its last complete record and rename it; None when it held none."""
    end = 0
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh)
        try:
            for _ in records:
                records.read_to_end()
                end = records.get_record_offset() + records.get_record_length()
        except (ArchiveLoadFailed, EOFError, OSError, ValueError):
            pass
    if end == 0:
        path.unlink()
        return None
    with open(path, "r+b") as fh:
        fh.truncate(end)
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    os.replace(path, final)
    logger.warning("repaired %s: kept %d bytes of complete records", final, end)
    return final


class WarcFileWriter:
    """Rotated WARC files in ``folder``; one writer per crawl process (not thread-safe)."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        max_size: int = 1 << 30,
        prefix: str = "news-archiver",
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.folder = Path(folder).resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_size = max_size
        self.prefix = prefix
        self.info = dict(info or {})
        self.serial = 0
        self.files: list[str] = []  # closed files written by this writer
        self._fh: io.BufferedWriter | None = None
        self._path: Path | None = None
        self._writer: WARCWriter | None = None
        for left in sorted(self.folder.glob(f"*.warc.gz{OPEN_SUFFIX}")):
            repair_open_file(left)

    @property
    def current(self) -> str | None:
        """The final name of the file being written."""
        return str(self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX))) if self._path else None

    def _open(self) -> WARCWriter:
        if self._writer is not None:
            return self._writer
        self.serial += 1
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        name = f"{self.prefix}-{stamp}-{self.serial:05d}-{os.getpid()}.warc.gz"
        self._path = self.folder / (name + OPEN_SUFFIX)
        self._fh = open(self._path, "xb")  # noqa: SIM115 - closed in _close
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        info = {"software": "news-archiver", "format": "WARC File Format 1.1", **self.info}
        self._writer.write_record(self._writer.create_warcinfo_record(name, info))
        return self._writer

    def _close(self) -> None:
        if self._fh is None or self._path is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        final = self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX))
        os.replace(self._path, final)
        self.files.append(str(final))
        self._fh = self._path = self._writer = None

    def _written(self) -> None:
        assert self._fh is not None
        if self._fh.tell() >= self.max_size:
            self._close()

    def _request(
        self,
        writer: WARCWriter,
        url: str,
        method: str,
        headers: Iterable[tuple[str, str]],
        date: str,
        to: str,
    ) -> None:
        target = url.split("/", 3)[3] if url.count("/") >= 3 else ""
        http = StatusAndHeaders(f"{method} /{target} HTTP/1.1", list(headers), is_http_request=True)
        record = writer.create_warc_record(
            url, "request", http_headers=http, warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": to}
        )
        writer.write_record(record)

    def _write_with_request(
        self,
        writer: WARCWriter,
        record: ArcWarcRecord,
        url: str,
        method: str,
        request_headers: Iterable[tuple[str, str]],
        warc_date: str,
    ) -> WarcLocation:
        """Write ``record`` (a response or a revisit) and then the request record concurrent to it;
        where ``record`` is, with the payload digest of its header."""
        assert self._fh is not None
        offset = self._fh.tell()
        writer.write_record(record)
        record.raw_stream.close()
        headers = record.rec_headers
        record_id = headers.get_header("WARC-Record-ID")
        location = WarcLocation(
            self.current or "", offset, record_id, headers.get_header("WARC-Payload-Digest")
        )
        self._request(writer, url, method, request_headers, warc_date, record_id)
        self._written()  # may close the file: its name is taken before
        return location

    def write_exchange(
        self,
        url: str,
        *,
        status: int,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        method: str = "GET",
        request_headers: Iterable[tuple[str, str]] = (),
        date: datetime | None = None,
    ) -> WarcLocation:
        """A response record (``body`` as received, with its headers) and its request record."""
        writer = self._open()
        kept = [(k, v) for k, v in headers if k.lower() not in _DROPPED_HEADERS]
        kept.append(("Content-Length", str(len(body))))
        http = StatusAndHeaders(f"{status} {_reason(status)}", kept, protocol="HTTP/1.1")
        warc_date = _warc_date(date)
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": warc_date},
        )
        return self._write_with_request(writer, record, url, method, request_headers, warc_date)

    def write_revisit(
        self,
        url: str,
        *,
        status: int,
        headers: Iterable[tuple[str, str]],
        refers_to_digest: str | None = None,
        refers_to_date: datetime | None = None,
        method: str = "GET",
        request_headers: Iterable[tuple[str, str]] = (),
        date: datetime | None = None,
    ) -> WarcLocation:
        """A revisit record for a ``304 Not Modified`` (and its request record)."""
        writer = self._open()
        http = StatusAndHeaders(f"{status} {_reason(status)}", list(headers), protocol="HTTP/1.1")
        warc_date = _warc_date(date)
        extra = {
            "WARC-Date": warc_date,
            "WARC-Profile": SERVER_NOT_MODIFIED,
            "WARC-Refers-To-Target-URI": url,
        }
        if refers_to_digest:
            extra["WARC-Payload-Digest"] = refers_to_digest
        if refers_to_date is not None:
            extra["WARC-Refers-To-Date"] = _warc_date(refers_to_date)
        record = writer.create_warc_record(url, "revisit", http_headers=http, warc_headers_dict=extra)
        location = self._write_with_request(writer, record, url, method, request_headers, warc_date)
        return location._replace(payload_digest=refers_to_digest)

    def close(self) -> list[str]:
        """Close (and rename) the current file; every file this writer wrote."""
        self._close()
        return list(self.files)


class WarcPage(NamedTuple):
    """A page read back from its WARC record."""

    url: str
    body: bytes  # content-decoded (gzip, br)
    content_type: str | None
    content_language: str | None


def read_payload(path: str, offset: int) -> WarcPage:
    """The page in the response record at ``offset`` of the WARC file at ``path``.

    Raises OSError for a file that cannot be read, ValueError for no response record there."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        try:
            record = next(iter(ArchiveIterator(fh)))
        except (StopIteration, ArchiveLoadFailed, EOFError) as exc:
            raise ValueError(f"no WARC record at offset {offset} of {path}") from exc
        http = record.http_headers
        if record.rec_type != "response" or http is None:
            raise ValueError(
                f"the record at offset {offset} of {path} is a {record.rec_type}, not a response"
            )
        return WarcPage(
            record.rec_headers.get_header("WARC-Target-URI") or "",
            record.content_stream().read(),
            http.get_header("Content-Type"),
            http.get_header("Content-Language"),
        )


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# -- export ------------------------------------------------------------------------------------


def surt(url: str) -> str:
    """The SURT form CDXJ indexes sort by: ``https://www.Example.com/a?b`` -> ``com,example)/a?b``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host.replace(".", "").isdigit():  # an IPv4 address is not reversed
        host = ",".join(reversed(host.split(".")))
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    key = host + ")" + (parts.path or "/").lower()
    return key + (f"?{parts.query.lower()}" if parts.query else "")


def _copy_record(path: str, offset: int) -> bytes:
    """The bytes of the record (gzip member) at ``offset`` of a WARC file, as they are."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        records = ArchiveIterator(fh)
        record = next(iter(records))
        if record.rec_type != "response":
            raise ValueError(
                f"the record at offset {offset} of {path} is a {record.rec_type}, not a response"
            )
        records.read_to_end()
        length = records.get_record_length()
        fh.seek(offset)
        data = fh.read(length)
    if not data.startswith(b"\x1f\x8b"):  # a record of an uncompressed WARC: gzip it on its own
        import gzip

        data = gzip.compress(data)
    return data


def export_warc(
    session: Any, out: str | os.PathLike[str], flt: Any = None, *, dedup_exact: bool = True
) -> dict[str, int]:
    """Write the pages of the selected articles (``archive.export.ExportFilter``) as one WARC file,
    and its CDXJ index beside it (``OUT.cdxj``).

    A row with a WARC record (``warc_file``, ``warc_offset``) gets that record copied byte for byte
    (its digests stay valid); one with a stored page only (``article_pages``) gets a response record
    made of it. Both files are written under temporary names and renamed when complete. Returns
    counts: ``records`` written, ``no_page`` (rows with neither, skipped), ``missing`` (WARC record
    gone or unreadable, skipped).
    """
    from archive.export import ExportFilter, _file_mode, _query, _temp_path
    from archive.models import ArticlePage
    from archive.store import decompress_html

    target = Path(out)
    columns = ("id", "url", "fetched_at", "http_status", "warc_file", "warc_offset")
    stmt = _query(flt or ExportFilter(), columns, dedup_exact=dedup_exact)
    counts = {"records": 0, "no_page": 0, "missing": 0}
    index: list[str] = []
    temp = _temp_path(target)
    cdx_target = target.with_name(target.name + ".cdxj")
    cdx_temp = _temp_path(cdx_target)
    try:
        with open(temp, "wb") as fh:
            writer = WARCWriter(fh, gzip=True, warc_version="1.1")
            writer.write_record(
                writer.create_warcinfo_record(
                    target.name, {"software": "news-archiver export", "format": "WARC File Format 1.1"}
                )
            )
            for row in session.execute(stmt).all():
                offset = fh.tell()
                data: bytes | None = None
                if row.warc_file and row.warc_offset is not None:
                    try:
                        data = _copy_record(row.warc_file, row.warc_offset)
                    except (OSError, ValueError, StopIteration, ArchiveLoadFailed) as exc:
                        logger.warning("%s: WARC record unreadable (%s)", row.url, exc)
                if data is not None:
                    fh.write(data)
                else:
                    page = session.get(ArticlePage, row.id)
                    if page is None:
                        counts["missing" if row.warc_file else "no_page"] += 1
                        continue
                    headers = [("Content-Type", page.content_type or "text/html")]
                    if page.content_language:
                        headers.append(("Content-Language", page.content_language))
                    body = decompress_html(page.html_z)
                    headers.append(("Content-Length", str(len(body))))
                    status = row.http_status or 200
                    http = StatusAndHeaders(f"{status} {_reason(status)}", headers, protocol="HTTP/1.1")
                    record = writer.create_warc_record(
                        page.final_url or row.url,
                        "response",
                        payload=io.BytesIO(body),
                        http_headers=http,
                        warc_headers_dict={"WARC-Date": _warc_date(page.fetched_at or row.fetched_at)},
                    )
                    writer.write_record(record)
                    record.raw_stream.close()
                counts["records"] += 1
                fh.flush()  # read back for its index line
                index.append(_cdxj_line(temp, offset, fh.tell() - offset, target.name))
        with open(cdx_temp, "w", encoding="utf-8") as cdx:
            cdx.writelines(line + "\n" for line in sorted(index))
        os.chmod(temp, _file_mode(target))
        os.chmod(cdx_temp, _file_mode(cdx_target))
        os.replace(temp, target)
        os.replace(cdx_temp, cdx_target)
    except BaseException:
        temp.unlink(missing_ok=True)
        cdx_temp.unlink(missing_ok=True)
        raise
    return counts


def _cdxj_line(path: Path, offset: int, length: int, filename: str) -> str:
    """The CDXJ line (pywb's format) of the response record just written at ``offset``."""
    import json

    with open(path, "rb") as fh:
        fh.seek(offset)
        record = next(iter(ArchiveIterator(fh)))
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI")
        stamp = "".join(ch for ch in (headers.get_header("WARC-Date") or "") if ch.isdigit())[:14]
        fields = {
            "url": url,
            "mime": (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip(),
            "status": record.http_headers.get_statuscode(),
            "digest": headers.get_header("WARC-Payload-Digest"),
            "length": str(length),
            "offset": str(offset),
            "filename": filename,
        }
    return f"{surt(url)} {stamp} {json.dumps(fields)}"

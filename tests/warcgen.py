"""Build WARC files for the tests with warcio: pages of the bundled sample site in several scripts and
charsets, and the records an ingest must skip (a PDF, a request, a revisit, a 404, a truncated
record), plus ways to damage a file (a corrupt gzip member, a file cut mid-record)."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.sample_site import SITE_DIR

SITE = "http://sample-news.example"


@dataclass(frozen=True)
class Page:
    path: str  # under the sample site
    charset: str  # what the page's bytes are encoded in, and what the HTTP header says
    gzip: bool = False  # sent with Content-Encoding: gzip

    @property
    def url(self) -> str:
        return f"{SITE}/{self.path}"

    def body(self) -> bytes:
        text = (SITE_DIR / self.path).read_text(encoding="utf-8")
        return text.encode(self.charset, errors="xmlcharrefreplace")  # as a page in that charset would


# Articles: Devanagari, Cyrillic in windows-1251 (the page's own <meta> still says utf-8: the HTTP
# header decides), Japanese in Shift_JIS, Arabic, Latin with gzip content encoding.
ARTICLES = (
    Page("hi/politics/akhilesh-mamata-meeting.html", "utf-8"),
    Page("ru/gorod/remont-mosta.html", "windows-1251"),
    Page("ja/science/robot-school.html", "shift_jis"),
    Page("ar/economy/port-expansion.html", "utf-8"),
    Page("de/stadt/neue-strassenbahnlinie.html", "utf-8", gzip=True),
    Page("city/council-approves-river-park.html", "utf-8"),
)


def _record_bytes(build) -> bytes:  # type: ignore[no-untyped-def]
    """One gzip member: the record ``build(writer)`` writes."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    record = build(writer)
    writer.write_record(record)
    record.raw_stream.close()  # warcio spools the payload to a temporary file to digest it
    return out.getvalue()


def response(
    url: str,
    body: bytes,
    *,
    status: str = "200 OK",
    content_type: str = "text/html; charset=utf-8",
    date: str = "2026-11-20T10:00:00Z",
    extra_http: list[tuple[str, str]] | None = None,
    warc_headers: dict[str, str] | None = None,
) -> bytes:
    headers = [("Content-Type", content_type), *(extra_http or [])]
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    return _record_bytes(
        lambda w: w.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": date, **(warc_headers or {})},
        )
    )


def page_record(page: Page, *, date: str = "2026-11-20T10:00:00Z") -> bytes:
    body = page.body()
    extra = []
    if page.gzip:
        body = gzip.compress(body)
        extra.append(("Content-Encoding", "gzip"))
    return response(
        page.url, body, content_type=f"text/html; charset={page.charset}", date=date, extra_http=extra
    )


def request(url: str) -> bytes:
    http = StatusAndHeaders(
        f"GET {url.split('/', 3)[-1]} HTTP/1.1", [("Host", "sample-news.example")], is_http_request=True
    )
    return _record_bytes(lambda w: w.create_warc_record(url, "request", http_headers=http))


def warcinfo() -> bytes:
    return _record_bytes(lambda w: w.create_warcinfo_record("test.warc.gz", {"software": "tests/warcgen.py"}))


def revisit(url: str) -> bytes:
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    return _record_bytes(
        lambda w: w.create_revisit_record(
            url, "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", url, "2026-11-19T10:00:00Z", http_headers=http
        )
    )


def pdf(url: str) -> bytes:
    return response(
        url, b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", content_type="application/pdf"
    )


def not_found(url: str) -> bytes:
    return response(url, b"<html><body><h1>Not found</h1></body></html>", status="404 Not Found")


def truncated(page: Page) -> bytes:
    body = page.body()
    return response(
        page.url + "?truncated", body[: len(body) // 2], warc_headers={"WARC-Truncated": "length"}
    )


def corrupt(member: bytes) -> bytes:
    """A gzip member whose compressed data is damaged in the middle (its header intact)."""
    data = bytearray(member)
    middle = len(data) // 2
    data[middle : middle + 16] = b"\xff" * 16
    return bytes(data)


def write(path: Path, members: list[bytes]) -> Path:
    path.write_bytes(b"".join(members))
    return path


def mixed_file(path: Path) -> Path:
    """The test file: warcinfo, a request and a response per article, a PDF, a revisit, a 404, a
    truncated record, a corrupt gzip member between two articles."""
    members = [warcinfo()]
    for i, page in enumerate(ARTICLES):
        members.append(request(page.url))
        members.append(page_record(page))
        if i == 2:
            members.append(corrupt(page_record(Page("sport/harriers-win-county-cup.html", "utf-8"))))
    members += [
        pdf(f"{SITE}/files/report.pdf"),
        revisit(ARTICLES[0].url),
        not_found(f"{SITE}/gone.html"),
        truncated(Page("science/lake-survey-finds-rare-mussel.html", "utf-8")),
    ]
    return write(path, members)

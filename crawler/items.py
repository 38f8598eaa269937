"""Plain dataclasses that flow between the stages: spider -> raw page -> article."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["HTML_TYPES", "Article", "FetchFailed", "NotModifiedPage", "RawPage", "is_html"]

# Content types of pages (a crawl's responses, a WARC's response records) that may be articles.
HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str | None, body: bytes) -> bool:
    """A page by its content type, or one without a type whose first kilobyte holds ``<html``."""
    ctype = (content_type or "").lower()
    return any(t in ctype for t in HTML_TYPES) or (not ctype and b"<html" in body[:1024].lstrip().lower())


@dataclass
class RawPage:
    """A fetched page as the spider saw it; nothing extracted yet.

    It is a Scrapy item (Scrapy accepts dataclass items) and also usable without Scrapy.
    """

    url: str
    final_url: str
    status: int
    html: bytes = field(repr=False)
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_language: str | None = None
    fetched_at: datetime | None = None
    source: str | None = None  # how it was discovered: start, link, sitemap, feed, seed
    # Where its WARC record lives (archive.warc.WarcLocation: file, offset, record id, payload digest),
    # when the crawl writes WARC files (ARCHIVE_WARC_DIR) or the page was read from one (crawler ingest).
    warc_record: tuple[str, int, str, str | None] | None = None


@dataclass
class Article:
    """The clean record extracted from one article page."""

    title: str | None
    lede: str | None
    body: str
    author: str | None = None  # the authors joined: "A, B"
    # ISO 8601 with the page's UTC offset ("2025-06-05T14:46:12+02:00"), a date alone ("2025-06-05")
    # where the page gives only a date, or None; see crawler.extract.dates.
    published: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    lang: str | None = None  # ISO 639-1 or None when the text is too short to tell
    lang_confidence: float | None = None
    declared_lang: str | None = None  # from <html lang>, og:locale or Content-Language
    lang_source: str | None = None  # which detector decided: langdetect, declared, langid...
    modified: str | None = None  # as published: when the page says it was last changed
    published_source: str | None = None  # json-ld, meta:<key>, time or htmldate
    authors: list[str] = field(default_factory=list)  # persons, in the page's order
    credit: list[str] = field(
        default_factory=list
    )  # organisations credited: agencies, the publisher, "Staff"
    access: str = "unknown"  # free, paywalled or unknown (JSON-LD paywall markup)
    truncated: bool = False  # the text is visibly less than the article (declared wordCount, paywall prompt)
    # How many lines learned as the site's boilerplate (ExtractOptions.site_boilerplate) extraction
    # removed from the page; None when it was given no learned lines (nothing to match).
    boilerplate_hits: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Lede and body as one clean text, paragraphs separated by blank lines."""
        return "\n\n".join(p for p in (self.lede, self.body) if p)


@dataclass
class FetchFailed:
    """A request that produced no page: HTTP error, DNS or connection failure, robots.txt..."""

    url: str
    reason: str  # a crawler.reasons.Reason, or http_<status>
    http_status: int | None = None
    detail: str | None = None
    failed_at: datetime | None = None


@dataclass
class NotModifiedPage:
    """An archived page the server answered 304 Not Modified: checked, nothing to extract."""

    url: str
    checked_at: datetime
    etag: str | None = None
    last_modified: str | None = None

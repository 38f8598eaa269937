"""SQLAlchemy 2.0 models of the archive.

Every table lives here so that a newcomer sees the whole schema in one file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Article(Base):
    """One archived article: the clean record of the latest fetch of a URL."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String, unique=True)
    canonical_url: Mapped[str | None] = mapped_column(String)
    domain: Mapped[str] = mapped_column(String, index=True)
    title: Mapped[str | None] = mapped_column(Text)
    lede: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str | None] = mapped_column(String(8), index=True)
    lang_confidence: Mapped[float | None] = mapped_column(Float)
    declared_lang: Mapped[str | None] = mapped_column(String(16))
    lang_source: Mapped[str | None] = mapped_column(String(32))  # e.g. langdetect+declared
    author: Mapped[str | None] = mapped_column(Text)  # the authors joined ("A, B")
    # ISO 8601 as the page states it: with its UTC offset, or a date alone (crawler.extract.dates).
    published: Mapped[str | None] = mapped_column(String(32))
    # Metadata of migration 0004: the same instants in UTC (naive, as every time here) for sorting and
    # filtering, where the dates came from, the authors as a list apart from the organisations
    # credited, and whether the page gives the whole article.
    published_utc: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    published_source: Mapped[str | None] = mapped_column(String(64))
    modified: Mapped[str | None] = mapped_column(String(32))
    modified_utc: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # SQL NULL for None (not JSON null), so that "has authors" is IS NOT NULL.
    authors: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    credit: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    access: Mapped[str] = mapped_column(String(16), default="unknown", server_default="unknown")
    truncated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    site_name: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    http_status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str | None] = mapped_column(String)
    last_modified: Mapped[str | None] = mapped_column(String)
    # Last time the page was found unchanged (HTTP 304) without a new fetch.
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # crawler.extract.EXTRACTOR_VERSION of the extraction that produced this row.
    extractor_version: Mapped[str | None] = mapped_column(String(32))
    # Where the page of this row lives in a WARC file (a WARC ingest, or a crawl with ARCHIVE_WARC_DIR):
    # the file, the offset of its record (gzip member), the record's WARC-Record-ID, and the
    # WARC-Payload-Digest of the HTTP body ("sha1:BASE32"). Revision 0005.
    warc_file: Mapped[str | None] = mapped_column(String)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None] = mapped_column(String)
    payload_digest: Mapped[str | None] = mapped_column(String)
    # How many lines learned as the site's boilerplate extraction removed from the page (revision
    # 0006); NULL when nothing was learned for the site yet, or the row is older. `crawler health`
    # compares it across crawls: learned lines that stop matching mean the site's template changed.
    boilerplate_hits: Mapped[int | None] = mapped_column(Integer)


class CrawlRun(Base):
    """One crawl: when, which spider with which arguments, and what came of it."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String)
    arguments: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    finish_reason: Mapped[str | None] = mapped_column(String)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # reason -> count, e.g. {"not_article": 3, "duplicate": 1, "non_html": 2}
    skipped: Mapped[dict] = mapped_column(JSON, default=dict)
    # Incremental crawls: HTTP requests sent, answered 304, not sent at all (fresh enough or
    # unchanged by sitemap/feed date), and what became of the fetched articles.
    requested: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    not_requested: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    # reason -> count of failed fetches, e.g. {"http_error": 2, "timeout": 1}
    failures: Mapped[dict] = mapped_column(JSON, default=dict)


class FetchFailure(Base):
    """A URL that could not be fetched or extracted, as recorded during a crawl."""

    __tablename__ = "fetch_failures"
    __table_args__ = (Index("ix_fetch_failures_url_at", "url", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    url: Mapped[str] = mapped_column(String)
    failed_at: Mapped[datetime] = mapped_column(DateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String)  # http_error, dns, timeout, extract_timeout...
    detail: Mapped[str | None] = mapped_column(Text)


class ArticleVersion(Base):
    """An earlier clean text of an article, kept when a later crawl found the text changed."""

    __tablename__ = "article_versions"
    __table_args__ = (Index("ix_article_versions_article_fetched", "article_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(Text)
    lede: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(DateTime)  # when this version was fetched
    replaced_at: Mapped[datetime] = mapped_column(DateTime)  # when a newer text replaced it
    extractor_version: Mapped[str | None] = mapped_column(String(32))


class ArticlePage(Base):
    """The raw HTML of an article's latest fetch, compressed, for re-extraction without fetching."""

    __tablename__ = "article_pages"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    final_url: Mapped[str] = mapped_column(String)
    content_type: Mapped[str | None] = mapped_column(String)
    content_language: Mapped[str | None] = mapped_column(String)
    html_z: Mapped[bytes] = mapped_column(LargeBinary)  # archive.store.compress_html(raw bytes as fetched)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    extractor_version: Mapped[str | None] = mapped_column(String(32))


class CachedPage(Base):
    """A fetched page that is not an article (home and section pages, sitemaps, feeds), kept with
    its HTTP validators so the next crawl can ask for it conditionally and, on ``304``, read its
    links from here instead of downloading it again."""

    __tablename__ = "page_cache"

    url: Mapped[str] = mapped_column(String, primary_key=True)
    etag: Mapped[str | None] = mapped_column(String)
    last_modified: Mapped[str | None] = mapped_column(String)
    content_type: Mapped[str | None] = mapped_column(String)
    body_z: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed, as served
    fetched_at: Mapped[datetime] = mapped_column(DateTime)


__all__ = ["Article", "ArticlePage", "ArticleVersion", "Base", "CachedPage", "CrawlRun", "FetchFailure"]


class SiteLine(Base):
    """A line of clean text seen verbatim on pages of one site, and on how many pages.

    Lines found on many pages of a site are its boilerplate (newsletter blurbs, copyright lines); the
    extractor drops them from later pages (see archive/boilerplate.py).
    """

    __tablename__ = "site_lines"
    __table_args__ = (Index("ix_site_lines_domain_line", "domain", "line", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String)
    line: Mapped[str] = mapped_column(Text)  # normalised: casefolded, outer punctuation stripped
    pages: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class SitePages(Base):
    """How many pages of a site have had their lines counted in site_lines."""

    __tablename__ = "site_pages"

    domain: Mapped[str] = mapped_column(String, primary_key=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)


__all__ += ["SiteLine", "SitePages"]


class WarcFile(Base):
    """A WARC file read by ``crawler ingest``: which, when, and what came of it (revision 0005).

    ``finished_at`` is set once every record of the file was read and written: such a file is
    skipped by a later ingest (by its path and size, or its digest under another path). A row without
    it is a file whose ingest was interrupted; the next ingest reads it again.
    """

    __tablename__ = "warc_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String, index=True)  # absolute
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    records: Mapped[int] = mapped_column(Integer, default=0)  # WARC records read, of every type
    archived: Mapped[int] = mapped_column(Integer, default=0)  # new articles
    updated: Mapped[int] = mapped_column(Integer, default=0)  # articles already archived (changed or not)
    failed: Mapped[int] = mapped_column(Integer, default=0)  # extraction failures, corrupt records
    skipped: Mapped[dict] = mapped_column(JSON, default=dict)  # reason -> count


__all__ += ["WarcFile"]

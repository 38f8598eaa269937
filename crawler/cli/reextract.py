"""``crawler reextract``: run extraction and language tagging again over the stored raw pages.

Nothing is fetched: the raw HTML kept in ``article_pages`` (see ``--keep-html`` on ``crawler
crawl``), or the WARC record a row points to (``crawler crawl --warc``, ``crawler ingest``), goes through the current :func:`crawler.extract.extract`, and rows whose clean record
changed are updated (the search index follows through its triggers). Use it after improving the
extractor or the boilerplate rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select

from archive.boilerplate import learned_lines
from archive.db import make_sessionmaker
from archive.models import Article, ArticlePage
from archive.store import decompress_html, extraction_columns, update_extraction
from archive.warc import read_payload
from crawler.cli import cli
from crawler.cli.common import db_option, open_archive, site_option, time_option
from crawler.urls import domain_of
from crawler.wording import plural

if TYPE_CHECKING:
    from crawler.items import Article as Extracted

BATCH = 200


def extracted_fields(article: Extracted, final_url: str) -> dict[str, Any]:
    """The archive columns an extraction sets (the same as a crawl's, via ``extraction_columns``)."""
    from crawler.extract import EXTRACTOR_VERSION
    from crawler.text import word_count

    return extraction_columns(
        article, final_url, words=word_count(article.text), extractor_version=EXTRACTOR_VERSION
    )


def _page_source(
    page: ArticlePage | None, warc_file: str | None, warc_offset: int | None, url: str, *, from_warc: bool
) -> tuple[bytes, str, str | None, str | None] | None:
    """(raw page, final URL, Content-Type, Content-Language) of a row; None when its WARC record is gone."""
    if page is not None and not (from_warc and warc_file):
        return decompress_html(page.html_z), page.final_url, page.content_type, page.content_language
    if warc_file is None or warc_offset is None:
        return None
    try:
        found = read_payload(warc_file, warc_offset)
    except (OSError, ValueError):
        return None
    return found.body, found.url or url, found.content_type, found.content_language


@cli.command()
@click.option("--site", help="Only articles of this site (its domain, e.g. example-news.com).")
@click.option(
    "--since",
    metavar="TIME",
    help="Only pages fetched at or after this date or time (ISO 8601, e.g. 2026-11-24T15:24:37Z; UTC by default).",
)
@click.option("--min-words", default=20, show_default=True, help="Shorter texts are not articles.")
@click.option("--dry-run", is_flag=True, help="Count what would change; write nothing.")
@click.option(
    "--from-warc",
    is_flag=True,
    help="Read each page from its WARC record (crawl --warc, ingest) even when the archive keeps it too.",
)
@db_option
def reextract(
    site: str | None, since: str | None, min_words: int, dry_run: bool, from_warc: bool, db_url: str
) -> None:
    """Re-extract stored pages without fetching; update the rows whose output changed.

    A page comes from the archive (``article_pages``) or, for rows that have none (``--no-keep-html``)
    or with ``--from-warc``, from the WARC record the row points to."""
    from crawler.extract import (  # trafilatura: slow to import
        EXTRACTOR_VERSION,
        ExtractOptions,
        extract,
    )
    from crawler.text import word_count

    since_at = time_option(since, "--since")
    if since_at is not None and not isinstance(since_at, datetime):
        since_at = datetime.combine(since_at, datetime.min.time())
    if site is not None:
        site = site_option(site)
    engine = open_archive(db_url, must_exist=True)
    Session = make_sessionmaker(engine)
    seen = changed = unchanged = failed = missing = 0
    last_id = 0
    site_options: dict[str, ExtractOptions] = {}
    try:
        while True:
            with Session() as session:
                stmt = (
                    select(
                        Article.id,
                        Article.url,
                        Article.fetched_at,
                        Article.warc_file,
                        Article.warc_offset,
                        ArticlePage,
                    )
                    .outerjoin(ArticlePage, Article.id == ArticlePage.article_id)
                    .where(Article.id > last_id)
                    .where((ArticlePage.article_id.is_not(None)) | (Article.warc_file.is_not(None)))
                    .order_by(Article.id)
                    .limit(BATCH)
                )
                if site:
                    stmt = stmt.where(Article.domain == site)
                if since_at is not None:
                    stmt = stmt.where(Article.fetched_at >= since_at)
                rows = session.execute(stmt).all()
                if not rows:
                    break
                for article_id, url, fetched_at, warc_file, warc_offset, page in rows:
                    last_id = article_id
                    source = _page_source(page, warc_file, warc_offset, url, from_warc=from_warc)
                    if source is None:
                        missing += 1
                        continue
                    html, final_url, content_type, content_language = source
                    seen += 1
                    domain = domain_of(final_url)
                    if domain not in site_options:  # what the site's crawls have learned so far
                        site_options[domain] = ExtractOptions(site_boilerplate=learned_lines(session, domain))
                    article = extract(
                        html,
                        final_url,
                        content_language=content_language,
                        content_type=content_type,
                        options=site_options[domain],
                        fetched_at=fetched_at,
                    )
                    if article is None or word_count(article.text) < min_words:
                        failed += 1
                        continue
                    if update_extraction(session, article_id, extracted_fields(article, final_url)):
                        changed += 1
                    else:
                        unchanged += 1
                if dry_run:
                    session.rollback()
                else:
                    session.commit()
    finally:
        engine.dispose()
    if missing:
        click.echo(
            f"{plural(missing, 'page')} not re-extracted: the WARC file or record it points to is missing "
            "or unreadable.",
            err=True,
        )
    if not seen:
        click.echo(
            "No stored pages to re-extract"
            + (" (crawl with --keep-html to keep them)." if not (site or since) else " match.")
        )
        return
    verb = "would change" if dry_run else "changed"
    click.echo(
        f"Re-extracted {plural(seen, 'stored page')} with extractor {EXTRACTOR_VERSION}: {changed} {verb}, "
        f"{unchanged} unchanged, {failed} no longer extract as articles (left as they were)."
    )

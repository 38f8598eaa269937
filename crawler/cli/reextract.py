"""``crawler reextract``: run extraction and language tagging again over the stored raw pages.

Nothing is fetched: the raw HTML kept in ``article_pages`` (see ``--keep-html`` on ``crawler
crawl``) goes through the current :func:`crawler.extract.extract`, and rows whose clean record
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


@cli.command()
@click.option("--site", help="Only articles of this site (its domain, e.g. example-news.com).")
@click.option(
    "--since",
    metavar="TIME",
    help="Only pages fetched at or after this date or time (ISO 8601, e.g. 2026-11-24T15:24:37Z; UTC by default).",
)
@click.option("--min-words", default=20, show_default=True, help="Shorter texts are not articles.")
@click.option("--dry-run", is_flag=True, help="Count what would change; write nothing.")
@db_option
def reextract(site: str | None, since: str | None, min_words: int, dry_run: bool, db_url: str) -> None:
    """Re-extract stored pages without fetching; update the rows whose output changed."""
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
    seen = changed = unchanged = failed = 0
    last_id = 0
    site_options: dict[str, ExtractOptions] = {}
    try:
        while True:
            with Session() as session:
                stmt = (
                    select(ArticlePage)
                    .join(Article, Article.id == ArticlePage.article_id)
                    .where(ArticlePage.article_id > last_id)
                    .order_by(ArticlePage.article_id)
                    .limit(BATCH)
                )
                if site:
                    stmt = stmt.where(Article.domain == site)
                if since_at is not None:
                    stmt = stmt.where(Article.fetched_at >= since_at)
                pages = session.scalars(stmt).all()
                if not pages:
                    break
                for page in pages:
                    last_id = page.article_id
                    seen += 1
                    domain = domain_of(page.final_url)
                    if domain not in site_options:  # what the site's crawls have learned so far
                        site_options[domain] = ExtractOptions(site_boilerplate=learned_lines(session, domain))
                    article = extract(
                        decompress_html(page.html_z),
                        page.final_url,
                        content_language=page.content_language,
                        content_type=page.content_type,
                        options=site_options[domain],
                        fetched_at=page.fetched_at,
                    )
                    if article is None or word_count(article.text) < min_words:
                        failed += 1
                        continue
                    if update_extraction(session, page.article_id, extracted_fields(article, page.final_url)):
                        changed += 1
                    else:
                        unchanged += 1
                if dry_run:
                    session.rollback()
                else:
                    session.commit()
    finally:
        engine.dispose()
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

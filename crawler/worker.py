"""What an extraction worker computes for one raw page: the article and what the archive needs of it.

:func:`extract_page` is the function the crawl's and the WARC ingest's :class:`crawler.pool.ExtractionPool`
run; it needs no Scrapy, so a pool that runs it preloads only this module and the warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from archive.store import compress_html, content_hash
from crawler.extract import ExtractOptions, extract, lines_for_learning
from crawler.items import Article
from crawler.text import word_count

__all__ = ["Extraction", "extract_page"]


@dataclass
class Extraction:
    """What an extraction worker sends back for a page: the article and what the archive needs of
    it, computed there rather than in the calling process (whose one thread runs the whole crawl)."""

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

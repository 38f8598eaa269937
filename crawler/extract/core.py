"""The orchestration of extraction: raw HTML in, a clean :class:`~crawler.items.Article` (or None) out.

Each stage is a module of this package; :func:`extract` runs them in order and never raises on bad
input.
"""

from __future__ import annotations

import logging
from html import unescape

from lxml import etree

from crawler.extract.blocks import extract_blocks
from crawler.extract.decode import load_page
from crawler.extract.learning import SITE_LINES_REMOVED, removed_site_lines
from crawler.extract.metadata import (
    author_of,
    declared_lang,
    published_date,
    read_meta,
    site_name_of,
    url_host,
)
from crawler.extract.options import DEFAULT_OPTIONS, ExtractOptions
from crawler.extract.page_kind import is_listing, looks_like_article
from crawler.extract.rules import (
    agree_with_article_body,
    card_texts,
    drop_author_notes,
    drop_card_teasers,
    drop_company_notes,
    drop_headlines,
)
from crawler.extract.standfirst import split_lede
from crawler.extract.title import headline_variants, pick_title
from crawler.items import Article
from crawler.lang import detect_language
from crawler.text import clean_text, word_count

__all__ = ["extract"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())


def extract(
    html: str | bytes,
    url: str | None = None,
    *,
    content_language: str | None = None,
    options: ExtractOptions | None = None,
    content_type: str | None = None,
) -> Article | None:
    """Extract the clean article from ``html``; None when the page is not an article or is empty.

    ``content_language`` and ``content_type`` are the page's HTTP headers when known: the first is a
    declared language, the second may name the charset of ``html`` bytes.
    """
    opts = options or DEFAULT_OPTIONS
    try:
        return _extract(html, url, content_language, content_type, opts)
    except (ValueError, TypeError, etree.LxmlError, RecursionError) as exc:
        logger.warning("extraction failed for %s: %s", url, exc)
        return None


def _extract(
    html: str | bytes,
    url: str | None,
    content_language: str | None,
    content_type: str | None,
    opts: ExtractOptions,
) -> Article | None:
    tree = load_page(html, content_type)
    if tree is None:
        return None
    meta = read_meta(tree)
    extracted = extract_blocks(tree, opts)
    if extracted is None:
        return None
    raw_blocks, blocks = extracted
    listing = is_listing(raw_blocks)
    removed = removed_site_lines(raw_blocks, blocks, opts.site_boilerplate)

    # Block rules that need the page: teaser cards, articleBody, the headline, the author's and
    # company's notes at the end.
    host = url_host(url)
    blocks = drop_card_teasers(blocks, card_texts(tree))
    if meta.ld_body:
        blocks = agree_with_article_body(blocks, clean_text(unescape(meta.ld_body)))
    site_name = site_name_of(meta)
    title = pick_title(meta, None, site_name, host)
    published = published_date(tree, meta)
    # The body never repeats the title, in any of the page's wordings of it (og, JSON-LD, <h1>...).
    blocks = drop_headlines(blocks, headline_variants(meta, title))
    author = author_of(meta)
    if author:
        blocks = drop_author_notes(blocks, author)
    blocks = drop_company_notes(blocks, [s for s in (site_name, meta.site_name) if s], host)

    lede, blocks = split_lede(tree, meta, title, blocks)
    body = "\n\n".join(b.text for b in blocks)
    if lede and not body:
        body, lede = lede, None
    full = "\n\n".join(p for p in (lede, body) if p)
    if len(full) < opts.min_body_chars:
        return None
    if not looks_like_article(tree, meta, word_count(full), published, listing):
        return None
    declared = declared_lang(meta, content_language)
    lang, conf, source = detect_language(full, declared) if opts.detect_lang else (None, None, None)
    return Article(
        title=title,
        lede=lede,
        body=body,
        author=author,
        published=published,
        site_name=site_name,
        canonical_url=meta.canonical or url,
        lang=lang,
        lang_confidence=round(conf, 4) if conf is not None else None,
        declared_lang=declared,
        lang_source=source,
        # Lines dropped as learned boilerplate of the site, so that learning keeps counting them.
        extra={SITE_LINES_REMOVED: "\n".join(removed)} if removed else {},
    )

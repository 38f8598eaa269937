"""The orchestration of extraction: raw HTML in, a clean :class:`~crawler.items.Article` (or None) out.

Each stage is a module of this package; :func:`extract` runs them in order and never raises on bad
input.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from lxml import etree

from crawler.extract.access import page_access
from crawler.extract.authors import page_authors
from crawler.extract.blocks import extract_blocks
from crawler.extract.dates import page_dates
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
from crawler.extract.page_kind import Rejected, Rejection, is_listing, longest_prose_run, not_article
from crawler.extract.rules import (
    agree_with_article_body,
    card_texts,
    drop_author_notes,
    drop_card_teasers,
    drop_company_notes,
    drop_headlines,
    in_cards,
    teaser_list_texts,
    teasers,
    text_share,
)
from crawler.extract.standfirst import split_lede
from crawler.extract.title import headline_variants, pick_title
from crawler.items import Article
from crawler.lang import detect_language
from crawler.text import clean_text, word_count

__all__ = ["explain", "extract"]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

_P = ParamSpec("_P")
_R = TypeVar("_R")


def explain(
    html: str | bytes,
    url: str | None = None,
    *,
    content_language: str | None = None,
    options: ExtractOptions | None = None,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> Article | Rejection:
    """The clean article of ``html``, or the :class:`Rejection` saying why the page has none.

    ``content_language`` and ``content_type`` are the page's HTTP headers when known: the first is a
    declared language, the second may name the charset of ``html`` bytes. ``fetched_at`` (naive UTC
    or aware; default now) is when the page was fetched: no publication date is later.
    """
    opts = options or DEFAULT_OPTIONS
    try:
        return _extract(html, url, content_language, content_type, opts, fetched_at)
    except (ValueError, TypeError, etree.LxmlError, RecursionError) as exc:
        logger.warning("extraction failed for %s: %s", url, exc)
        return Rejection(Rejected.ERROR, f"{type(exc).__name__}: {exc}")


def _parameters_of(source: Callable[_P, object]) -> Callable[[Callable[..., _R]], Callable[_P, _R]]:
    """Give the decorated function the parameters of ``source``, for type checkers and ``help()``: one
    signature written once for two functions."""

    def decorate(func: Callable[..., _R]) -> Callable[_P, _R]:
        returns = inspect.signature(func).return_annotation
        signature = inspect.signature(source).replace(return_annotation=returns)
        func.__signature__ = signature  # type: ignore[attr-defined]
        return func

    return decorate


@_parameters_of(explain)
def extract(*args: Any, **kwargs: Any) -> Article | None:
    """Extract the clean article from ``html``; None when the page is not an article or is empty.

    The parameters are :func:`explain`'s.
    """
    res = explain(*args, **kwargs)
    return res if isinstance(res, Article) else None


def _extract(
    html: str | bytes,
    url: str | None,
    content_language: str | None,
    content_type: str | None,
    opts: ExtractOptions,
    fetched_at: datetime | None,
) -> Article | Rejection:
    tree = load_page(html, content_type)
    if tree is None:
        return Rejection(Rejected.EMPTY)
    meta = read_meta(tree)
    extracted = extract_blocks(tree, opts)
    if extracted is None:
        return Rejection(Rejected.NO_CONTENT)
    raw_blocks, blocks = extracted
    removed = removed_site_lines(raw_blocks, blocks, opts.site_boilerplate)

    # What kind of page: the running text outside teasers is the body an article page has and an
    # index page lacks; most of the text made of teaser-list summaries makes an index.
    page_teasers = teasers(tree)
    in_teaser = in_cards(raw_blocks, [t for texts in page_teasers.values() for t in texts])
    prose = longest_prose_run([b for b, t in zip(raw_blocks, in_teaser, strict=True) if not t])
    in_teaser_list = in_cards(blocks, teaser_list_texts(page_teasers))
    listing = is_listing(raw_blocks, prose) or text_share(blocks, in_teaser_list) > 0.5

    # Block rules that need the page: teaser cards, articleBody, the headline, the author's and
    # company's notes at the end.
    host = url_host(url)
    in_card = in_cards(blocks, card_texts(tree))
    blocks = drop_card_teasers(blocks, [a or b for a, b in zip(in_card, in_teaser_list, strict=True)])
    if meta.ld_body:
        blocks = agree_with_article_body(blocks, clean_text(meta.ld_body))
    site_name = site_name_of(meta)
    title = pick_title(meta, None, site_name, host, tree)
    published = published_date(tree, meta)
    # The body never repeats the title, in any of the page's wordings of it (og, JSON-LD, <h1>...).
    blocks = drop_headlines(blocks, headline_variants(meta, title))
    byline = page_authors(meta, site_name, host, tree)
    # The author's note at the end is found by the names the page's metadata gives (a visible byline's
    # names would also drop the bios some sites count as article text).
    named = author_of(meta)
    if named:
        blocks = drop_author_notes(blocks, named)
    blocks = drop_company_notes(blocks, [s for s in (site_name, meta.site_name) if s], host)

    lede, blocks = split_lede(tree, meta, title, blocks)
    body = "\n\n".join(b.text for b in blocks)
    if lede and not body:
        body, lede = lede, None
    full = "\n\n".join(p for p in (lede, body) if p)
    if len(full) < opts.min_body_chars:
        return Rejection(Rejected.TOO_SHORT, f"{len(full)} characters")
    verdict = not_article(tree, meta, url, published, prose, listing)
    if verdict is not None:
        return Rejection(verdict, f"{word_count(full)} words, longest run of prose {prose} words")
    # The publication date as page-kind evidence is the structured one; the full reading (with
    # offsets, modified, htmldate's fallback) is for articles only.
    dates = page_dates(tree, meta, url, fetched_at)
    kept = {b.text for b in blocks}
    last = max((i for i, b in enumerate(raw_blocks) if b.text in kept), default=len(raw_blocks) - 1)
    access = page_access(meta, word_count(full), [b.text for b in raw_blocks[last + 1 :]])
    declared = declared_lang(meta, content_language)
    lang, conf, source = detect_language(full, declared) if opts.detect_lang else (None, None, None)
    return Article(
        title=title,
        lede=lede,
        body=body,
        author=byline.joined,
        published=dates.published,
        modified=dates.modified,
        published_source=dates.published_source,
        authors=byline.authors,
        credit=byline.credit,
        access=access.access,
        truncated=access.truncated,
        boilerplate_hits=len(removed) if opts.site_boilerplate else None,
        site_name=site_name,
        canonical_url=meta.canonical or url,
        lang=lang,
        lang_confidence=round(conf, 4) if conf is not None else None,
        declared_lang=declared,
        lang_source=source,
        # Lines dropped as learned boilerplate of the site, so that learning keeps counting them.
        extra={SITE_LINES_REMOVED: "\n".join(removed)} if removed else {},
    )

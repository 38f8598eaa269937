"""Whether a page is an article at all, rather than an index, section, listing or service page.

A page is rejected only on positive evidence that it is not an article: its main text is a list of
links or teaser summaries with no stretch of running text, or it declares itself an index page
(Open Graph, JSON-LD) or is linked from its own site menus, and has no such stretch either. Lacking
the marks of a modern article page (metadata, a machine-readable date, an ``<article>`` element) is
no evidence: older pages have none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urljoin

from lxml.html import HtmlElement

from crawler.boilerplate import Block
from crawler.extract.metadata import PageMeta
from crawler.text import word_count

__all__ = [
    "LINK_LINE_SHARE",
    "LISTING_PROSE_WORDS",
    "PROSE_LINE_WORDS",
    "PROSE_RUN_WORDS",
    "Rejected",
    "Rejection",
    "is_listing",
    "longest_prose_run",
    "not_article",
]


class Rejected(StrEnum):
    """Why a page yields no article."""

    EMPTY = "empty"  # no bytes, no text, or no parseable HTML
    NO_CONTENT = "no_content"  # trafilatura found no main text
    TOO_SHORT = "too_short"  # less clean text than ExtractOptions.min_body_chars
    LISTING = "listing"  # the main text is links or teaser summaries: an index
    INDEX_PAGE = "index_page"  # declares itself an index (og:type website...) and has no running text
    SITE_PAGE = (
        "site_page"  # linked from its own site menus, no date, no running text: a section/service page
    )
    ERROR = "error"  # the parser or extractor failed on the page


@dataclass(frozen=True)
class Rejection:
    """No article on the page, and why."""

    reason: Rejected
    detail: str = ""


_NON_ARTICLE_TYPES = {
    "website",
    "collectionpage",
    "itemlist",
    "searchresultspage",
    "profilepage",
    "aboutpage",
    "contactpage",
    "faqpage",
    "product",
    "organization",
    "person",
    "webpage",
}

# A run of consecutive paragraphs of running text (no link lines between them) this long is an
# article's body, whatever links stand around it...
PROSE_RUN_WORDS = 100
# ...and on a page of link lines (a blog post among its archive links), even this much.
LISTING_PROSE_WORDS = 60
# A block with at least this share of link text is a link line, not running text.
LINK_LINE_SHARE = 0.5
# A line shorter than this is no running text (a menu entry, a date, a subheading).
PROSE_LINE_WORDS = 12


def longest_prose_run(blocks: list[Block]) -> int:
    """Words in the longest run of blocks of running text that no link line interrupts (headings
    and short lines, subheadings or dates, neither count nor break a run)."""
    best = run = 0
    for b in blocks:
        if b.link_ratio >= LINK_LINE_SHARE:
            run = 0
        elif b.kind != "head":
            words = word_count(b.text)
            if words >= PROSE_LINE_WORDS:
                run += words
                best = max(best, run)
    return best


def is_listing(blocks: list[Block], prose: int) -> bool:
    """Positive evidence of an index: trafilatura's ``blocks`` are mostly link lines, and no stretch
    of running text (``prose`` words, :func:`longest_prose_run`) is long enough for an article."""
    link_lines = sum(1 for b in blocks if b.link_ratio >= LINK_LINE_SHARE)
    return link_lines >= 5 and link_lines >= 0.4 * len(blocks) and prose < LISTING_PROSE_WORDS


def _url_key(url: str) -> str:
    """A URL as compared for "the same page": no scheme, ``www.``, fragment or trailing slash."""
    u = url.split("#", 1)[0].strip()
    u = re.sub(r"^[a-z][a-z0-9+.-]*://(?:www\.)?", "", u, flags=re.IGNORECASE)
    host, _, rest = u.partition("/")
    return f"{host.lower()}/{rest}".rstrip("/")


def _linked_from_own_chrome(tree: HtmlElement, urls: list[str]) -> bool:
    """Whether the site's navigation, header or footer on the page links to the page itself: the
    mark of a section or service page (home, sections, about, contact, privacy), which the site's
    chrome links to from every page, unlike its articles."""
    keys = {_url_key(u) for u in urls}
    if not keys:
        return False
    for el in tree.iter("nav", "header", "footer"):
        if next(el.iterancestors("article"), None) is not None:
            continue  # an article's own header (its permalink), not the site's chrome
        for a in el.iter("a"):
            href = (a.get("href") or "").strip()
            if not href or href.startswith(("#", "javascript:", "mailto:")) or a.get("hreflang"):
                continue  # a language switcher links every page to itself
            if _url_key(urljoin(urls[0], href)) in keys:
                return True
    return False


def not_article(
    tree: HtmlElement, meta: PageMeta, url: str | None, date: str | None, prose: int, listing: bool
) -> Rejected | None:
    """The positive evidence that the page is not an article, or None for an article.

    ``prose`` is the longest stretch of running text outside teasers (:func:`longest_prose_run`);
    ``listing`` says the main text is an index (:func:`is_listing`, or teaser summaries).
    """
    og = (meta.og_type or "").lower()
    ld = (meta.ld_type or "").lower()
    strong = (
        og.startswith("article")
        or og in ("news", "blog", "video.other")
        or (bool(ld) and ld not in _NON_ARTICLE_TYPES)
    )
    if strong:
        return None
    if listing:
        return Rejected.LISTING
    declared_index = (
        og in ("website", "profile", "product")
        or ld in _NON_ARTICLE_TYPES
        or bool(meta.ld_other & {"collectionpage", "itemlist", "searchresultspage"})
    )
    if declared_index and prose < PROSE_RUN_WORDS:
        # Many article pages carry a generic og:type: a stretch of running text still reads as one.
        return Rejected.INDEX_PAGE
    urls = [u for u in (url, meta.canonical) if u]
    if prose < PROSE_RUN_WORDS and date is None and _linked_from_own_chrome(tree, urls):
        return Rejected.SITE_PAGE
    return None

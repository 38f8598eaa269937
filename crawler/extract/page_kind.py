"""Whether a page is an article at all, rather than an index, section, listing or service page."""

from __future__ import annotations

from lxml.html import HtmlElement

from crawler.boilerplate import Block
from crawler.extract.metadata import PageMeta

__all__ = ["is_listing", "looks_like_article"]

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


def looks_like_article(
    tree: HtmlElement, meta: PageMeta, words: int, date: str | None, listing: bool
) -> bool:
    """Whether the page is an article rather than an index, section or service page.

    ``listing`` says the extracted text was mostly separate links (a teaser list).
    """
    og = (meta.og_type or "").lower()
    ld = (meta.ld_type or "").lower()
    strong = (
        og.startswith("article")
        or og in ("news", "blog", "video.other")
        or (bool(ld) and ld not in _NON_ARTICLE_TYPES)
    )
    if strong:
        return True
    if listing:
        return False
    declared_index = (
        og in ("website", "profile", "product")
        or ld in _NON_ARTICLE_TYPES
        or bool(meta.ld_other & {"collectionpage", "itemlist", "searchresultspage"})
    )
    if declared_index:
        # Many article pages carry a generic og:type; a long running text still reads as one.
        return words >= 250
    has_article_el = tree.find(".//article") is not None
    return words >= 80 and (has_article_el or date is not None) or words >= 200


def is_listing(blocks: list[Block]) -> bool:
    """Whether trafilatura's ``blocks`` are mostly separate links (a teaser list, not an article)."""
    link_blocks = sum(1 for b in blocks if b.link_ratio >= 0.5)
    return link_blocks >= 5 and link_blocks >= 0.4 * len(blocks)

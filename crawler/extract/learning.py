"""What extraction hands to per-site boilerplate learning (:mod:`archive.boilerplate`): the lines of
an article to count, including the learned lines the extraction removed."""

from __future__ import annotations

from collections.abc import Sequence

from crawler.boilerplate import Block, is_site_line, site_lines_of
from crawler.items import Article

__all__ = ["SITE_LINES_REMOVED", "lines_for_learning", "removed_site_lines"]

SITE_LINES_REMOVED = "site_boilerplate_removed"


def lines_for_learning(article: Article) -> list[str]:
    """The normalised lines of ``article`` to count for per-site boilerplate learning
    (``archive.boilerplate.record_lines``): its clean text plus the learned lines extract removed."""
    removed = article.extra.get(SITE_LINES_REMOVED, "")
    return site_lines_of("\n".join(p for p in (article.text, removed) if p))


def removed_site_lines(raw: Sequence[Block], kept: Sequence[Block], site_lines: frozenset[str]) -> list[str]:
    """The texts of ``raw`` blocks that the cleaning dropped as learned ``site_lines`` of the site."""
    if not site_lines:
        return []
    kept_texts = {b.text for b in kept}
    return [b.text for b in raw if b.text.strip() not in kept_texts and is_site_line(b.text, site_lines)]

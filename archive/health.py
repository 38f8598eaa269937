"""Extraction health: each site's recent crawls compared with its own history, so that a redesign that
silently breaks extraction is noticed at the next crawl rather than months later.

Per site and time window the figures are: pages seen (archived articles fetched in the window and pages
not archived as ``not_article``/``empty_body`` in it), the share of those rejected as not articles, the
share of empty bodies, the median body length (words) of the articles, and the shares of articles with a
title, a publication date, an author (or credit) and a lede, and the share in the language the site's
history mostly has (the language mix). A site is flagged when a share moves by more
than ``threshold`` (absolute) or the median length changes by more than ``threshold`` (relative) between
its history and the recent window, both having at least ``min_pages`` pages.

The archive keeps one row per URL (its latest fetch), so the history is what earlier crawls left: the
articles last fetched before the window and the pages not archived then.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.models import Article, FetchFailure
from crawler.reasons import Reason
from crawler.urls import domain_of

__all__ = ["SHARES", "SiteFigures", "SiteHealth", "site_health"]

# The shares compared, in the order they are shown.
SHARES = ("rejected", "empty", "with_title", "with_date", "with_author", "with_lede", "main_lang_share")
_EXAMPLES = 3


@dataclass
class SiteFigures:
    """One site's figures over one window."""

    pages: int = 0
    articles: int = 0
    rejected: float = 0.0
    empty: float = 0.0
    median_words: float = 0.0
    with_title: float = 0.0
    with_date: float = 0.0
    with_author: float = 0.0
    with_lede: float = 0.0
    main_lang: str | None = None  # the site's most common language in its history
    main_lang_share: float = 0.0  # the share of the window's articles in it


@dataclass
class SiteHealth:
    """A site's history beside its recent window, and what moved beyond the threshold."""

    site: str
    history: SiteFigures
    recent: SiteFigures
    flags: list[str] = field(default_factory=list)  # e.g. "rejected 0.00 -> 1.00"
    examples: list[str] = field(default_factory=list)  # URLs of typical recent pages of a flagged site

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": self.flagged}


@dataclass
class _Tally:
    words: list[int] = field(default_factory=list)
    titled: int = 0
    dated: int = 0
    authored: int = 0
    led: int = 0
    rejected: int = 0
    empty: int = 0
    rejected_urls: list[str] = field(default_factory=list)
    short_urls: list[tuple[int, str]] = field(default_factory=list)
    article_urls: set[str] = field(default_factory=set)
    langs: Counter[str] = field(default_factory=Counter)

    def figures(self) -> SiteFigures:
        n = len(self.words)
        pages = n + self.rejected + self.empty
        return SiteFigures(
            pages=pages,
            articles=n,
            rejected=round(self.rejected / pages, 4) if pages else 0.0,
            empty=round(self.empty / pages, 4) if pages else 0.0,
            median_words=float(statistics.median(self.words)) if n else 0.0,
            with_title=round(self.titled / n, 4) if n else 0.0,
            with_date=round(self.dated / n, 4) if n else 0.0,
            with_author=round(self.authored / n, 4) if n else 0.0,
            with_lede=round(self.led / n, 4) if n else 0.0,
        )


def _tallies(
    session: Session, since: datetime, site: str | None
) -> tuple[dict[str, _Tally], dict[str, _Tally]]:
    history: dict[str, _Tally] = {}
    recent: dict[str, _Tally] = {}
    # Whether each field is there, not its text: the scan stays light on a large archive.
    rows = select(
        Article.domain,
        Article.url,
        Article.fetched_at,
        Article.word_count,
        Article.title.is_not(None),
        Article.published.is_not(None),
        or_(Article.author.is_not(None), Article.credit.is_not(None)),
        Article.lede.is_not(None),
        Article.lang,
    )
    if site:
        rows = rows.where(Article.domain == site)
    for domain, url, fetched, words, title, published, author, lede, lang in session.execute(rows):
        tally = (recent if fetched >= since else history).setdefault(domain, _Tally())
        tally.words.append(words)
        tally.titled += bool(title)
        tally.dated += bool(published)
        tally.authored += bool(author)
        tally.led += bool(lede)
        tally.short_urls.append((words, url))
        tally.article_urls.add(url)
        tally.langs[lang or "?"] += 1
    skipped = select(FetchFailure.url, FetchFailure.failed_at, FetchFailure.reason).where(
        FetchFailure.reason.in_([Reason.NOT_ARTICLE.value, Reason.EMPTY_BODY.value])
    )
    for url, failed_at, reason in session.execute(skipped):
        domain = domain_of(url)
        if site and domain != site:
            continue
        tally = (recent if failed_at >= since else history).setdefault(domain, _Tally())
        if reason == Reason.NOT_ARTICLE.value:
            tally.rejected += 1
        else:
            tally.empty += 1
        tally.rejected_urls.append(url)
    return history, recent


def site_health(
    session: Session,
    since: datetime,
    *,
    site: str | None = None,
    threshold: float = 0.3,
    min_pages: int = 5,
) -> list[SiteHealth]:
    """Every site's figures before ``since`` (naive UTC) and from it on, flagged where they moved."""
    history, recent = _tallies(session, since, site)
    out = []
    for domain in sorted(set(history) | set(recent)):
        old = history.get(domain, _Tally())
        new = recent.get(domain, _Tally())
        before, after = old.figures(), new.figures()
        # The language mix: the share of articles in the language the site's history mostly has.
        main = (old.langs or new.langs).most_common(1)
        if main:
            before.main_lang = after.main_lang = main[0][0]
            for figures, tally in ((before, old), (after, new)):
                n = sum(tally.langs.values())
                figures.main_lang_share = round(tally.langs[main[0][0]] / n, 4) if n else 0.0
        health = SiteHealth(domain, before, after)
        if before.pages >= min_pages and after.pages >= min_pages:
            for name in SHARES:
                a, b = getattr(before, name), getattr(after, name)
                if name not in ("rejected", "empty") and (not before.articles or not after.articles):
                    continue
                if abs(b - a) > threshold:
                    health.flags.append(f"{name} {a:.2f} -> {b:.2f}")
            if before.articles and after.articles and before.median_words:
                change = after.median_words / before.median_words - 1
                if abs(change) > threshold:
                    health.flags.append(f"median_words {before.median_words:g} -> {after.median_words:g}")
        if health.flags:
            # Typical pages: those that were articles before and are not now, then the other pages
            # not archived, then the shortest articles.
            lost = [u for u in new.rejected_urls if u in old.article_urls]
            rest = [u for u in new.rejected_urls if u not in old.article_urls]
            health.examples = (lost + rest + [u for _, u in sorted(new.short_urls)])[:_EXAMPLES]
        out.append(health)
    return out

"""Extraction health: each site's recent crawls compared with its own history, so that a redesign that
silently breaks extraction is noticed at the next crawl rather than months later.

Per site and time window the figures are: pages seen (archived articles fetched in the window and pages
not archived as ``not_article``/``empty_body`` in it), then the figures of :data:`METRICS`, one entry
each: the share of those rejected as not articles, the share of empty bodies, the shares of articles
with a title, a publication date, an author (or credit) and a lede, the share in the language the
site's history mostly has (the language mix), the median body length (words) of the articles, and the
mean number of learned-boilerplate lines extraction removed per article (``boilerplate_hits``, over the
articles extracted with learned lines: a redesign that changes the site's chrome makes them stop
matching). A site is flagged when a figure moves by more than its threshold between its history and
the recent window, both having at least ``min_pages`` pages: a share by that much (absolute), the
median length by that fraction (relative), the boilerplate hits by that fraction of the larger of
the two (either way, so that a jump from none counts too).

The archive keeps one row per URL (its latest fetch), so the history is what earlier crawls left: the
articles last fetched before the window and the pages not archived then.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.models import Article, FetchFailure
from crawler.reasons import Reason
from crawler.urls import domain_of

__all__ = ["METRICS", "THRESHOLD_SETTINGS", "Metric", "SiteFigures", "SiteHealth", "site_health"]

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
    boilerplate_pages: int = 0  # articles extracted with learned lines of the site (their hits counted)
    boilerplate_hits: float = 0.0  # learned-boilerplate lines removed per such article, on average


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
    main_lang: str | None = None  # the site's, from its history (set before the figures are taken)
    hits: list[tuple[int, str]] = field(default_factory=list)  # (boilerplate_hits, url) where counted

    @property
    def pages(self) -> int:
        return len(self.words) + self.rejected + self.empty

    def figures(self) -> SiteFigures:
        figures = SiteFigures(
            pages=self.pages,
            articles=len(self.words),
            main_lang=self.main_lang,
            boilerplate_pages=len(self.hits),
        )
        for metric in METRICS:
            setattr(figures, metric.name, metric.value(self))
        return figures


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _absolute(before: float, after: float) -> float | None:
    return abs(after - before)


def _relative(before: float, after: float) -> float | None:
    return abs(after / before - 1) if before else None


def _either_way(before: float, after: float) -> float | None:
    larger = max(before, after)
    return abs(after - before) / larger if larger else 0.0


def _any_window(figures: SiteFigures, min_pages: int) -> bool:
    return True


def _with_articles(figures: SiteFigures, min_pages: int) -> bool:
    return figures.articles > 0


def _with_hits_counted(figures: SiteFigures, min_pages: int) -> bool:
    return figures.boilerplate_pages >= min_pages


def _main_lang_share(tally: _Tally) -> float:
    return _share(tally.langs[tally.main_lang], sum(tally.langs.values())) if tally.main_lang else 0.0


def _mean_hits(tally: _Tally) -> float:
    return round(statistics.fmean(n for n, _ in tally.hits), 4) if tally.hits else 0.0


def _pages_by_hits(old: _Tally, new: _Tally) -> list[str]:
    """The recent pages furthest from the history's hits: the fewest first when hits fell, the most
    when they rose."""
    sign = -1 if _mean_hits(new) > _mean_hits(old) else 1
    return [url for _, url in sorted(new.hits, key=lambda page: (sign * page[0], page[1]))]


@dataclass(frozen=True)
class Metric:
    """One figure compared between a site's history and its recent window."""

    name: str  # the SiteFigures field, and its name in flags and in `crawler health`'s table
    value: Callable[[_Tally], float]  # how it is computed from a window's pages
    moved: Callable[[float, float], float | None]  # how far it moved (history, recent); None: cannot tell
    compares: Callable[[SiteFigures, int], bool]  # whether a window's figure is compared (min_pages)
    setting: str = "CRAWLER_HEALTH_THRESHOLD"  # the setting holding how far it may move, and its default
    default: float = 0.3
    shown: str = ".2f"  # the format of its figures in flags and the table
    column: str = ""  # its header in `crawler health`'s table (default: the name)
    typical: Callable[[_Tally, _Tally], list[str]] | None = None  # its typical recent pages, when flagged


# The figures compared, in the order they are flagged and shown.
METRICS: tuple[Metric, ...] = (
    Metric("rejected", lambda t: _share(t.rejected, t.pages), _absolute, _any_window),
    Metric("empty", lambda t: _share(t.empty, t.pages), _absolute, _any_window),
    Metric("with_title", lambda t: _share(t.titled, len(t.words)), _absolute, _with_articles, column="title"),
    Metric("with_date", lambda t: _share(t.dated, len(t.words)), _absolute, _with_articles, column="date"),
    Metric(
        "with_author", lambda t: _share(t.authored, len(t.words)), _absolute, _with_articles, column="author"
    ),
    Metric("with_lede", lambda t: _share(t.led, len(t.words)), _absolute, _with_articles, column="lede"),
    Metric("main_lang_share", _main_lang_share, _absolute, _with_articles, column="main lang"),
    Metric(
        "median_words",
        lambda t: float(statistics.median(t.words)) if t.words else 0.0,
        _relative,
        _with_articles,
        shown="g",
        column="median words",
    ),
    Metric(
        "boilerplate_hits",
        _mean_hits,
        _either_way,
        _with_hits_counted,
        setting="CRAWLER_HEALTH_BOILERPLATE_THRESHOLD",
        default=0.5,
        column="boilerplate hits",
        typical=_pages_by_hits,
    ),
)
# Each threshold setting and its default.
THRESHOLD_SETTINGS: dict[str, float] = {m.setting: m.default for m in METRICS}


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
        Article.boilerplate_hits,
    )
    if site:
        rows = rows.where(Article.domain == site)
    for domain, url, fetched, words, title, published, author, lede, lang, hits in session.execute(rows):
        tally = (recent if fetched >= since else history).setdefault(domain, _Tally())
        tally.words.append(words)
        tally.titled += bool(title)
        tally.dated += bool(published)
        tally.authored += bool(author)
        tally.led += bool(lede)
        tally.short_urls.append((words, url))
        tally.article_urls.add(url)
        tally.langs[lang or "?"] += 1
        if hits is not None:  # NULL: extracted with no learned lines (or before they were counted)
            tally.hits.append((hits, url))
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
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    min_pages: int = 5,
) -> list[SiteHealth]:
    """Every site's figures before ``since`` (naive UTC) and from it on, flagged where they moved.

    Each metric may move by the value of its setting in ``thresholds`` (default: the metric's
    default, :data:`THRESHOLD_SETTINGS`); ``threshold``, when given, is every metric's.
    """
    limits = {**THRESHOLD_SETTINGS, **(thresholds or {})}
    history, recent = _tallies(session, since, site)
    out = []
    for domain in sorted(set(history) | set(recent)):
        old = history.get(domain, _Tally())
        new = recent.get(domain, _Tally())
        # The language mix: the share of articles in the language the site's history mostly has.
        main = (old.langs or new.langs).most_common(1)
        old.main_lang = new.main_lang = main[0][0] if main else None
        before, after = old.figures(), new.figures()
        health = SiteHealth(domain, before, after)
        flagged: list[Metric] = []
        if before.pages >= min_pages and after.pages >= min_pages:
            for metric in METRICS:
                if not (metric.compares(before, min_pages) and metric.compares(after, min_pages)):
                    continue
                a, b = getattr(before, metric.name), getattr(after, metric.name)
                moved = metric.moved(a, b)
                if moved is not None and moved > (
                    threshold if threshold is not None else limits[metric.setting]
                ):
                    health.flags.append(f"{metric.name} {a:{metric.shown}} -> {b:{metric.shown}}")
                    flagged.append(metric)
        if health.flags:
            # Typical pages: those of the flagged figures that say so (the pages with the fewest
            # learned lines...), then those that were articles before and are not now, then the
            # other pages not archived, then the shortest articles.
            own = [url for metric in flagged if metric.typical for url in metric.typical(old, new)]
            lost = [u for u in new.rejected_urls if u in old.article_urls]
            rest = [u for u in new.rejected_urls if u not in old.article_urls]
            generic = lost + rest + [u for _, u in sorted(new.short_urls)]
            health.examples = (own + [u for u in generic if u not in own])[:_EXAMPLES]
        out.append(health)
    return out

"""Running the ``article`` spider in-process, for the ``crawler`` command line.

Scrapy's settings come from the project's ``settings`` module (the same one ``scrapy crawl``
uses from the repo root), overridden by the caller.
"""

from __future__ import annotations

import importlib
import logging
import sys
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

__all__ = ["CrawlResult", "project_settings", "run_crawl"]

logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    """What a finished crawl reports: Scrapy's stats and the crawl_runs row id."""

    stats: dict[str, Any]
    finish_reason: str | None

    def count(self, key: str) -> int:
        return int(self.stats.get(key, 0))

    def prefixed(self, prefix: str) -> dict[str, int]:
        """Counters under ``prefix/`` without the prefix, e.g. prefixed("failed")."""
        n = len(prefix) + 1
        return {k[n:]: int(v) for k, v in self.stats.items() if k.startswith(prefix + "/")}


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The project's Scrapy settings (module ``settings``) with ``overrides`` on top."""
    settings = Settings()
    settings.setmodule(importlib.import_module("settings"), priority="project")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings


class _Progress:
    """A one-line live count of pages and articles on stderr, only when it is a terminal."""

    def __init__(self, crawler: Any) -> None:
        from rich.console import Console

        self.crawler = crawler
        self.console = Console(stderr=True)
        self.status: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> _Progress:
        ext = cls(crawler)
        if sys.stderr.isatty():
            crawler.signals.connect(ext.update, signal=signals.item_scraped)
            crawler.signals.connect(ext.update, signal=signals.item_dropped)
            crawler.signals.connect(ext.stop, signal=signals.spider_closed)
        return ext

    def update(self, *args: Any, **kwargs: Any) -> None:
        stats = self.crawler.stats
        text = (
            f"crawling: {stats.get_value('discovery/html_pages', 0)} pages, "
            f"{stats.get_value('archive/new', 0)} new articles, "
            f"{sum(v for k, v in stats.get_stats().items() if k.startswith('failed/'))} failed"
        )
        if self.status is None:
            self.status = self.console.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def stop(self, *args: Any, **kwargs: Any) -> None:
        if self.status is not None:
            self.status.stop()


def run_crawl(spider_kwargs: dict[str, Any], overrides: dict[str, Any] | None = None) -> CrawlResult:
    """Run the ``article`` spider to completion in this process and return its stats.

    Starts (and stops) the Twisted reactor, so it can run once per process.
    """
    from spiders.article import ArticleSpider

    settings = project_settings(overrides)
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions[f"{__name__}._Progress"] = 0
    settings.set("EXTENSIONS", extensions, priority="cmdline")
    process = CrawlerProcess(settings)
    if settings.get("LOG_LEVEL") != "DEBUG" and not settings.getbool("CRAWLER_LOG_FETCH_ERRORS"):
        # Failed fetches are recorded (fetch_failures) and summed up at the end; Scrapy's own
        # "gave up retrying" lines, with their tracebacks, would only repeat them.
        for name in ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    crawler = process.create_crawler(ArticleSpider)
    reasons: dict[str, str] = {}

    def _closed(spider: Any, reason: str) -> None:
        reasons["finish"] = reason

    crawler.signals.connect(_closed, signal=signals.spider_closed)
    process.crawl(crawler, **spider_kwargs)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return CrawlResult(stats=dict(stats), finish_reason=reasons.get("finish"))

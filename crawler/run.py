"""Running the ``article`` spider in-process, for the ``crawler`` command line.

Scrapy's settings come from the project's ``settings`` module (the same one ``scrapy crawl``
uses from the repo root), overridden by the caller.
"""

from __future__ import annotations

import importlib
import logging
import signal
from dataclasses import dataclass
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.wording import StatusLine

__all__ = ["CrawlResult", "project_settings", "run_crawl"]

logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    """What a crawl reports: Scrapy's stats (with the crawl_runs row id), why it finished
    (Scrapy's reason; None when it never closed: it did not start, or a second Ctrl-C stopped it
    at once), whether the spider was opened, and whether a signal (Ctrl-C, SIGTERM) stopped it."""

    stats: dict[str, Any]
    finish_reason: str | None
    started: bool = False
    interrupted: bool = False

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
        self.crawler = crawler
        self.line = StatusLine()

    @classmethod
    def from_crawler(cls, crawler: Any) -> _Progress:
        ext = cls(crawler)
        if ext.line.active:
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
        self.line.show(text)

    def stop(self, *args: Any, **kwargs: Any) -> None:
        self.line.stop()


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

    def _opened(spider: Any) -> None:
        reasons["opened"] = "yes"

    crawler.signals.connect(_opened, signal=signals.spider_opened)
    crawler.signals.connect(_closed, signal=signals.spider_closed)
    with _SignalWatch(process) as watch:
        process.crawl(crawler, **spider_kwargs)  # installs the reactor Scrapy is set to use
        watch.arm()
        process.start()
    try:
        stats = crawler.stats.get_stats()
    except RuntimeError:  # the crawl never started (the spider refused its arguments): no stats
        stats = {}
    return CrawlResult(
        stats=dict(stats),
        finish_reason=reasons.get("finish"),
        started="opened" in reasons,
        interrupted=watch.received > 0,
    )


class _SignalWatch:
    """Ctrl-C (SIGINT) and SIGTERM at any moment of a crawl run in this process.

    Scrapy installs its handlers (first signal: stop gracefully; second: stop at once) only once
    the reactor runs. A signal before that would raise KeyboardInterrupt in the middle of the
    crawl's start-up; instead it is noted here and, as soon as the reactor runs, handed to
    Scrapy's handler: the crawl stops gracefully right after starting. A second one before the
    reactor runs stops at once (KeyboardInterrupt). ``received`` counts the signals either way.
    Once the crawl is over the signals are ignored: the process is about to exit.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, process: Any) -> None:
        self.process = process
        self.received = 0
        self._early = False
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> Self:
        for signum in self.SIGNALS:
            self._saved[signum] = signal.signal(signum, self._before_start)
        return self

    def arm(self) -> None:
        """Once the reactor is installed: act on what came early as soon as it runs."""
        from twisted.internet import reactor as _reactor

        reactor: Any = _reactor
        # After Scrapy's own "after startup" trigger has installed its handlers.
        reactor.addSystemEventTrigger("after", "startup", lambda: reactor.callLater(0, self._started))

    def __exit__(self, *exc: object) -> None:
        # The crawl is over, stopped or not: what is left (the run record, the summary) takes
        # moments, and a late Ctrl-C must not turn it into a traceback.
        for signum in self._saved:
            signal.signal(signum, signal.SIG_IGN)

    def _before_start(self, signum: int, frame: Any) -> None:
        self.received += 1
        if self._early:
            raise KeyboardInterrupt
        self._early = True

    def _started(self) -> None:
        for signum in self.SIGNALS:
            handler = signal.getsignal(signum)
            if callable(handler) and handler is not self._before_start:
                signal.signal(signum, self._counting(handler))
        if self._early:
            self.process._signal_shutdown(signal.SIGINT, None)

    def _counting(self, handler: Any) -> Any:
        def counted(signum: int, frame: Any) -> None:
            self.received += 1
            handler(signum, frame)

        return counted

"""A crawl frontier shared by many crawler processes on Redis (scrapy-redis), adapted to our crawls.

With ``REDIS_URL`` set (setting, ``$REDIS_URL``, or ``crawler crawl --redis URL``), the add-on
:class:`SharedFrontier` makes scrapy-redis's scheduler and duplicate filter the crawl's: every
crawler process pointed at the same Redis shares one request queue and one seen-set, and the
queue outlives the processes (``SCHEDULER_PERSIST``). ``crawler enqueue`` pushes start URLs to
the fleet (:func:`enqueue`), which the crawlers take whenever they run out of work.

What we adapt, for the current Scrapy and for scheduled crawls:

- :class:`SharedScheduler` counts its stats without the ``spider=`` argument Scrapy deprecated.
- :class:`ExpiringDupeFilter`: scrapy-redis's seen-set keeps a fingerprint forever, which would
  block every later visit of a front page or feed, and every revisit of an article. Ours is a
  sorted set of fingerprints scored by when they were seen; a request counts as seen while its
  fingerprint is younger than its time to live: ``CRAWLER_REDIS_FRONT_TTL`` for start pages,
  sitemaps and feeds (long enough for a fleet started together to fetch each once, short
  enough for the next scheduled run), ``CRAWLER_REDIS_SEEN_TTL`` for the pages found from them
  (the incremental middleware then decides, from the archive, whether a page is fetched again).
  Requests with ``dont_filter`` (which bypass any seen-set) are never made here.
- :class:`FleetKeeper` keeps a crawler open while the fleet still works: Scrapy closes a spider
  as soon as its queue is empty, but a shared queue is momentarily empty whenever another
  crawler is extracting the page whose links come next. Each crawler keeps a heartbeat
  (``busy`` while it has requests, ``idle`` after) and closes only once the queue and the start
  URLs are empty and no other crawler is busy, for ``CRAWLER_REDIS_IDLE_CLOSE`` seconds.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured

__all__ = [
    "DEFAULT_PREFIX",
    "ExpiringDupeFilter",
    "FleetKeeper",
    "RedisFrontierError",
    "SharedFrontier",
    "SharedScheduler",
    "enqueue",
    "redis_url_of",
]

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "news-archiver"
START_URLS_KEY = "%(prefix)s:%(spider)s:start_urls"
_HEARTBEAT_SECONDS = 30  # a crawler's heartbeat lapses this long after it stopped (or was killed)

# Atomically: seen if the fingerprint was recorded less than TTL seconds ago, else (re)record it.
_SEEN_SCRIPT = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > tonumber(ARGV[2]) - tonumber(ARGV[3]) then
  return 1
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 0
"""


class RedisFrontierError(Exception):
    """The shared frontier cannot be used (scrapy-redis missing, Redis unreachable)."""


def redis_url_of(settings: Any) -> str:
    """The Redis URL of a crawl: the REDIS_URL setting, else $REDIS_URL, else empty (no Redis)."""
    return str(settings.get("REDIS_URL") or os.environ.get("REDIS_URL") or "")


def connect(url: str) -> Any:
    """A client of the Redis at ``url``, checked with a PING (RedisFrontierError if it fails)."""
    try:
        import redis
    except ImportError as exc:
        raise RedisFrontierError(
            "a shared frontier needs scrapy-redis: pip install 'news-archiver[redis]'"
        ) from exc
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise RedisFrontierError(f"cannot reach Redis at {url}: {exc}") from exc
    return client


def _keys(settings: Any, spider: str) -> dict[str, str]:
    prefix = settings.get("CRAWLER_REDIS_PREFIX") or DEFAULT_PREFIX
    values = {"prefix": prefix, "spider": spider}
    return {
        "start_urls": START_URLS_KEY % values,
        "fleet": f"{prefix}:{spider}:fleet:",
    }


def enqueue(
    url: str, entries: Iterable[tuple[str, str]], *, spider: str = "article", prefix: str = ""
) -> int:
    """Push start URLs, as (url, source) pairs (source ``start`` or ``seed``), for the crawlers
    sharing the Redis at ``url``; returns how many were pushed."""
    client = connect(url)
    key = START_URLS_KEY % {"prefix": prefix or DEFAULT_PREFIX, "spider": spider}
    payload = [json.dumps({"url": u, "source": source}) for u, source in entries]
    if payload:
        client.rpush(key, *payload)
    client.close()
    return len(payload)


class SharedFrontier:
    """Scrapy add-on (in ADDONS): with a Redis URL, the shared scheduler, seen-set and fleet keeper."""

    def __init__(self, crawler: Any = None) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedFrontier:
        return cls(crawler)

    def update_settings(self, settings: Any) -> None:
        url = redis_url_of(settings)
        if not url:
            return
        try:
            import scrapy_redis  # noqa: F401
        except ImportError as exc:
            raise RedisFrontierError(
                "REDIS_URL is set but scrapy-redis is not installed: pip install 'news-archiver[redis]'"
            ) from exc
        if settings.get("JOBDIR"):
            raise RedisFrontierError("JOBDIR and REDIS_URL exclude each other: the queue lives in Redis")
        prefix = settings.get("CRAWLER_REDIS_PREFIX") or DEFAULT_PREFIX
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", f"{__name__}.SharedScheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", f"{__name__}.ExpiringDupeFilter", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_QUEUE_KEY", f"{prefix}:%(spider)s:requests", priority="addon")
        settings.set("SCHEDULER_DUPEFILTER_KEY", f"{prefix}:%(spider)s:seen", priority="addon")
        # Whatever the priority EXTENSIONS was set with (crawler.run sets it from the command line).
        settings.set_in_component_priority_dict("EXTENSIONS", FleetKeeper, 0)


def _scheduler_base() -> Any:
    from scrapy_redis.scheduler import Scheduler

    return Scheduler


def _dupefilter_base() -> Any:
    from scrapy_redis.dupefilter import RFPDupeFilter

    return RFPDupeFilter


try:  # the classes exist only with the redis extra installed
    _Scheduler: Any = _scheduler_base()
    _DupeFilter: Any = _dupefilter_base()
except ImportError:  # pragma: no cover - SharedFrontier reports it
    _Scheduler = object
    _DupeFilter = object


class SharedScheduler(_Scheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler, counting stats without the deprecated ``spider=`` argument and
    marking its crawler busy in the fleet whenever it hands out a request."""

    keeper: FleetKeeper | None = None

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop(self.idle_before_close)
        if request is not None:
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
            if self.keeper is not None:
                self.keeper.beat("busy")
        return request


class ExpiringDupeFilter(_DupeFilter):  # type: ignore[misc]
    """A shared seen-set whose fingerprints expire (see the module docstring)."""

    def __init__(self, server: Any, key: str, debug: bool = False, *, front_ttl: float = 300.0,
                 page_ttl: float = 3600.0) -> None:  # fmt: skip
        super().__init__(server, key, debug)
        self.front_ttl = front_ttl
        self.page_ttl = page_ttl
        self._seen = server.register_script(_SEEN_SCRIPT)

    @classmethod
    def from_spider(cls, spider: Any) -> ExpiringDupeFilter:
        from crawler.incremental import parse_duration

        settings = spider.settings
        base = super().from_spider(spider)
        front = parse_duration(settings.get("CRAWLER_REDIS_FRONT_TTL", "5m"))
        page = parse_duration(settings.get("CRAWLER_REDIS_SEEN_TTL", "1h"))
        if not settings.getbool("CRAWLER_INCREMENTAL", True):
            # --full: every page again, so only what this fleet saw since this crawler started counts.
            page = front = min(page, front)
        return cls(base.server, base.key, base.debug, front_ttl=front, page_ttl=page)

    def request_seen(self, request: Request) -> bool:
        # Start pages, sitemaps and feeds are requested without the incremental mark.
        ttl = self.page_ttl if request.meta.get("incremental") else self.front_ttl
        fp = self.request_fingerprint(request)
        return bool(self._seen(keys=[self.key], args=[fp, time.time(), ttl]))

    def close(self, reason: str = "") -> None:
        # The seen-set is the fleet's: it stays when one crawler closes. Old entries go.
        horizon = time.time() - max(self.page_ttl, self.front_ttl)
        self.server.zremrangebyscore(self.key, "-inf", horizon)


class FleetKeeper:
    """Keep a crawler open until the fleet is done; hand it the start URLs pushed by ``crawler enqueue``."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.server = connect(redis_url_of(settings))
        self.keys: dict[str, str] = {}
        self.me = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.idle_close = settings.getfloat("CRAWLER_REDIS_IDLE_CLOSE", 5.0)
        self.batch = settings.getint("CRAWLER_REDIS_START_BATCH", 16)
        self.idle_since: float | None = None
        self._last_beat = 0.0

    @classmethod
    def from_crawler(cls, crawler: Any) -> FleetKeeper:
        if not redis_url_of(crawler.settings):
            raise NotConfigured("no REDIS_URL")
        keeper = cls(crawler)
        crawler.signals.connect(keeper.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(keeper.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(keeper.spider_closed, signal=signals.spider_closed)
        # Still busy while pages download and their items are extracted and stored.
        for signal in (signals.response_received, signals.item_scraped, signals.item_dropped):
            crawler.signals.connect(keeper.working, signal=signal)
        return keeper

    def working(self, *args: Any, **kwargs: Any) -> None:
        if self.keys:
            self.beat("busy")

    def spider_opened(self, spider: Any) -> None:
        self.keys = _keys(self.crawler.settings, spider.name)
        scheduler = self.crawler.engine.scheduler
        if isinstance(scheduler, SharedScheduler):
            scheduler.keeper = self
        self.beat("busy", force=True)

    def beat(self, state: str, *, force: bool = False) -> None:
        """Record this crawler's state in the fleet (at most once a second unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._last_beat < 1.0:
            return
        self._last_beat = now
        if state == "busy":
            self.idle_since = None
        self.server.set(self.keys["fleet"] + self.me, state, ex=_HEARTBEAT_SECONDS)

    def _others_busy(self) -> bool:
        mine = self.keys["fleet"] + self.me
        for key in self.server.scan_iter(match=self.keys["fleet"] + "*", count=100):
            name = key.decode() if isinstance(key, bytes) else key
            if name != mine and self.server.get(key) in (b"busy", "busy"):
                return True
        return False

    def spider_idle(self, spider: Any) -> None:
        started = self._take_start_urls(spider)
        if started:
            self.beat("busy", force=True)
            raise DontCloseSpider
        self.beat("idle", force=True)
        scheduler = self.crawler.engine.scheduler
        queued = self.server.llen(self.keys["start_urls"]) + (len(scheduler) if scheduler is not None else 0)
        if queued or self._others_busy():
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_close:
            raise DontCloseSpider
        logger.info("shared frontier: queue empty and every crawler idle for %.0fs: closing", self.idle_close)

    def _take_start_urls(self, spider: Any) -> int:
        count = 0
        for _ in range(self.batch):
            raw = self.server.lpop(self.keys["start_urls"])
            if raw is None:
                break
            try:
                entry = json.loads(raw)
                url, source = entry["url"], entry.get("source", "start")
            except (ValueError, KeyError, TypeError):
                logger.warning("shared frontier: ignored a malformed start entry %r", raw[:200])
                continue
            request = spider.start_request(url, source)
            if request is not None:
                self.crawler.engine.crawl(request)
                count += 1
        if count:
            self.crawler.stats.inc_value("frontier/enqueued_starts", count)
        return count

    def spider_closed(self, spider: Any) -> None:
        self.server.delete(self.keys["fleet"] + self.me)
        self.server.close()

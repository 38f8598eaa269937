"""A crawl frontier shared on Redis: two crawler processes split one site between them and archive
every page exactly once (in PostgreSQL); `crawler enqueue` feeds a running crawler; later runs
fetch the front page again; and the adaptations of scrapy-redis to current Scrapy hold."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.http import Request
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select

from archive.db import make_engine, make_sessionmaker
from archive.models import Article
from crawler.redis_frontier import ExpiringDupeFilter, SharedScheduler
from crawler.siteserver import serve_directory
from spiders.article import ArticleSpider
from tests.conftest import FAST, REPO, _env, run_cli
from tests.newsgen import invoke, write_site

# Loopback and a small machine: one extraction worker each, and a fleet that closes soon once done.
FLEET = (*FAST, "-s", "CRAWLER_EXTRACT_WORKERS=1", "-s", "CRAWLER_REDIS_IDLE_CLOSE=2")


def _crawler_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "crawler", "crawl", *args]


def _articles(url: str) -> tuple[int, int]:
    engine = make_engine(url, readonly=True)
    with make_sessionmaker(engine)() as session:
        total = session.scalar(select(func.count(Article.id))) or 0
        distinct = session.scalar(select(func.count(func.distinct(Article.url)))) or 0
    engine.dispose()
    return total, distinct


def _spider(redis_url: str, **settings: object) -> tuple[object, ArticleSpider]:
    crawler = get_crawler(ArticleSpider, {"REDIS_URL": redis_url, "ARCHIVE_URL": "", **settings})
    crawler.spider = crawler._create_spider(urls="http://127.0.0.1:9/")
    return crawler, crawler.spider


@pytest.mark.slow
def test_two_crawlers_archive_every_page_once(tmp_path: Path, pg_url: str, redis_url: str):
    paths = write_site(tmp_path / "site", 300, home_links=20, children=14)  # home -> 20 -> 280
    with serve_directory(tmp_path / "site") as server:
        args = (server.url + "/", "--db", pg_url, "--redis", redis_url, *FLEET)
        procs = [
            subprocess.Popen(
                _crawler_cmd(*args),
                cwd=REPO,
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in procs]
        hits = {path: server.hits_for(path) for path in paths}
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    archived = [int(out.split("Archived ", 1)[1].split(" new")[0]) for out, _ in outs]
    assert sum(archived) == 300 and min(archived) > 0, archived  # both worked, neither twice
    assert _articles(pg_url) == (300, 300)
    assert set(hits.values()) == {1}, {p: n for p, n in hits.items() if n != 1}  # each page fetched once


@pytest.mark.slow
def test_enqueue_feeds_a_running_crawler_and_later_runs_refetch_the_front_page(
    tmp_path: Path, redis_url: str
):
    write_site(tmp_path / "site", 12)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    with serve_directory(tmp_path / "site") as server:
        # A crawler with no URL of its own works from the shared queue; it stays up while idle.
        worker = subprocess.Popen(
            _crawler_cmd("--db", db, "--redis", redis_url, *FLEET, "-s", "CRAWLER_REDIS_IDLE_CLOSE=8"),
            cwd=REPO,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        proc = invoke("enqueue", server.url + "/", "--redis", redis_url)
        assert proc.exit_code == 0 and "Queued 1 start URL on" in proc.stdout, proc.stderr
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        assert "Archived 12 new" in out
        assert server.hits_for("/") == 1
        # The next scheduled run (once the front page's fingerprint expired) fetches the front page
        # again and finds the new story; the stories archived already are not requested again.
        write_site(tmp_path / "site", 13)
        time.sleep(1.5)
        proc2 = run_cli(
            "crawl",
            server.url + "/",
            "--db",
            db,
            "--redis",
            redis_url,
            *FLEET,
            "-s",
            "CRAWLER_REDIS_FRONT_TTL=1",
        )
        assert proc2.returncode == 0, proc2.stderr[-2000:]
        assert "Archived 1 new" in proc2.stdout
        assert server.hits_for("/") == 2
        assert server.hits_for("/news/story-0.html") == 1 and server.hits_for("/news/story-12.html") == 1
    assert _articles(db) == (13, 13)


def test_enqueue_usage_errors(redis_url: str, tmp_path: Path):
    proc = invoke("enqueue", "ftp://x.example/", "--redis", redis_url)
    assert proc.exit_code == 2 and "not an http(s) URL" in proc.stderr
    proc = invoke("enqueue", "http://x.example/", "--redis", "redis://127.0.0.1:1/0")
    assert proc.exit_code == 1 and "cannot reach Redis at redis://127.0.0.1:1/0" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("http://x.example/a.html\nhttp://x.example/b.html\n")
    proc = invoke("enqueue", "--seeds", str(seeds), "--redis", redis_url)
    assert proc.exit_code == 0 and "Queued 2 start URLs" in proc.stdout
    assert redis.Redis.from_url(redis_url).llen("news-archiver:article:start_urls") == 2


def test_crawl_refuses_jobdir_with_redis_and_an_unreachable_redis(tmp_path: Path):
    proc = run_cli("crawl", "http://127.0.0.1:9/", "--redis", "redis://127.0.0.1:1/0", "--db",
                   f"sqlite:///{tmp_path / 'a.db'}")  # fmt: skip
    assert proc.returncode == 1 and "cannot reach Redis at redis://127.0.0.1:1/0" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli(
        "crawl", "http://127.0.0.1:9/", "--redis", "redis://127.0.0.1:1/0", "--jobdir", str(tmp_path)
    )
    assert proc.returncode == 2 and "exclude each other" in proc.stderr


def test_scheduler_counts_stats_without_the_deprecated_spider_argument(redis_url: str):
    """scrapy-redis's own scheduler passes spider= to the stats (a deprecation warning, an error under
    this suite's filterwarnings); ours does not."""
    from scrapy_redis.scheduler import Scheduler

    crawler, spider = _spider(redis_url, SCHEDULER_QUEUE_KEY="t:%(spider)s:requests",
                              SCHEDULER_DUPEFILTER_KEY="t:%(spider)s:seen",
                              DUPEFILTER_CLASS="crawler.redis_frontier.ExpiringDupeFilter")  # fmt: skip
    ours = SharedScheduler.from_crawler(crawler)
    ours.open(spider)
    request = spider.start_request("http://127.0.0.1:9/", "start")
    assert request is not None and not request.dont_filter  # start requests go through the seen-set
    assert ours.enqueue_request(request) is True
    assert ours.enqueue_request(request.replace()) is False  # the same page again: seen
    got = ours.next_request()
    assert got is not None and got.url == request.url and got.callback == spider.parse
    assert crawler.stats.get_value("scheduler/enqueued/redis") == 1
    assert crawler.stats.get_value("scheduler/dequeued/redis") == 1
    theirs = Scheduler.from_crawler(crawler)
    theirs.open(spider)
    with pytest.warns(ScrapyDeprecationWarning):
        theirs.enqueue_request(Request("http://127.0.0.1:9/other"))


def test_seen_fingerprints_expire(redis_url: str):
    _, spider = _spider(redis_url, CRAWLER_REDIS_FRONT_TTL="5m", CRAWLER_REDIS_SEEN_TTL="1h")
    seen = ExpiringDupeFilter.from_spider(spider)
    front = spider.start_request("http://127.0.0.1:9/", "start")
    page = spider._request("http://127.0.0.1:9/news/a.html", source="link", depth=1)
    assert front is not None and page is not None
    assert not seen.request_seen(front) and seen.request_seen(front)
    assert not seen.request_seen(page) and seen.request_seen(page)
    client = redis.Redis.from_url(redis_url)
    # Ten minutes later: the front page is due again, the page found from it is not.
    for member, score in client.zrange(seen.key, 0, -1, withscores=True):
        client.zadd(seen.key, {member: score - 600})
    assert not seen.request_seen(front) and seen.request_seen(page)
    # Two hours later: the page too (the incremental middleware then decides from the archive).
    for member, score in client.zrange(seen.key, 0, -1, withscores=True):
        client.zadd(seen.key, {member: score - 7200})
    assert not seen.request_seen(page)
    _, spider_full = _spider(redis_url, CRAWLER_INCREMENTAL=False)
    assert ExpiringDupeFilter.from_spider(spider_full).page_ttl == 300.0  # --full: pages as often as fronts

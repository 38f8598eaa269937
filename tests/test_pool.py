"""The extraction worker pool: time limit, recycling, errors as failures; and a crawl through it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest

from archive.store import utcnow
from crawler.items import Article, RawPage
from crawler.pool import ExtractionPool, PoolClosed, TaskFailed, TaskMemory, TaskTimeout
from pipelines import ExtractedPage, Extraction, StorePipeline
from tests.conftest import FAST, REPO, run_scrapy


# Task functions: module level, so that workers can unpickle them by name.
def pid_of_worker(_: object = None) -> int:
    return os.getpid()


def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def spin(seconds: float) -> int:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return os.getpid()


def fail(message: str) -> None:
    raise ValueError(message)


def die(code: int) -> None:
    os._exit(code)


def allocate(size: int) -> tuple[int, int]:
    """Allocate ``size`` bytes; return the worker's pid and its peak RSS in KiB."""
    import resource

    block = bytearray(size)
    return os.getpid(), len(block) and resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_worker_over_its_memory_limit_fails_the_task_and_is_replaced():
    limit = 1 << 30
    with ExtractionPool(1, func=allocate, timeout=30, max_memory=limit) as pool:
        first, _ = pool.submit(1 << 20).result(timeout=60)
        with pytest.raises(TaskMemory):
            pool.submit(3 << 30).result(timeout=60)  # 3 GiB
        after, peak_kib = pool.submit(1 << 20).result(timeout=60)
        assert after != first, "the worker over its limit was not replaced"
        assert peak_kib * 1024 < limit
        assert pool.counts["memory"] == 1 and pool.counts["lost"] == 0


@pytest.mark.parametrize("stuck", [nap, spin])
def test_task_over_time_limit_is_abandoned_and_worker_replaced(stuck):
    with ExtractionPool(1, func=stuck, timeout=0.5, start_method="forkserver") as pool:
        first = pool.submit(0).result(timeout=30)
        started = time.monotonic()
        with pytest.raises(TaskTimeout):
            pool.submit(30).result(timeout=30)
        assert time.monotonic() - started < 10
        after = pool.submit(0).result(timeout=30)
        assert after != first, "the stuck worker was not replaced"
        assert pool.counts["timeouts"] == 1
        assert pool.worker_pids() == [after]
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


def test_workers_recycled_after_max_tasks():
    with ExtractionPool(1, func=pid_of_worker, timeout=10, max_tasks_per_worker=3) as pool:
        pids = [pool.submit().result(timeout=30) for _ in range(7)]
        assert pids[0] == pids[1] == pids[2]
        assert pids[3] == pids[4] == pids[5]
        assert len({pids[0], pids[3], pids[6]}) == 3
        assert pool.counts["recycled"] == 2


def test_exception_in_worker_is_a_failure_and_worker_goes_on():
    with ExtractionPool(1, func=fail, timeout=10) as pool:
        with pytest.raises(TaskFailed) as info:
            pool.submit("boom").result(timeout=30)
        assert "ValueError: boom" in str(info.value)
        assert "Traceback" in info.value.detail
        assert pool.counts["errors"] == 1 and pool.counts["started"] == 1


def test_dead_worker_is_a_failure_and_replaced():
    with ExtractionPool(1, func=die, timeout=10) as pool:
        with pytest.raises(TaskFailed, match="died"):
            pool.submit(3).result(timeout=30)
        assert pool.counts["lost"] == 1
        with pytest.raises(TaskFailed):
            pool.submit(4).result(timeout=30)  # a new worker ran (and died) again


def test_tasks_run_in_parallel_and_closed_pool_refuses():
    pool = ExtractionPool(2, func=nap, timeout=10)
    try:
        pool.submit(0).result(timeout=30)
        started = time.monotonic()
        futures = [pool.submit(0.6) for _ in range(2)]
        pids = {f.result(timeout=30) for f in futures}
        assert len(pids) == 2
        assert time.monotonic() - started < 1.1
    finally:
        pool.close()
    with pytest.raises(PoolClosed):
        pool.submit(0)


def test_default_function_is_extract():
    html = (
        "<html lang='en'><head><title>Harbour plan</title></head><body><article><h1>Harbour plan</h1>"
        + "".join(
            f"<p>The council met on day {i} and agreed that the harbour would be dredged before winter,"
            " so that larger ferries could dock safely in every kind of weather.</p>"
            for i in range(6)
        )
        + "</article></body></html>"
    )
    with ExtractionPool(1) as pool:
        article = pool.submit(html.encode(), "http://example.org/a").result(timeout=60)
    assert article is not None and "harbour would be dredged" in article.body
    assert article.lang == "en"


def _query(db, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _crawl(site, tmp_path, *settings: str):
    db = tmp_path / "archive.db"
    out = tmp_path / "items.jsonl"
    proc = run_scrapy(
        "crawl",
        "article",
        "-a",
        f"urls={site.url}/",
        "-a",
        f"sitemaps={site.url}/sitemap.xml",
        "-s",
        f"ARCHIVE_URL=sqlite:///{db}",
        *FAST,
        *settings,
        "-O",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return db, items, proc.stderr


def _stat(log: str, key: str) -> int:
    match = re.search(rf"'{re.escape(key)}': (\d+)", log)
    return int(match.group(1)) if match else 0


@pytest.mark.slow
def test_crawl_through_pool_archives_complete_rows(site, manifest, tmp_path):
    """Two workers recycled every 3 pages, batches of 4: every article archived whole, exported once."""
    db, items, log = _crawl(
        site,
        tmp_path,
        "-s",
        "CRAWLER_EXTRACT_WORKERS=2",
        "-s",
        "CRAWLER_WORKER_MAX_PAGES=3",
        "-s",
        "ARCHIVE_BATCH_SIZE=4",
    )
    expected = {
        site.url + p["path"]
        for p in manifest
        if not p.get("robots_blocked")
        and not p.get("duplicate_of")
        and {"link", "sitemap"} & set(p["reachable_via"])
    }
    rows = _query(
        db,
        "SELECT a.url, a.title, a.body, a.word_count, a.lang, a.content_hash, a.extractor_version,"
        " length(p.html_z) FROM articles a LEFT JOIN article_pages p ON p.article_id = a.id",
    )
    archived = {r[0] for r in rows}
    assert expected <= archived
    for url, title, body, words, lang, digest, version, html_len in rows:
        assert title and body and words >= 20 and lang and len(digest) == 64 and version, url
        assert html_len and html_len > 100, f"{url}: raw page not kept"
    assert sorted(i["url"] for i in items) == sorted(archived)
    by_url = {r[0]: r for r in rows}
    assert all(i["body"] == by_url[i["url"]][2] and "html_z" not in i for i in items)
    duplicates = [p for p in manifest if p.get("duplicate_of")]
    assert _stat(log, "skipped/duplicate") == len(duplicates) > 0
    assert _stat(log, "extract_pool/recycled") >= 2
    assert _stat(log, "extract_pool/tasks") == _stat(log, "discovery/html_pages")
    [(archived_count, failures)] = _query(db, "SELECT archived, failures FROM crawl_runs")
    assert archived_count == len(archived)
    assert not [k for k in json.loads(failures) if k.startswith("extract")]


@pytest.mark.slow
def test_crawl_with_extraction_timeouts_records_failures(site, tmp_path):
    """A time limit no page can meet: every page is a recorded extract_timeout failure, none lost."""
    db, items, log = _crawl(site, tmp_path, "-s", "CRAWLER_EXTRACT_TIMEOUT=0.001", "-a", "max_depth=0")
    pages = _stat(log, "discovery/html_pages")
    assert pages > 5 and not items
    failures = _query(db, "SELECT url, reason, detail FROM fetch_failures")
    assert len(failures) == pages
    assert {r[1] for r in failures} == {"extract_timeout"}
    assert all("killed" in r[2] for r in failures)
    assert _query(db, "SELECT count(*) FROM articles") == [(0,)]
    (failed_json,) = _query(db, "SELECT failures FROM crawl_runs")[0]
    assert json.loads(failed_json) == {"extract_timeout": pages}


# -- batched writes of the store pipeline ------------------------------------------------------


def _extracted(
    url: str, body: str | None, lede: str = "A lede sentence that opens the story."
) -> ExtractedPage:
    page = RawPage(
        url=url,
        final_url=url,
        status=200,
        html=b"<html><body><p>" + (body or "").encode() + b"</p></body></html>",
        content_type="text/html",
        fetched_at=utcnow(),
    )
    article = Article(title="A title", lede=lede, body=body, lang="en")  # type: ignore[arg-type]
    return ExtractedPage(page, Extraction.of(article, page.html))


def test_batched_writes_keep_per_item_outcomes(tmp_path):
    """One batch holding a new page, its text under a second URL, the same URL again, and a record
    the database refuses: each item gets its own outcome, and the refused one does not sink the rest."""
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler
    from sqlalchemy.exc import IntegrityError

    from spiders.article import ArticleSpider

    db = tmp_path / "archive.db"
    settings = {
        "ARCHIVE_URL": f"sqlite:///{db}",
        "ARCHIVE_BATCH_SIZE": 50,
        "ARCHIVE_BATCH_SECONDS": 0.05,
        # Without raw pages to compress first, the writes queue in the order of the items.
        "ARCHIVE_KEEP_HTML": False,
    }
    crawler = get_crawler(ArticleSpider, settings)
    crawler.spider = ArticleSpider.from_crawler(crawler, urls="http://example.org/")
    pipeline = StorePipeline.from_crawler(crawler)
    body = "The council agreed to dredge the harbour before winter. " * 5
    items = [
        _extracted("http://example.org/a", body),
        _extracted("http://example.org/copy-of-a", body),  # same text: duplicate
        _extracted("http://example.org/a", body + " Updated."),  # same URL: changed
        _extracted("http://example.org/broken", None),  # NOT NULL body: refused
        _extracted("http://example.org/b", "Another story about the ferry timetable. " * 5),
    ]

    async def run() -> list[object]:
        await pipeline.open_spider()
        results = await asyncio.gather(*(pipeline.process_item(i) for i in items), return_exceptions=True)
        await pipeline.spider_closed(crawler.spider, "finished")
        await pipeline.archive.close()  # as the crawl's archive is closed when its engine stops
        return results

    results = asyncio.run(run())
    assert isinstance(results[0], dict) and results[0]["url"] == "http://example.org/a"
    assert isinstance(results[1], DropItem) and "duplicate" in str(results[1])
    assert isinstance(results[2], dict) and results[2]["body"].endswith("Updated.")
    assert isinstance(results[3], IntegrityError)
    assert isinstance(results[4], dict) and "html_z" not in results[4]
    rows = dict(_query(db, "SELECT url, body FROM articles"))
    assert set(rows) == {"http://example.org/a", "http://example.org/b"}
    assert rows["http://example.org/a"].endswith("Updated.")
    assert _query(db, "SELECT count(*) FROM article_versions") == [(1,)]
    stats = crawler.stats.get_stats()
    assert stats["archive/new"] == 2 and stats["archive/duplicate"] == 1 and stats["archive/changed"] == 1


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="SCHED_BATCH is Linux's")
def test_batch_scheduling_reaches_threads_and_workers():
    """use_batch_scheduling puts the process's threads under SCHED_BATCH, and the extraction
    workers started afterwards inherit it (run in a child process: pytest's own stays as it is)."""
    code = (
        "import os, threading\n"
        "from crawler.pool import ExtractionPool, use_batch_scheduling\n"
        "assert os.sched_getscheduler(0) == os.SCHED_OTHER\n"
        "assert use_batch_scheduling()\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(os.sched_getscheduler(0))); t.start(); t.join()\n"
        "with ExtractionPool(1, func=os.sched_getscheduler, preload=['os']) as pool:\n"
        "    worker = pool.submit(0).result(timeout=60)\n"
        "print(os.sched_getscheduler(0) == os.SCHED_BATCH, seen == [os.SCHED_BATCH], worker == os.SCHED_BATCH)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "True"]


def test_a_worker_that_cannot_start_fails_its_tasks_instead_of_hanging(monkeypatch):
    import crawler.pool as pool_module

    def cannot_start(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(pool_module, "_Worker", cannot_start)
    with ExtractionPool(2, func=len, timeout=5, start_method="fork") as pool:
        futures = [pool.submit(b"page") for _ in range(3)]
        for future in futures:
            with pytest.raises(TaskFailed, match="cannot start an extraction worker: no more processes"):
                future.result(timeout=10)
    assert pool.counts["lost"] == 3


@pytest.mark.slow
def test_crawl_records_a_page_over_the_memory_limit_as_extract_memory(tmp_path):
    """A page of a million <p> elements (13 MB; 3.3 GB of RSS to extract without a limit) fails as
    extract_memory under the default 1 GiB limit, within the time limit; the crawl goes on."""
    from tests.conftest import run_cli
    from tests.faultserver import Route, serve_faults
    from tests.newsgen import story_html

    million = b"<html><body>" + b"<p>word</p>\n" * 1_000_000 + b"</body></html>"
    routes = {
        "/": Route(body=b'<html><body><a href="/million">m</a> <a href="/story">s</a></body></html>'),
        "/million": Route(body=million),
        "/story": Route(body=story_html(7).encode()),
    }
    with serve_faults(routes) as server:
        db = tmp_path / "archive.db"
        proc = run_cli(
            "crawl", server.url + "/", "--db", f"sqlite:///{db}", *FAST, "-s", "CRAWLER_EXTRACT_TIMEOUT=60"
        )
        assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(db)
    failures = dict(con.execute("SELECT url, reason FROM fetch_failures").fetchall())
    assert failures[server.url + "/million"] == "extract_memory"
    assert [u for (u,) in con.execute("SELECT url FROM articles")] == [server.url + "/story"]

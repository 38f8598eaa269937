"""Scaling-out benchmark: crawl throughput with one and two crawler processes, SQLite and PostgreSQL,
and the cost of a big PostgreSQL archive (inserts, export, search at 1M rows).

Usage (servers from tests/servers.sh, as in CI):

    eval "$(tests/servers.sh start /tmp/news-archiver-servers)"
    python bench/scale_out.py [--pages 600] [--rows 1000000] [--skip-crawl] [--skip-big]

Crawls: a generated site of ``--pages`` linked article pages (tests/newsgen.py: a home page linking
the first 30 stories, each linking the next ones) served over loopback in this process, crawled
with the project's settings minus politeness (no AutoThrottle, no delay) into a fresh archive:
one ``crawler crawl`` process, then two started together sharing one Redis frontier, each on
SQLite and on PostgreSQL. Printed: archived articles per second over the processes' wall time
(start-up and the fleet's idle wait before closing included) and over the archiving window (first
to last archived article's fetch time), and how many pages were fetched more than once.

Big archive: ``--rows`` generated articles (random words of a 2,000-word vocabulary, ~80 words
each) inserted by SQL into a PostgreSQL archive at the head revision (its GIN search index built
after the load); then the cost per article of ``store_article`` in batches of 100 (as the store
pipeline writes), on an empty archive and on the big one; and the wall time of ``crawler export``
(JSONL to a file) and ``crawler search`` (a common and a rare word) there.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text

from archive.db import make_engine, make_sessionmaker
from archive.search import search
from archive.store import compress_html, content_hash, store_article
from crawler.siteserver import serve_directory
from tests.newsgen import write_site
from tests.servers import pg_database

LOOPBACK = ("-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0", "-s", "CRAWLER_REDIS_IDLE_CLOSE=2")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def crawl_once(site: str, db: str, processes: int, redis_url: str | None) -> dict[str, float]:
    make_engine(db).dispose()  # the archive at the head revision before the clock starts
    args = [sys.executable, "-m", "crawler", "crawl", site + "/", "--db", db, *LOOPBACK]
    if redis_url:
        _flush_redis(redis_url)
        args += ["--redis", redis_url]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            args, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(processes)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise SystemExit(f"crawl failed: {err[-1500:]}")
    wall = time.perf_counter() - started
    engine = make_engine(db, readonly=True)
    with engine.connect() as conn:
        count, first, last = conn.execute(
            text("SELECT count(*), min(fetched_at), max(fetched_at) FROM articles")
        ).one()
    engine.dispose()
    if isinstance(first, str):
        first, last = datetime.fromisoformat(first), datetime.fromisoformat(last)
    window = max((last - first).total_seconds(), 1e-3)
    return {"articles": count, "wall": wall, "per_s_wall": count / wall, "per_s_window": count / window}


def bench_crawls(pages: int, pg_server: str | None, redis_url: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="scale-out-") as tmp:
        root = Path(tmp) / "site"
        home = 30
        write_site(root, pages, home_links=home, children=-(-(pages - home) // home))
        print(
            f"site: {pages} articles, home page linking {home}, each linking ~{(pages - home) // home} more"
        )
        print(f"{'archive':<11} {'crawlers':>8} {'articles':>8} {'wall s':>7} {'art/s (wall)':>12} "
              f"{'art/s (archiving)':>17} {'fetched twice':>13}")  # fmt: skip
        runs = [("sqlite", 1, False), ("sqlite", 2, True), ("postgresql", 1, False), ("postgresql", 1, True),
                ("postgresql", 2, True)]  # fmt: skip
        for backend, n, shared in runs:
            if backend == "postgresql" and not pg_server:
                continue
            if shared and not redis_url:
                continue
            with serve_directory(root) as server, _archive(backend, pg_server, Path(tmp)) as db:
                result = crawl_once(server.url, db, n, redis_url if shared else None)
                twice = sum(
                    1 for (m, p, _), c in server.hits.items() if m == "GET" and "/news/" in p and c > 1
                )
            label = f"{n}{' (Redis)' if shared else ''}"
            print(f"{backend:<11} {label:>8} {result['articles']:>8} {result['wall']:>7.1f} "
                  f"{result['per_s_wall']:>12.1f} {result['per_s_window']:>17.1f} {twice:>13}")  # fmt: skip


@contextmanager
def _archive(backend: str, pg_server: str | None, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp / f"a-{uuid.uuid4().hex[:6]}.db"
        yield f"sqlite:///{path}"
        for p in tmp.glob(path.name + "*"):
            p.unlink()
    else:
        assert pg_server
        with pg_database(pg_server, "bench") as url:
            yield url


_FILL = """
WITH vocab AS (
  SELECT array_agg(substr(md5(i::text), 1, 3 + i % 7)) AS w FROM generate_series(1, 2000) AS i
)
INSERT INTO articles (url, domain, title, body, word_count, lang, fetched_at, content_hash, extractor_version)
SELECT 'https://big.example/' || n || '.html', 'big' || (n % 50) || '.example',
       'Story ' || n,
       (SELECT string_agg(w[1 + ((n::bigint * 7919 + k * 104729) % 2000)::int], ' ') FROM generate_series(1, 80) AS k),
       80, 'en', timestamp '2026-01-01' + n * interval '1 second', md5(n::text), '17'
FROM vocab, generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS n
"""


def _fill(url: str, rows: int) -> float:
    engine = make_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_articles_search")  # built once after the load: faster
    step = 100_000
    for start in range(1, rows + 1, step):
        with engine.begin() as conn:
            conn.execute(text(_FILL), {"start": start, "stop": min(rows, start + step - 1)})
    with engine.begin() as conn:
        from archive.search import PG_DOCUMENT

        conn.exec_driver_sql(f"CREATE INDEX ix_articles_search ON articles USING gin (({PG_DOCUMENT}))")
        conn.exec_driver_sql("ANALYZE articles")
    engine.dispose()
    return time.perf_counter() - started


def _insert_cost(url: str, n: int = 2000, batch: int = 100) -> float:
    """ms per article of store_article (new URLs, raw page kept) in transactions of ``batch``."""
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    html = compress_html(
        b"<html><body>" + b"<p>The council met and agreed on the plan.</p>" * 40 + b"</body></html>"
    )
    tag = uuid.uuid4().hex[:8]
    t0 = datetime(2026, 12, 1)
    records = []
    for i in range(n):
        body = f"Bench {tag} story {i}: the council met on day {i} and agreed on item {i * 7} of the plan."
        records.append({
            "url": f"https://new.example/{tag}/{i}.html", "domain": "new.example", "title": f"Story {i}",
            "body": body, "word_count": 16, "lang": "en", "fetched_at": t0 + timedelta(seconds=i),
            "content_hash": content_hash(body), "final_url": f"https://new.example/{tag}/{i}.html",
            "html_z": html, "extractor_version": "17",
        })  # fmt: skip
    started = time.perf_counter()
    for i in range(0, n, batch):
        with factory.begin() as session:
            for record in records[i : i + batch]:
                store_article(session, record)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / n * 1000


def _timed_cli(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "crawler", *args], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, check=False)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"crawler {args[0]} failed: {proc.stderr[-1000:]}")
    return time.perf_counter() - started, proc.stdout


def bench_big(pg_server: str, rows: int) -> None:
    with pg_database(pg_server, "bench") as empty:
        make_engine(empty).dispose()
        empty_ms = _insert_cost(empty)
    with pg_database(pg_server, "bench") as big, tempfile.TemporaryDirectory(prefix="scale-out-") as tmp:
        fill = _fill(big, rows)
        print(f"generated {rows:,} articles in {fill:.0f} s (search index built after the load)")
        big_ms = _insert_cost(big)
        print(f"store_article, batches of 100, raw page kept: {empty_ms:.2f} ms/article on an empty "
              f"PostgreSQL archive, {big_ms:.2f} ms/article at {rows:,} rows ({big_ms / empty_ms:.2f}x)")  # fmt: skip
        out = Path(tmp) / "all.jsonl"
        secs, _ = _timed_cli("export", "--db", big, "-o", str(out))
        lines = sum(1 for _ in out.open(encoding="utf-8"))
        print(f"crawler export (JSONL, all {lines:,} articles, {out.stat().st_size / 1e6:.0f} MB): {secs:.1f} s "
              f"({lines / secs:,.0f} articles/s)")  # fmt: skip
        engine = make_engine(big, readonly=True)
        with engine.connect() as conn:
            common = conn.execute(text("SELECT split_part(body, ' ', 1) FROM articles LIMIT 1")).scalar_one()
        engine.dispose()
        secs, _ = _timed_cli("stats", "--db", big, "--runs", "0")
        print(f"(a reading command's process start and schema check, with `crawler stats`: {secs:.2f} s)")
        engine = make_engine(big, readonly=True)
        words = ((common, "common word"), ("Bench", "word in 2,000 rows"), ("zzzznothing", "no match"))
        for word, what in words:
            secs, stdout = _timed_cli("search", word, "--db", big)
            with make_sessionmaker(engine)() as session:
                started = time.perf_counter()
                found = search(session, word, limit=10)
                query_ms = (time.perf_counter() - started) * 1000
            print(
                f"crawler search {word!r} ({what}): {secs:.2f} s wall, process start included, "
                f"{stdout.count('https://')} shown; the query itself {query_ms:.0f} ms ({len(found)} hits)"
            )
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-crawl", action="store_true")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args(argv)
    pg_server = os.environ.get("TEST_POSTGRES_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not pg_server or not redis_url:
        print("TEST_POSTGRES_URL / TEST_REDIS_URL not set: start the servers with tests/servers.sh; "
              "runs needing them are left out", file=sys.stderr)  # fmt: skip
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs")
    if not args.skip_crawl:
        bench_crawls(args.pages, pg_server, redis_url)
    if not args.skip_big and pg_server:
        bench_big(pg_server, args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""No database call on Scrapy's reactor thread, and one engine per crawl.

Crawls of a loopback site run in a subprocess under tests/reactorprobe.py, which records every
statement, new connection and closed connection made on the reactor's thread while it runs, and
every engine the crawl makes. The crawls cover each access to the archive: the incremental
middleware's loads, page cache writes and 304s answered from the cache, the site boilerplate
lines, the store pipeline's batches and run record, and the WARC middleware's revisit lookups.
A crawl that starts while another connection holds an exclusive lock on the archive keeps its
reactor running (a timer keeps firing) while the lock is held.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.siteserver import serve_directory
from tests.conftest import FAST, REPO, _env
from tests.newsgen import write_site

N = 8


def probe(report: Path, *args: str, lock: tuple[float, Path] | None = None, timeout: float = 180) -> dict:
    """Run ``crawler ARGS`` under the probe; its report."""
    options = ["--lock", str(lock[0]), str(lock[1])] if lock else []
    proc = subprocess.run(
        [sys.executable, "-m", "tests.reactorprobe", str(report), *options, "--", *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert proc.returncode == 0 and report.exists(), proc.stderr[-3000:]
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["code"] == 0, proc.stderr[-3000:]
    return result


def last_run(db: Path) -> dict:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return dict(con.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())
    finally:
        con.close()


@pytest.mark.slow
def test_crawls_make_one_engine_and_no_database_call_on_the_reactor_thread(tmp_path: Path) -> None:
    root = tmp_path / "site"
    paths = write_site(root, N)
    db, warc = tmp_path / "a.db", tmp_path / "warc"
    with serve_directory(root) as server:
        args = ["crawl", server.url + "/", "--db", f"sqlite:///{db}", "--warc", str(warc), *FAST]
        first = probe(tmp_path / "first.json", *args)
        # Every article conditional (304, a revisit record after a lookup of its digest), the
        # home page answered from the page cache.
        second = probe(tmp_path / "second.json", *args, "--revisit", "0")
        revisits = sum(n for (m, p, s), n in server.hits.items() if m == "GET" and p in paths and s == 304)
    assert revisits == N
    run = last_run(db)
    assert run["not_modified"] == N + 1, run

    for report in (first, second):
        assert report["on_reactor"] == []
        assert report["engines_made"] == [f"sqlite:///{db}"]
        assert report["engines_used"] == 1
        # The probe saw the crawl's database calls, in the archive's own threads.
        assert report["threads"].get("archive-reader", 0) > 0, report["threads"]
        assert report["threads"].get("archive-writer", 0) > 0, report["threads"]
        assert set(report["threads"]) <= {"archive-reader", "archive-writer"}, report["threads"]
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == N
        assert con.execute("SELECT count(*) FROM page_cache").fetchone()[0] >= 1
        assert con.execute("SELECT count(*) FROM articles WHERE payload_digest IS NULL").fetchone()[0] == 0
    finally:
        con.close()


@pytest.mark.slow
def test_a_locked_archive_does_not_freeze_the_reactor(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_site(root, N)
    db = tmp_path / "a.db"
    # Under the 5 s that a new connection waits for the lock while it sets the journal mode.
    hold = 4.0
    with serve_directory(root) as server:
        args = ["crawl", server.url + "/", "--db", f"sqlite:///{db}", *FAST]
        report = probe(tmp_path / "locked.json", *args, lock=(hold, db))
    # The crawl's first reads and its run record wait for the lock in the archive's threads; the
    # reactor's 50 ms timer keeps firing meanwhile (a wait on the reactor's thread would show as a
    # gap as long as the lock). The bound leaves room for a loaded machine.
    assert report["lock_ticks"] > 10, report
    assert report["lock_gap"] < hold / 2, report
    assert report["on_reactor"] == []
    run = last_run(db)
    assert run["archived"] == N and run["finish_reason"] == "finished", run

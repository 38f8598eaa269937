"""The archive database failing under a crawl: locked by another writer for longer than the busy
timeout, and the disk full (a size-limited SQLite, PRAGMA max_page_count through the test hook of
archive.db). The crawl waits or stops with one clear line, no row is half written, the database
passes its integrity check, and the next run continues."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from archive.db import BUSY_TIMEOUT_ENV, MAX_PAGE_COUNT_ENV, make_engine
from archive.faults import FULL, LOCKED, StorageFault, retry_while_locked
from archive.models import Article
from crawler.siteserver import SiteServer, serve_directory
from tests.conftest import REPO, _env
from tests.newsgen import write_site
from tests.waiting import articles_while_writing, paced_crawl

N = 30


def _row(i: int) -> dict:
    return {
        "url": f"http://x.test/{i}.html",
        "domain": "x.test",
        "title": f"Story {i}",
        "body": "words " * 400 + str(i),
        "word_count": 401,
        "fetched_at": __import__("datetime").datetime(2026, 1, 1),
        "content_hash": f"h{i}",
    }


class HeldLock:
    """Another writer: an exclusive transaction on ``db`` from a thread, until :meth:`release`."""

    def __init__(self, db: Path) -> None:
        self._taken, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(db,), daemon=True)
        self._thread.start()
        assert self._taken.wait(10)

    def _hold(self, db: Path) -> None:
        con = sqlite3.connect(db, timeout=30, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        self._taken.set()
        self._release.wait(120)
        con.execute("ROLLBACK")
        con.close()

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)


def _integrity(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        # No half-written article: each has its text, its search entry and its page.
        assert con.execute("SELECT count(*) FROM articles WHERE body IS NULL OR body = ''").fetchone()[0] == 0
        n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert con.execute("SELECT count(*) FROM article_pages").fetchone()[0] == n
    finally:
        con.close()


def test_a_locked_database_is_waited_for_then_given_up_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "100")
    db = tmp_path / "a.db"
    engine = make_engine(f"sqlite:///{db}")

    def write(i: int) -> object:
        def once() -> object:
            with engine.begin() as con:
                return con.execute(insert(Article), [_row(i)])

        return once

    lock = HeldLock(db)
    threading.Timer(1.0, lock.release).start()
    start = time.monotonic()
    retry_while_locked(write(1), wait=30)  # waits out the lock
    assert 0.9 < time.monotonic() - start < 20

    lock = HeldLock(db)
    try:
        with pytest.raises(StorageFault) as caught:
            retry_while_locked(write(2), wait=0.5)
    finally:
        lock.release()
    assert caught.value.kind == LOCKED
    assert str(caught.value).startswith("the archive was locked by another writer for more than")
    assert "\n" not in str(caught.value)
    with engine.connect() as con:
        assert [r.url for r in con.execute(select(Article.url))] == ["http://x.test/1.html"]
    engine.dispose()
    _ = _integrity  # articles written here have no pages: the crawl tests check those


def test_a_full_disk_raises_one_storage_fault_and_keeps_the_database_whole(tmp_path, monkeypatch):
    db = tmp_path / "a.db"
    make_engine(f"sqlite:///{db}").dispose()
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    monkeypatch.setenv(MAX_PAGE_COUNT_ENV, str(pages + 20))
    engine = make_engine(f"sqlite:///{db}")
    written = 0
    with pytest.raises(StorageFault) as caught:
        for i in range(1000):

            def once(i: int = i) -> None:
                with engine.begin() as con:
                    con.execute(insert(Article), [_row(i)])

            retry_while_locked(once, wait=5)
            written += 1
    engine.dispose()
    assert caught.value.kind == FULL and "disk is full" in str(caught.value)
    assert 0 < written < 1000
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == written
    con.close()


def _crawl(server: SiteServer, db: Path, *extra: str, env: dict[str, str] | None = None) -> list[str]:
    return [sys.executable, "-m", "crawler", *paced_crawl(server.url, db, *extra)]


def _urls(db: Path, base: str) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return sorted(u.removeprefix(base) for (u,) in con.execute("SELECT url FROM articles"))
    finally:
        con.close()


def _start_and_lock(
    args: list[str], db: Path, env: dict[str, str], log: Path
) -> tuple[subprocess.Popen, HeldLock]:
    """Start the crawl and take the lock once it has archived a few articles."""
    with log.open("w") as fh:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=fh, stderr=fh, text=True)
    deadline = time.monotonic() + 90
    while articles_while_writing(db) < 3:
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the crawl is too slow"
        time.sleep(0.02)
    return proc, HeldLock(db)


@pytest.mark.slow
def test_crawl_waits_for_a_lock_shorter_than_its_patience(tmp_path):
    root = tmp_path / "site"
    paths = write_site(root, N)
    db = tmp_path / "archive.db"
    env = _env() | {BUSY_TIMEOUT_ENV: "200"}
    with serve_directory(root) as server:
        proc, lock = _start_and_lock(
            _crawl(server, db, "-s", "ARCHIVE_LOCK_WAIT=60"), db, env, tmp_path / "log"
        )
        try:
            time.sleep(4)  # past the busy timeout many times over, within ARCHIVE_LOCK_WAIT
            assert articles_while_writing(db) < N
        finally:
            lock.release()
        assert proc.wait(120) == 0, (tmp_path / "log").read_text()[-3000:]
    out = (tmp_path / "log").read_text()
    assert "Traceback" not in out
    assert "the archive is locked by another writer; waiting up to 60 s" in out
    assert _urls(db, server.url) == sorted(paths)
    _integrity(db)


@pytest.mark.slow
def test_crawl_stops_with_one_line_when_the_lock_outlasts_it_and_the_next_run_continues(tmp_path):
    root = tmp_path / "site"
    paths = write_site(root, N)
    db = tmp_path / "archive.db"
    env = _env() | {BUSY_TIMEOUT_ENV: "200"}
    log = tmp_path / "log"
    with serve_directory(root) as server:
        args = _crawl(server, db, "-s", "ARCHIVE_LOCK_WAIT=2")
        proc, lock = _start_and_lock(args, db, env, log)
        try:
            code = proc.wait(120)
        finally:
            lock.release()
        out = log.read_text()
        assert code == 1, out[-3000:]
        assert "Traceback" not in out
        last = out.strip().splitlines()[-1]
        assert last.startswith(
            "Error: crawl stopped: the archive was locked by another writer for more than 2 s"
        )
        stored = articles_while_writing(db)
        assert 3 <= stored < N
        _integrity(db)
        second = subprocess.run(
            args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert second.returncode == 0, second.stderr[-3000:]
    assert _urls(db, server.url) == sorted(paths)
    _integrity(db)
    con = sqlite3.connect(db)
    runs = con.execute("SELECT finish_reason, archived FROM crawl_runs ORDER BY id").fetchall()
    con.close()
    assert len(runs) == 2 and runs[1] == ("finished", N - stored)


@pytest.mark.slow
def test_crawl_stops_with_one_line_on_a_full_disk_and_the_resumed_job_continues(tmp_path):
    root = tmp_path / "site"
    paths = write_site(root, N)
    db = tmp_path / "archive.db"
    make_engine(f"sqlite:///{db}").dispose()
    pages = sqlite3.connect(db).execute("PRAGMA page_count").fetchone()[0]
    jobdir = tmp_path / "job"
    with serve_directory(root) as server:
        args = _crawl(server, db, "--jobdir", str(jobdir))
        full = subprocess.run(
            args,
            cwd=REPO,
            env=_env() | {MAX_PAGE_COUNT_ENV: str(pages + 40)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert full.returncode == 1, full.stderr[-3000:]
        assert "Traceback" not in full.stderr
        last = full.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: crawl stopped: the archive's disk is full (database or disk is full)")
        stored = articles_while_writing(db)
        assert 0 < stored < N, stored
        _integrity(db)
        # Space freed: the same command resumes the job and archives the rest.
        second = subprocess.run(
            args, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120, check=False
        )
        assert second.returncode == 0, second.stderr[-3000:]
    assert _urls(db, server.url) == sorted(paths)
    _integrity(db)

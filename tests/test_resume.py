"""Resumable jobs: a crawl killed with SIGKILL mid-run and started again with the same --jobdir
finishes the remaining pages; nothing is lost, nothing is fetched or stored twice, and the
database stays consistent."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from crawler.frontier import FRONTIER_FILE
from crawler.siteserver import serve_directory
from tests.conftest import REPO, run_cli
from tests.newsgen import write_site
from tests.waiting import articles_while_writing, paced_crawl, wait_until

# A tree: the home page links 10 stories, each of them links 10 more. Most stories are found
# only through another story, so a resumed job that skips the stories it already archived
# needs its durable frontier to reach them.
HOME_LINKS, CHILDREN = 10, 10
N = HOME_LINKS * (1 + CHILDREN)
KILL_AFTER = 25


@pytest.mark.slow
def test_killed_crawl_resumes_from_jobdir(tmp_path):
    root = tmp_path / "site"
    paths = write_site(root, N, children=CHILDREN, home_links=HOME_LINKS)
    db = tmp_path / "archive.db"
    jobdir = tmp_path / "job"
    with serve_directory(root) as server:
        # Only the job itself may skip pages (--revisit 0: no revisit interval).
        args = paced_crawl(server.url, db, "--jobdir", str(jobdir), delay=0.04)
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("http_proxy", None)
        log = (tmp_path / "first.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", *args], cwd=REPO, env=env, stdout=log, stderr=log
        )
        try:
            wait_until(
                lambda: articles_while_writing(db) >= KILL_AFTER,
                proc,
                f"{KILL_AFTER} articles",
                timeout=60,
                log=tmp_path / "first.log",
                interval=0.05,
            )
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
        con = sqlite3.connect(db)
        before = {url.removeprefix(server.url) for (url,) in con.execute("SELECT url FROM articles")}
        con.close()
        time.sleep(0.3)  # let the server finish answering what was in flight at the kill
        with server.lock:
            first_hits = {p: server.hits[("GET", p, 200)] for p in paths}
        assert KILL_AFTER <= len(before) < N, "the crawl was not killed mid-run"
        state = sqlite3.connect(jobdir / FRONTIER_FILE).execute("SELECT value FROM job WHERE key='state'")
        assert state.fetchone()[0] == "running"

        second = run_cli(*args)
        assert second.returncode == 0, second.stderr[-3000:]

        with server.lock:
            hits = {p: server.hits[("GET", p, 200)] for p in paths}

    con = sqlite3.connect(db)
    try:
        urls = [url for (url,) in con.execute("SELECT url FROM articles")]
        # Nothing lost, nothing stored twice.
        assert sorted(u.removeprefix(server.url) for u in urls) == sorted(paths)
        # What the killed run archived was not fetched again, everything else exactly once more
        # (pages fetched but not yet stored at the kill twice in all).
        assert all(first_hits[p] == 1 for p in before)
        assert all(hits[p] == first_hits[p] + (p not in before) for p in paths)
        # The database is consistent: SQLite, the search index, pages and run records.
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        assert (
            con.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'district'").fetchone()[0]
            == N
        )
        assert con.execute("SELECT count(*) FROM article_pages").fetchone()[0] == N
        assert con.execute("SELECT count(*) FROM article_versions").fetchone()[0] == 0
        runs = con.execute(
            "SELECT finished_at, finish_reason, archived FROM crawl_runs ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    assert len(runs) == 2
    assert runs[0][0] is None  # the killed run never finished
    assert runs[1][1] == "finished" and runs[1][2] == N - len(before)
    assert "rescheduling" not in second.stdout
    assert second.stderr.count("did not stop cleanly") == 1, second.stderr  # said once


def test_frontier_states(tmp_path):
    """Open marks the job running; a clean close is trusted, a crash is detected and Scrapy's
    stale state dropped; a finished job starts afresh."""
    from crawler.frontier import Frontier

    jobdir = tmp_path / "job"
    frontier = Frontier(jobdir)
    started = frontier.started_at
    assert not frontier.crashed and frontier.previous_state is None
    frontier.add("k1", "http://x.org/a", site="s", is_page=True, meta={"source": "link", "link_depth": 1})
    frontier.add("k2", "http://x.org/sitemap.xml", site="s", is_page=False, meta={})
    frontier.commit()
    (jobdir / "requests.queue").mkdir()
    (jobdir / "requests.seen").write_text("stale")
    frontier.con.close()  # as if killed: never closed

    frontier = Frontier(jobdir)
    assert frontier.crashed and frontier.started_at == started
    assert not (jobdir / "requests.queue").exists() and not (jobdir / "requests.seen").exists()
    assert [e.url for e in frontier.entries()] == ["http://x.org/a", "http://x.org/sitemap.xml"]
    assert frontier.keys() == {"k1"} and frontier.page_counts() == {"s": 1}
    frontier.close("shutdown")  # Ctrl-C: Scrapy's own state is trusted next time

    frontier = Frontier(jobdir)
    assert not frontier.crashed and len(frontier) == 2
    frontier.close("finished")

    frontier = Frontier(jobdir)  # a new job in the same folder
    assert not frontier.crashed and len(frontier) == 0 and frontier.started_at > started
    frontier.close("finished")

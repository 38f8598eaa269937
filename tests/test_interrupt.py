"""Ctrl-C: a terminal's SIGINT reaches the crawl's whole process group (the crawl, its fork server,
its extraction workers). The first one, at any moment, stops the crawl cleanly and promptly: what
was fetched is stored or left in the job folder, the run is recorded as stopped, and the same
command resumes the job; a second one stops at once. Never a hang."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.siteserver import SiteServer, serve_directory
from tests.conftest import REPO, _env, run_cli
from tests.newsgen import write_site
from tests.waiting import articles_while_writing, paced_crawl, query_while_writing, wait_until

N = 40
# Seconds the crawl may take to stop after the first Ctrl-C on a loaded 2-CPU machine (it waits
# for the pages in flight and for the workers' warm-up), and after the second.
FIRST_BOUND = 60.0
SECOND_BOUND = 10.0

pytestmark = pytest.mark.slow


def _args(server: SiteServer, db: Path, jobdir: Path) -> list[str]:
    return paced_crawl(server.url, db, "--jobdir", str(jobdir), "-s", "CRAWLER_EXTRACT_WORKERS=2")


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """The crawl in a process group of its own, as a terminal runs it."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "crawler", *args],
            cwd=REPO,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _ctrl_c(proc: subprocess.Popen[bytes]) -> bool:
    """SIGINT to the whole group; False when the crawl had already ended."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    return True


def _stopped_within(proc: subprocess.Popen[bytes], log: Path, bound: float) -> int:
    try:
        return proc.wait(timeout=bound)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"the crawl did not stop within {bound:g}s of Ctrl-C:\n{log.read_text()[-3000:]}")
    finally:
        try:  # nothing of the group may outlive it (fork server, workers)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.killpg(proc.pid, 0)
                time.sleep(0.1)
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("processes of the crawl's group outlived it")
        except ProcessLookupError:
            pass


def _consistent(db: Path) -> None:
    """SQLite, the search index, the raw pages and the run records agree."""
    if not db.exists():
        return
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "articles" not in tables:
            return
        con.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert con.execute("SELECT count(*) FROM article_pages").fetchone()[0] == articles
        runs = con.execute("SELECT id, finished_at, finish_reason FROM crawl_runs").fetchall()
        # Every run is recorded as stopped, none left looking "running or killed".
        assert all(finished is not None for _, finished, _ in runs), runs
    finally:
        con.close()


def _resumes(args: list[str], db: Path) -> None:
    """The same command again finishes the job: every story archived once."""
    again = run_cli(*args)
    assert again.returncode == 0, again.stdout + again.stderr[-3000:]
    rows = query_while_writing(db, "SELECT url FROM articles")
    urls = [u for (u,) in rows]
    assert len(urls) == len(set(urls)) == N
    _consistent(db)


# When the first Ctrl-C comes: just after start (imports), once the run has begun (the extraction
# workers are starting and warming up), mid-crawl, and while the crawl is closing down (every page
# fetched).
MOMENTS = ["at_once", "worker_start_up", "mid_crawl", "shutdown"]


@pytest.mark.parametrize("moment", MOMENTS)
def test_first_ctrl_c_stops_cleanly(tmp_path: Path, moment: str) -> None:
    root = tmp_path / "site"
    paths = write_site(root, N)
    db = tmp_path / "archive.db"
    jobdir = tmp_path / "job"
    log = tmp_path / "crawl.log"
    with serve_directory(root) as server:
        args = _args(server, db, jobdir)
        proc = _start(args, log)
        try:
            if moment == "at_once":
                time.sleep(0.3)
            elif moment == "worker_start_up":
                wait_until(
                    lambda: bool(query_while_writing(db, "SELECT id FROM crawl_runs")),
                    proc,
                    "the run record",
                    log=log,
                )
            elif moment == "mid_crawl":
                wait_until(lambda: articles_while_writing(db) >= 10, proc, "10 articles", log=log)
            else:
                wait_until(
                    lambda: all(server.hits_for(p) for p in paths), proc, "every page fetched", log=log
                )
            sent = _ctrl_c(proc)
            rc = _stopped_within(proc, log, FIRST_BOUND)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        output = log.read_text()
        runs = query_while_writing(db, "SELECT finish_reason FROM crawl_runs")
        if sent and rc == -signal.SIGINT:
            # Ctrl-C while the interpreter starts, before any of our code runs (a loaded machine): the
            # system's default, or Python's own KeyboardInterrupt exit, stops it at once (a shell reports
            # 130); nothing was started and no frame of ours is in what it printed.
            assert moment == "at_once" and not runs, output
            assert not output.strip() or output.strip().endswith("KeyboardInterrupt"), output
            assert "/crawler/" not in output, output
        else:
            assert "Traceback" not in output, output
            if sent and rc != 0:
                assert rc == 130, output
                assert "interrupted" in output, output
                assert len(output.strip().splitlines()) <= 3, output
        if runs:
            assert "did not start" not in output, output
        _consistent(db)
        _resumes(args, db)


def test_second_ctrl_c_stops_at_once(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_site(root, N)
    db = tmp_path / "archive.db"
    jobdir = tmp_path / "job"
    log = tmp_path / "crawl.log"
    with serve_directory(root) as server:
        args = _args(server, db, jobdir)
        proc = _start(args, log)
        try:
            # While the workers start and warm up (seconds): the first Ctrl-C waits for them to
            # extract the pages already fetched, the second does not.
            wait_until(
                lambda: bool(query_while_writing(db, "SELECT id FROM crawl_runs")),
                proc,
                "the run record",
                log=log,
            )
            assert _ctrl_c(proc)
            time.sleep(0.3)
            assert _ctrl_c(proc)
            rc = _stopped_within(proc, log, SECOND_BOUND)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        output = log.read_text()
        assert rc == 130, output
        assert "did not start" not in output and "Traceback" not in output, output
        assert "interrupted" in output, output
        runs = query_while_writing(db, "SELECT finish_reason FROM crawl_runs")
        assert runs in ([("interrupted",)], [("shutdown",)]), runs
        _consistent(db)
        _resumes(args, db)

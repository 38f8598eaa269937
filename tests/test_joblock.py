"""One crawl at a time in a job folder: a second run on the same --jobdir (an hourly cron entry
whose last run is still going) exits at once with one line naming the first run's process; the
lock of a killed run is taken over."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from crawler.frontier import LOCK_FILE, JobLocked, lock_jobdir
from crawler.siteserver import serve_directory
from tests.conftest import REPO, _env, run_cli, run_scrapy
from tests.newsgen import write_site
from tests.waiting import wait_until

_HOLD = """
import sys, time
from crawler.frontier import lock_jobdir
lock = lock_jobdir(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


def _holder(jobdir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(jobdir)], cwd=REPO, env=_env(), stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_names_its_holder_and_a_dead_holder_is_taken_over(tmp_path):
    jobdir = tmp_path / "job"
    proc = _holder(jobdir)
    try:
        with pytest.raises(JobLocked) as err:
            lock_jobdir(jobdir)
        assert err.value.pid == proc.pid
        assert f"pid {proc.pid}" in str(err.value) and str(jobdir) in str(err.value)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    # The killed run left its lock file (and its pid) behind: it is stale, and taken over.
    assert (jobdir / LOCK_FILE).read_text().split()[0] == str(proc.pid)
    lock = lock_jobdir(jobdir)
    try:
        assert lock.taken_over_from == proc.pid
        assert (jobdir / LOCK_FILE).read_text().split()[0] == str(os.getpid())
        assert lock_jobdir(jobdir) is lock  # the same process may ask again (CLI, then spider)
    finally:
        lock.release()
    lock_jobdir(jobdir).release()  # released: free again


@pytest.mark.slow
def test_second_crawl_on_a_busy_jobdir_exits_at_once(tmp_path):
    root = tmp_path / "site"
    write_site(root, 30)
    db = tmp_path / "archive.db"
    jobdir = tmp_path / "job"
    with serve_directory(root) as server:
        args = [
            "crawl",
            server.url + "/",
            "--db",
            f"sqlite:///{db}",
            "--jobdir",
            str(jobdir),
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
            "-s",
            "DOWNLOAD_DELAY=2",  # a slow first run: still going when the second starts
        ]
        log = (tmp_path / "first.log").open("w")
        first = subprocess.Popen(
            [sys.executable, "-m", "crawler", *args], cwd=REPO, env=_env(), stdout=log, stderr=log
        )
        try:
            wait_until(
                (jobdir / LOCK_FILE).exists,
                first,
                "the first run's lock",
                timeout=60,
                log=tmp_path / "first.log",
                interval=0.05,
            )
            started = time.monotonic()
            second = run_cli(*args, timeout=60)
            took = time.monotonic() - started
            scrapy = run_scrapy(
                "crawl",
                "article",
                "-a",
                f"urls={server.url}/",
                "-s",
                f"JOBDIR={jobdir}",
                "-s",
                "ARCHIVE_URL=",
            )
            assert first.poll() is None, "the first run ended too soon for the test"
            with closing(sqlite3.connect(db)) as con:
                runs = con.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
            log.close()
        # The first run was killed: its lock is stale, and the next run takes the job over.
        again = run_cli(*args[:-2], "-s", "DOWNLOAD_DELAY=0", timeout=120)
    assert second.returncode == 1, second.stdout + second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pid {first.pid}" in lines[0], second.stderr
    assert took < 30
    assert runs == 1  # the second run started nothing
    assert scrapy.returncode != 0
    assert f"pid {first.pid}" in scrapy.stderr and "Traceback" not in scrapy.stderr, scrapy.stderr[-3000:]
    assert again.returncode == 0, again.stderr[-3000:]

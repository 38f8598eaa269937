"""A crawl with a job directory killed with SIGKILL at random moments, 20 times, and restarted until
it finishes: the archive is the one an uninterrupted crawl of the same site gives (the same URLs,
the same texts, nothing twice), consistent, and every run is recorded in crawl_runs.

Runs in about two minutes: a 30-page site, each run killed after a few of its requests (or at a
random moment of its start-up).
"""

from __future__ import annotations

import contextlib
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.siteserver import SiteServer, serve_directory
from tests.conftest import REPO, _env
from tests.newsgen import write_site
from tests.waiting import paced_crawl, wait_until

KILLS = 20
HOME_LINKS, CHILDREN = 6, 4
N = HOME_LINKS * (1 + CHILDREN)


def _args(server: SiteServer, db: Path, jobdir: Path) -> list[str]:
    return [sys.executable, "-m", "crawler", *paced_crawl(server.url, db, "--jobdir", str(jobdir))]


def _requests(server: SiteServer) -> int:
    with server.lock:
        return sum(server.hits.values())


def _archive(db: Path, base: str) -> dict[str, tuple]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT url, title, lede, body, lang, word_count, content_hash FROM articles"
        ).fetchall()
    finally:
        con.close()
    out = {row[0].removeprefix(base): row[1:] for row in rows}
    assert len(out) == len(rows)
    return out


@pytest.mark.slow
def test_twenty_kills_and_restarts_give_the_archive_of_one_crawl(tmp_path):
    rng = random.Random(13)
    root = tmp_path / "site"
    paths = write_site(root, N, children=CHILDREN, home_links=HOME_LINKS)
    env = _env()
    with serve_directory(root) as server:
        ref_db = tmp_path / "reference.db"
        done = subprocess.run(
            _args(server, ref_db, tmp_path / "ref-job"),
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        reference = _archive(ref_db, server.url)
        assert sorted(reference) == sorted(paths)

        db, jobdir = tmp_path / "archive.db", tmp_path / "job"
        kills = finished = with_requests = 0
        launches = 0
        moments = []
        while kills < KILLS:
            launches += 1
            log = tmp_path / f"run-{launches}.log"
            before = _requests(server)
            with log.open("w") as fh:
                proc = subprocess.Popen(_args(server, db, jobdir), cwd=REPO, env=env, stdout=fh, stderr=fh)
            try:
                if rng.random() < 0.25:  # a random moment of the start-up or the crawl
                    moment = ("after", round(rng.uniform(0.2, 4.0), 2))
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(timeout=moment[1])
                else:  # after a few of this run's requests, a little later
                    moment = ("requests", rng.randint(1, 6))
                    wait_until(
                        lambda start=before, n=moment[1]: _requests(server) - start >= n,
                        proc,
                        f"{moment[1]} requests",
                        timeout=60,
                        log=log,
                        interval=0.01,
                        may_end=True,
                    )
                    time.sleep(rng.uniform(0, 0.3))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                    moments.append(moment)
                else:
                    assert proc.returncode == 0, log.read_text()[-3000:]
                    finished += 1
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            with_requests += _requests(server) > before
            time.sleep(0.2)  # what was in flight at the kill is answered

        # The last run goes to its end.
        last = subprocess.run(
            _args(server, db, jobdir),
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert last.returncode == 0, last.stderr[-3000:]
        launches += 1
        with_requests += 1

    assert kills == KILLS, moments
    archive = _archive(db, server.url)
    assert sorted(archive) == sorted(paths)  # the same URLs, each once
    assert archive == reference  # the same titles, ledes, bodies, languages and hashes
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        assert con.execute("SELECT count(*) FROM article_pages").fetchone()[0] == N
        assert con.execute("SELECT count(DISTINCT content_hash) FROM articles").fetchone()[0] == N
        runs = con.execute("SELECT id, finished_at, finish_reason FROM crawl_runs ORDER BY id").fetchall()
    finally:
        con.close()
    # Every run that sent a request left its row (one killed in its start-up may have none); the
    # killed ones never finished, the ones that ran to the end did.
    assert with_requests <= len(runs) <= launches, (len(runs), with_requests, launches)
    assert runs[-1][2] == "finished"
    assert sum(1 for _, end, _ in runs if end is not None) == finished + 1
    assert all(reason in (None, "finished") for _, _, reason in runs)
    print(f"{launches} runs, {kills} killed at {moments}, {finished} finished before their kill")

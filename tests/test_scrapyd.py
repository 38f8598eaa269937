"""Scheduling with scrapyd: start scrapyd on 127.0.0.1, deploy the project with scrapyd-deploy
(scrapy.cfg's [deploy] section), schedule the article spider against a local site, and wait for
the archive to fill. Skipped when scrapyd or scrapyd-client is not installed."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from crawler.siteserver import serve_directory
from tests.conftest import REPO
from tests.newsgen import write_site

pytest.importorskip("scrapyd", reason="scrapyd is not installed")
pytest.importorskip("scrapyd_client", reason="scrapyd-client is not installed")
pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PROJECT = "news_archiver"  # scrapy.cfg [deploy] project


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, endpoint: str, data: dict | list | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data=body, timeout=10) as response:
        return json.loads(response.read())


def _copy_project(dest: Path) -> None:
    """The repo without its venv and caches (scrapyd-deploy writes a setup.py into the project)."""
    ignore = shutil.ignore_patterns(".venv", ".git", "*cache*", "__pycache__", "*.egg-info", "build", "tests")
    shutil.copytree(REPO, dest, ignore=ignore)


def test_scrapyd_deploy_schedule_and_archive(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    home = tmp_path / "scrapyd"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        f"""[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
eggs_dir = {home / "eggs"}
logs_dir = {home / "logs"}
dbs_dir = {home / "dbs"}
items_dir =
max_proc = 1
poll_interval = 0.2
""",
        encoding="utf-8",
    )
    env = {
        k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "pythonpath")
    }
    env["HOME"] = str(home)  # no ~/.scrapyd.conf or ~/.netrc of the machine
    log = (home / "scrapyd.log").open("w")
    daemon = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert _api(base, "daemonstatus.json")["status"] == "ok"
                break
            except OSError:
                assert daemon.poll() is None, (home / "scrapyd.log").read_text()
                assert time.monotonic() < deadline, "scrapyd did not start"
                time.sleep(0.2)

        project = tmp_path / "project"
        _copy_project(project)
        cfg = project / "scrapy.cfg"
        lines = [line for line in cfg.read_text().splitlines() if not line.startswith("url")]
        cfg.write_text("\n".join(lines).replace("[deploy]", f"[deploy]\nurl = {base}/") + "\n")
        deploy = subprocess.run(
            [str(BIN / "scrapyd-deploy"), "-p", PROJECT, "-v", "r1"],
            cwd=project,
            env=env,
            capture_output=True,
            check=False,
            text=True,
            timeout=120,
        )
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        spiders = _api(base, f"listspiders.json?project={PROJECT}")
        assert spiders.get("spiders") == ["article"], spiders

        root = tmp_path / "site"
        write_site(root, 5)
        db = tmp_path / "archive.db"
        with serve_directory(root) as server:
            job = _api(
                base,
                "schedule.json",
                [
                    ("project", PROJECT),
                    ("spider", "article"),
                    ("urls", server.url + "/"),
                    ("setting", f"ARCHIVE_URL=sqlite:///{db}"),
                    ("setting", "AUTOTHROTTLE_ENABLED=0"),
                    ("setting", "DOWNLOAD_DELAY=0"),
                ],
            )
            assert job["status"] == "ok", job
            deadline = time.monotonic() + 90
            while True:
                jobs = _api(base, f"listjobs.json?project={PROJECT}")
                if any(j["id"] == job["jobid"] for j in jobs["finished"]):
                    break
                assert time.monotonic() < deadline, jobs
                time.sleep(0.3)
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()
    logs = list((home / "logs").rglob("*.log"))
    con = sqlite3.connect(db)
    try:
        urls = sorted(u.removeprefix(server.url) for (u,) in con.execute("SELECT url FROM articles"))
        run = con.execute("SELECT finish_reason, archived FROM crawl_runs").fetchall()
    finally:
        con.close()
    assert urls == sorted(f"/news/story-{i}.html" for i in range(5)), [p.read_text()[-3000:] for p in logs]
    assert run == [("finished", 5)]

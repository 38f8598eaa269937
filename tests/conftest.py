"""Shared fixtures: the repo paths, the local site server, and running the CLI or Scrapy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from crawler.sample_site import SITE_DIR
from crawler.siteserver import SiteServer, serve_directory
from tests.servers import pg_database

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when ../shared is not beside the repo."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is not beside this clone)")
    return path


@pytest.fixture(scope="session")
def site() -> Iterator[SiteServer]:
    """The bundled sample site, served on 127.0.0.1 for the whole test session."""
    with serve_directory(SITE_DIR) as server:
        yield server


@pytest.fixture(scope="session")
def manifest() -> list[dict]:
    data = json.loads((SITE_DIR / "manifest.json").read_text(encoding="utf-8"))
    return data["articles"] if isinstance(data, dict) else data


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("http_proxy", None)
    env.pop("HTTP_PROXY", None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``crawler ARGS`` in a subprocess (a crawl starts a reactor, once per process)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd or REPO,
        env=_env(),
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
    )


def run_scrapy(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy ARGS`` from the repo root, as a Scrapy user would."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
    )


# Settings that make a loopback crawl fast; politeness stays on by default elsewhere.
FAST = ("-s", "AUTOTHROTTLE_ENABLED=0", "-s", "DOWNLOAD_DELAY=0")


# -- database and Redis servers --------------------------------------------------------------------
# .ci/run (and tests/servers.sh for developers) start PostgreSQL and Redis on 127.0.0.1 and export
# their URLs. Without them the tests that need them skip, saying why; under CI=true they fail.
POSTGRES_ENV = "TEST_POSTGRES_URL"
REDIS_ENV = "TEST_REDIS_URL"
START_HINT = 'start them with: eval "$(tests/servers.sh start /tmp/news-archiver-servers)"'


def server_url(env: str, what: str) -> str:
    """The URL of a test server from ``env``; skip (fail under CI=true) when it is not set."""
    url = os.environ.get(env)
    if not url:
        message = f"${env} is not set: no {what} server for this test ({START_HINT})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI must run it")
        pytest.skip(message)
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty PostgreSQL database of its own for this test (dropped afterwards)."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(pg_database(server_url(POSTGRES_ENV, "PostgreSQL")))
        except Exception as exc:
            if os.environ.get("CI", "").lower() == "true":
                raise
            pytest.skip(f"PostgreSQL at ${POSTGRES_ENV} is not reachable: {exc.__class__.__name__}")
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database for an archive, once on SQLite (a file under tmp_path) and
    once on PostgreSQL (a database of its own)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The test Redis server, emptied before and after the test."""
    import redis

    url = server_url(REDIS_ENV, "Redis")
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()

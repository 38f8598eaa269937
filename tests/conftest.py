"""Shared fixtures: the repo paths, the local site server, and running the CLI or Scrapy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.sample_site import SITE_DIR
from crawler.siteserver import SiteServer, serve_directory

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

"""Hostile HTTP: retries with backoff and Retry-After, a deadline per download, bodies cut short,
decompression bombs. Real crawls over a fault-injecting loopback server (tests/faultserver.py)."""

from __future__ import annotations

import gzip
import sqlite3
import time
import zlib
from pathlib import Path

import pytest

from tests.conftest import FAST, run_cli
from tests.faultserver import Route, serve_faults
from tests.newsgen import story_html

pytestmark = pytest.mark.slow


def _crawl(db: Path, *urls: str, settings: tuple[str, ...] = ()) -> None:
    proc = run_cli(
        "crawl", *urls, "--db", f"sqlite:///{db}", "--max-depth", "1", *FAST, *settings, timeout=240
    )
    assert proc.returncode in (0, 1), proc.stderr


def _rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _index(*paths: str) -> Route:
    links = " ".join(f'<a href="{p}">{p}</a>' for p in paths)
    return Route(body=f"<html><body>{links}</body></html>".encode())


def test_retries_back_off_and_honour_retry_after(tmp_path: Path) -> None:
    routes = {
        "/": _index("/busy", "/limited"),
        "/busy": Route(body=story_html(1).encode(), first=((503, {}), (502, {}))),
        # Asks for an hour: honoured only up to CRAWLER_RETRY_MAX_DELAY.
        "/limited": Route(body=story_html(2).encode(), first=((429, {"Retry-After": "3600"}),)),
    }
    with serve_faults(routes) as site:
        db = tmp_path / "a.db"
        started = time.monotonic()
        _crawl(
            db,
            site.url + "/",
            settings=("-s", "CRAWLER_RETRY_BACKOFF=1", "-s", "CRAWLER_RETRY_MAX_DELAY=2.5"),
        )
        took = time.monotonic() - started
        busy, limited = site.times["/busy"], site.times["/limited"]
    assert len(busy) == 3 and len(limited) == 2
    assert busy[1] - busy[0] >= 0.9  # 1 s, then 2 s
    assert busy[2] - busy[1] >= 1.9
    assert limited[1] - limited[0] >= 2.4  # Retry-After, capped at 2.5 s
    assert took < 60
    urls = {u for (u,) in _rows(db, "SELECT url FROM articles")}
    assert urls == {site.url + "/busy", site.url + "/limited"}


def test_drip_bodies_cut_short_and_bombs_never_archived(tmp_path: Path) -> None:
    """A body dripped a byte a second ends at DOWNLOAD_TIMEOUT (the whole download); a reset
    mid-body and a short Content-Length are data loss; gzip/deflate bombs, also nested, stop at
    DOWNLOAD_MAXSIZE. None is archived, each is recorded with its reason."""
    page = story_html(3).encode()
    bomb = gzip.compress(b"<p>" + b"a" * (64 * 1024 * 1024))  # 64 MiB of text in ~64 KiB
    deflate_bomb = zlib.compress(b" " * (64 * 1024 * 1024), 9)
    nested = gzip.compress(gzip.compress(b"<p>" * (16 * 1024 * 1024)))
    html = {"Content-Type": "text/html; charset=utf-8"}
    routes = {
        "/": _index("/drip", "/reset", "/short", "/bomb", "/deflate", "/nested", "/good"),
        "/drip": Route(body=page, fault="drip", drip=1, interval=1.0),
        "/reset": Route(body=page, fault="reset"),
        "/short": Route(body=page, fault="short"),
        "/bomb": Route(body=bomb, headers={**html, "Content-Encoding": "gzip"}),
        "/deflate": Route(body=deflate_bomb, headers={**html, "Content-Encoding": "deflate"}),
        "/nested": Route(body=nested, headers={**html, "Content-Encoding": "gzip, gzip"}),
        "/good": Route(body=story_html(4).encode()),
    }
    with serve_faults(routes) as site:
        db = tmp_path / "b.db"
        started = time.monotonic()
        _crawl(
            db,
            site.url + "/",
            settings=(
                "-s",
                "DOWNLOAD_TIMEOUT=3",
                "-s",
                "RETRY_TIMES=1",
                "-s",
                "CRAWLER_RETRY_BACKOFF=0.1",
                "-s",
                "DOWNLOAD_MAXSIZE=4000000",
            ),
        )
        took = time.monotonic() - started
        drips = site.hits["/drip"]
    assert took < 60 and drips == 2
    assert [u for (u,) in _rows(db, "SELECT url FROM articles")] == [site.url + "/good"]
    reasons = dict(_rows(db, "SELECT url, reason FROM fetch_failures"))
    base = site.url
    assert reasons[base + "/drip"] == "timeout"
    assert reasons[base + "/reset"] == "data_loss"
    assert reasons[base + "/short"] == "data_loss"
    assert reasons[base + "/bomb"] == "too_large"
    assert reasons[base + "/deflate"] == "too_large"
    assert reasons[base + "/nested"] == "too_large"

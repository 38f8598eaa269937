"""Incremental crawls: revisit interval (no request), conditional requests (304, no extraction),
sitemap lastmod, changed pages (new version), --full; and the pure rules behind them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.incremental import (
    CONDITIONAL,
    FETCH,
    SKIP_DONE,
    SKIP_FRESH,
    SKIP_LISTED,
    DurationError,
    decide,
    parse_duration,
    parse_listed_date,
)
from crawler.siteserver import SiteServer, serve_directory
from tests.conftest import FAST, run_cli
from tests.newsgen import invoke, story_html, story_paragraphs, touch_later, write_site

N = 12


@pytest.fixture
def gazette(tmp_path: Path) -> Iterator[tuple[SiteServer, Path, list[str]]]:
    root = tmp_path / "site"
    paths = write_site(root, N)
    with serve_directory(root) as server:
        yield server, root, paths


def crawl(db: Path, *args: str) -> None:
    proc = run_cli("crawl", *args, "--db", f"sqlite:///{db}", *FAST)
    assert proc.returncode == 0, proc.stderr[-3000:]


def last_run(db: Path) -> dict:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        row = dict(con.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())
    finally:
        con.close()
    row["failures"] = json.loads(row["failures"] or "{}")
    return row


def rows(db: Path, sql: str, *args: object) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def article_hits(server: SiteServer, paths: list[str], status: int) -> int:
    with server.lock:
        return sum(n for (m, p, s), n in server.hits.items() if m == "GET" and p in paths and s == status)


@pytest.mark.slow
def test_second_run_within_revisit_interval_requests_no_article_full_run_all(gazette, tmp_path):
    server, _, paths = gazette
    db = tmp_path / "a.db"
    crawl(db, server.url + "/")
    assert last_run(db)["archived"] == N
    assert article_hits(server, paths, 200) == N
    crawl(db, server.url + "/")  # default revisit interval: 6 hours
    run = last_run(db)
    assert article_hits(server, paths, 200) == N and article_hits(server, paths, 304) == 0
    assert run["not_requested"] == N
    assert run["requested"] == 2  # robots.txt and the home page
    # The home page (not an article) was asked for conditionally and read from the page cache.
    assert server.hits[("GET", "/", 200)] == 1 and server.hits[("GET", "/", 304)] == 1
    assert run["pages_fetched"] == 0 and run["archived"] == 0 and run["unchanged"] == 0
    crawl(db, server.url + "/", "--full")  # everything again, unconditionally
    run = last_run(db)
    assert article_hits(server, paths, 200) == 2 * N and article_hits(server, paths, 304) == 0
    assert run["unchanged"] == N and run["not_requested"] == 0 and run["not_modified"] == 0


@pytest.mark.slow
def test_conditional_requests_answered_304_cost_no_extraction(gazette, tmp_path):
    server, root, paths = gazette
    db = tmp_path / "a.db"
    crawl(db, server.url + "/")
    before = dict(rows(db, "SELECT url, fetched_at FROM articles"))
    crawl(db, server.url + "/", "--revisit", "0")
    run = last_run(db)
    for path in paths:
        assert server.hits[("GET", path, 304)] == 1, path
    # Every 304: the N articles and the home page (from the page cache).
    assert run["not_modified"] == N + 1 and run["not_requested"] == 0
    # Nothing was downloaded in full (the home page came from the page cache, its links were
    # followed), so no article went through extraction or storage.
    assert run["pages_fetched"] == 0 and server.hits[("GET", "/", 304)] == 1
    assert (run["archived"], run["changed"], run["unchanged"]) == (0, 0, 0)
    after = rows(db, "SELECT url, fetched_at, checked_at FROM articles")
    assert all(before[url] == fetched and checked > fetched for url, fetched, checked in after)

    # One story changes its text: fetched in full, stored, its earlier text kept as a version.
    story = root / "news" / "story-3.html"
    new_paras = story_paragraphs(3)
    new_paras[1] = "The council later corrected the figures given at the meeting in district three."
    story.write_text(story_html(3, new_paras), encoding="utf-8")
    touch_later(story)
    # Another only gets a newer mtime: the ETag still matches, so it is not modified.
    touch_later(root / "news" / "story-4.html")
    # The home page links a new story: it is downloaded again (200), and the new story found.
    (root / "news" / f"story-{N}.html").write_text(story_html(N), encoding="utf-8")
    home = (root / "index.html").read_text(encoding="utf-8")
    new_link = f'<li><a href="{{{{BASE}}}}/news/story-{N}.html">Story {N}</a></li></ul>'
    (root / "index.html").write_text(home.replace("</ul>", new_link), encoding="utf-8")
    crawl(db, server.url + "/", "--revisit", "0")
    run = last_run(db)
    assert server.hits[("GET", "/news/story-3.html", 200)] == 2
    assert server.hits[("GET", "/news/story-4.html", 304)] == 2
    assert server.hits[("GET", "/", 200)] == 2
    assert (run["archived"], run["changed"], run["not_modified"]) == (1, 1, N - 1)
    assert run["pages_fetched"] == 3  # the home page, the changed story, the new one
    url = server.url + "/news/story-3.html"
    versions = rows(
        db,
        "SELECT v.body, v.fetched_at FROM article_versions v JOIN articles a ON a.id = v.article_id "
        "WHERE a.url = ?",
        url,
    )
    assert len(versions) == 1
    assert story_paragraphs(3)[1] in versions[0][0] and versions[0][1] == before[url]
    body = rows(db, "SELECT body FROM articles WHERE url = ?", url)[0][0]
    assert new_paras[1] in body and story_paragraphs(3)[1] not in body

    proc = invoke("history", url, "--db", f"sqlite:///{db}")
    assert proc.exit_code == 0, proc.stderr
    assert "2 versions" in proc.stdout
    assert "-" + story_paragraphs(3)[1] in proc.stdout.splitlines()
    assert "+" + new_paras[1] in proc.stdout.splitlines()


@pytest.mark.slow
def test_sitemap_lastmod_skips_unchanged_pages(gazette, tmp_path):
    server, root, paths = gazette
    db = tmp_path / "a.db"
    sitemap = server.url + "/sitemap.xml"
    crawl(db, "--sitemap", sitemap)
    assert last_run(db)["archived"] == N
    crawl(db, "--sitemap", sitemap, "--revisit", "0")
    run = last_run(db)
    assert run["not_requested"] == N and run["not_modified"] == 1  # the sitemap's 304
    assert server.hits[("GET", "/sitemap.xml", 304)] == 1  # read from the page cache
    assert article_hits(server, paths, 200) == N and article_hits(server, paths, 304) == 0
    # The sitemap says story 5 changed after our fetch: it is requested (conditionally).
    text = (root / "sitemap.xml").read_text(encoding="utf-8")
    entry = "/news/story-5.html</loc><lastmod>2020-01-01T00:00:00+00:00"
    assert entry in text
    (root / "sitemap.xml").write_text(
        text.replace(entry, "/news/story-5.html</loc><lastmod>2099-01-01T00:00:00+00:00"), encoding="utf-8"
    )
    crawl(db, "--sitemap", sitemap, "--revisit", "0")
    run = last_run(db)
    assert run["not_requested"] == N - 1 and run["not_modified"] == 1
    assert server.hits[("GET", "/sitemap.xml", 200)] == 2  # changed: downloaded again
    assert server.hits[("GET", "/news/story-5.html", 304)] == 1


# -- the rules ---------------------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 12, 0, 0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("30m", 1800), ("6h", 21600), ("1d12h", 129600), ("2w", 1209600), ("1.5h", 5400), (0, 0)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "6x", "h6", "-5", "6h later"])
def test_parse_duration_rejects(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:00:00+05:30", datetime(2026, 11, 20, 4, 30)),
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0)),
        ("2026-11-20", datetime(2026, 11, 20, 23, 59, 59)),
        ("Tue, 24 Nov 2026 08:00:00 +0100", datetime(2026, 11, 24, 7, 0)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_listed_date(text, expected):
    assert parse_listed_date(text) == expected


def _decide(seen_ago: timedelta, **kwargs):
    args = {
        "last_seen": NOW - seen_ago,
        "etag": '"abc"',
        "last_modified": "Mon, 23 Nov 2026 10:00:00 GMT",
        "now": NOW,
        "revisit_after": 3600,
    }
    args.update(kwargs)
    return decide(**args)


def test_decide_order_of_rules():
    assert _decide(timedelta(minutes=5)).action == SKIP_FRESH
    assert _decide(timedelta(minutes=5), job_started=NOW - timedelta(minutes=10)).action == SKIP_DONE
    old = timedelta(hours=3)
    assert _decide(old, listed=NOW - timedelta(hours=4)).action == SKIP_LISTED
    decision = _decide(old, listed=NOW - timedelta(hours=1))
    assert decision.action == CONDITIONAL
    assert decision.headers == {
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Mon, 23 Nov 2026 10:00:00 GMT",
    }
    assert _decide(old, etag=None, last_modified=None).action == FETCH
    assert _decide(old, conditional=False).action == FETCH
    assert _decide(timedelta(seconds=1), revisit_after=0).action == CONDITIONAL

"""Re-extraction: stored raw pages go through the current extractor again, without fetching;
rows whose output changed are updated (search index included) and counted; --site, --since and
--dry-run narrow it; a crawl with --no-keep-html stores no pages."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.boilerplate import record_lines
from archive.db import make_engine, make_sessionmaker
from archive.models import Article
from archive.search import search
from archive.store import content_hash, store_article
from crawler.extract import EXTRACTOR_VERSION, extract
from crawler.items import RawPage
from crawler.siteserver import serve_directory
from pipelines import article_record
from tests.conftest import FAST, run_cli
from tests.newsgen import invoke, story_html, story_paragraphs, write_site

STALE_BODY = "Menu Home World Sport\n\nAn old extractor kept this navigation line and nothing else useful"


def _store(session, n: int, host: str, fetched_at: datetime, *, stale: bool) -> str:
    url = f"https://{host}/news/story-{n}.html"
    html = story_html(n).replace("{{BASE}}", f"https://{host}").encode()
    page = RawPage(
        url=url, final_url=url, status=200, html=html, content_type="text/html", fetched_at=fetched_at
    )
    article = extract(html, url)
    assert article is not None
    record = article_record(page, article)
    if stale:  # what an older extractor produced from the same page
        body = f"{STALE_BODY} ({n})."
        record.update(body=body, content_hash=content_hash(body), lang=None, extractor_version="0")
    assert store_article(session, record) == "new"
    return url


@pytest.fixture
def archive(archive_url: str) -> tuple[str, dict[str, str]]:
    db = archive_url
    engine = make_engine(db)
    with make_sessionmaker(engine).begin() as session:
        urls = {
            "stale": _store(session, 1, "gazette.example", datetime(2026, 11, 1), stale=True),
            "fresh": _store(session, 2, "gazette.example", datetime(2026, 11, 1), stale=False),
            "other": _store(session, 3, "other.example", datetime(2026, 11, 1), stale=True),
            "recent": _store(session, 4, "gazette.example", datetime(2026, 11, 20), stale=True),
        }
    engine.dispose()
    return db, urls


def _row(db: str, url: str) -> dict:
    engine = make_engine(db, readonly=True)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(Article).where(Article.url == url)).one()._mapping)
    finally:
        engine.dispose()


def _matches(db: str, word: str) -> int:
    """Articles the search index finds for ``word`` (SQLite FTS5 or PostgreSQL tsvector)."""
    engine = make_engine(db, readonly=True)
    try:
        with make_sessionmaker(engine)() as session:
            return len(search(session, word, limit=100))
    finally:
        engine.dispose()


def test_reextract_updates_changed_rows_only(archive):
    db, urls = archive
    assert _matches(db, "navigation") == 3
    proc = invoke("reextract", "--db", db, "--dry-run")
    assert proc.exit_code == 0, proc.stderr
    assert "4 stored pages" in proc.stdout and "3 would change" in proc.stdout
    assert _row(db, urls["stale"])["body"].startswith(STALE_BODY)

    proc = invoke("reextract", "--db", db, "--site", "gazette.example", "--since", "2026-11-10")
    assert proc.exit_code == 0, proc.stderr
    assert "1 stored page " in proc.stdout and "1 changed" in proc.stdout
    assert _row(db, urls["stale"])["body"].startswith(STALE_BODY)  # fetched before --since
    assert _row(db, urls["recent"])["body"].startswith(STALE_BODY) is False

    proc = invoke("reextract", "--db", db, "--site", "gazette.example")
    assert proc.exit_code == 0, proc.stderr
    assert "3 stored pages" in proc.stdout and "1 changed, 2 unchanged" in proc.stdout
    row = _row(db, urls["stale"])
    assert story_paragraphs(1)[-1] in row["body"] and "navigation" not in row["body"]
    assert row["lang"] == "en" and row["extractor_version"] == EXTRACTOR_VERSION
    assert row["fetched_at"] == datetime(2026, 11, 1)  # nothing was fetched
    assert _row(db, urls["other"])["body"].startswith(STALE_BODY)  # another site
    assert _matches(db, "navigation") == 1  # the search index followed the updates
    # Once the site has learned lines (here none of them on these pages), re-extraction counts the
    # learned-boilerplate hits of the rows it reads (NULL before: not counted); that alone is no change.
    assert _row(db, urls["stale"])["boilerplate_hits"] is None
    engine = make_engine(db)
    with make_sessionmaker(engine).begin() as session:
        for _ in range(3):
            record_lines(session, "gazette.example", ["a line these pages never carry"])
    engine.dispose()
    proc = invoke("reextract", "--db", db, "--site", "gazette.example")
    assert proc.exit_code == 0 and "0 changed, 3 unchanged" in proc.stdout, proc.stdout
    assert [_row(db, urls[k])["boilerplate_hits"] for k in ("stale", "fresh", "recent")] == [0, 0, 0]
    assert _row(db, urls["other"])["boilerplate_hits"] is None  # another site: not re-extracted


def test_reextract_errors_and_empty_archive(archive_url: str):
    db = archive_url
    make_engine(db).dispose()
    proc = invoke("reextract", "--db", db)
    assert proc.exit_code == 0 and "No stored pages" in proc.stdout
    proc = invoke("reextract", "--db", db, "--since", "last week")
    assert proc.exit_code != 0 and "not a date" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_crawl_keeps_html_unless_told_not_to(tmp_path: Path):
    root = tmp_path / "site"
    write_site(root, 3)
    db = tmp_path / "k.db"
    with serve_directory(root) as server:
        proc = run_cli("crawl", server.url + "/", "--db", f"sqlite:///{db}", "--no-keep-html", *FAST)
    assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM article_pages").fetchone()[0] == 0
        assert {v for (v,) in con.execute("SELECT extractor_version FROM articles")} == {EXTRACTOR_VERSION}
    finally:
        con.close()

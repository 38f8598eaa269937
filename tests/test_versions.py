"""Versions: when an article's clean text changes between crawls the earlier text is kept with
its fetch time; identical re-fetches and duplicates add none; `crawler history` shows the diff."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from archive.db import make_engine, make_sessionmaker
from archive.history import article_history
from archive.models import ArticlePage, ArticleVersion
from archive.store import (
    ARTICLE_FIELDS,
    CHANGED,
    DUPLICATE,
    NEW,
    UNCHANGED,
    compress_html,
    content_hash,
    decompress_html,
    store_article,
)
from tests.newsgen import invoke

URL = "https://news.example/2026/11/bridge"
T0 = datetime(2026, 11, 20, 8, 0)


def _record(body: str, fetched_at: datetime, url: str = URL, title: str = "Bridge reopens") -> dict:
    return {
        "url": url,
        "domain": "news.example",
        "title": title,
        "lede": "The old bridge reopened on Monday.",
        "body": body,
        "word_count": len(body.split()),
        "lang": "en",
        "fetched_at": fetched_at,
        "content_hash": content_hash(title + body),
        "extractor_version": "1",
        "final_url": url,
        "html_z": compress_html(f"<html><body><p>{body}</p></body></html>".encode()),
    }


def test_changed_text_keeps_earlier_versions(archive_url: str):
    db = archive_url
    engine = make_engine(db)
    Session = make_sessionmaker(engine)
    first = "Traffic resumed at noon.\n\nRepairs cost two million."
    second = "Traffic resumed at noon.\n\nRepairs cost three million, the council said."
    steps = [
        (first, T0, NEW),
        (first, T0 + timedelta(hours=6), UNCHANGED),
        (second, T0 + timedelta(hours=12), CHANGED),
        (second + "\n\nA footbridge follows in spring.", T0 + timedelta(days=1), CHANGED),
    ]
    for body, at, expected in steps:
        with Session.begin() as session:
            assert store_article(session, _record(body, at)) == expected
    with Session.begin() as session:  # the same text under another URL: a duplicate, no version
        latest = second + "\n\nA footbridge follows in spring."
        assert store_article(session, _record(latest, T0, url=URL + "-copy")) == DUPLICATE
    engine.dispose()

    engine = make_engine(db)  # reopened: the data persisted
    with make_sessionmaker(engine)() as session:
        history = article_history(session, URL)
        assert session.scalar(select(func.count(ArticleVersion.id))) == 2
        page = session.scalars(select(ArticlePage)).one()
        assert b"footbridge" in decompress_html(page.html_z)
        assert page.fetched_at == T0 + timedelta(days=1)
        assert article_history(session, URL + "-nope") is None
    engine.dispose()
    assert history is not None
    # Each version with the time of its last fetch (the unchanged re-fetch at 6h counts).
    assert [v.fetched_at for v in history.versions] == [
        T0 + timedelta(hours=6),
        T0 + timedelta(hours=12),
        T0 + timedelta(days=1),
    ]
    assert [v.body for v in history.versions] == [
        first,
        second,
        second + "\n\nA footbridge follows in spring.",
    ]

    proc = invoke("history", URL, "--db", db)
    assert proc.exit_code == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == f"{URL}: 3 versions"
    assert "-Repairs cost two million." in out
    assert "+Repairs cost three million, the council said." in out
    assert "+A footbridge follows in spring." in out
    assert "Traffic resumed at noon." not in [line[1:] for line in out if line[:1] in "+-"]


def test_history_of_unknown_url_is_one_line_error(archive_url: str):
    db = archive_url
    make_engine(db).dispose()
    proc = invoke("history", "https://news.example/none", "--db", db)
    assert proc.exit_code != 0
    assert proc.stderr.strip() == "Error: https://news.example/none is not in the archive"


def test_raw_pages_are_stored_compressed_and_old_zlib_pages_still_read():
    import zlib

    page = (
        "<html><body>" + "<p>Der Fluss stieg über Nacht um zwei Meter.</p>" * 200 + "</body></html>"
    ).encode()
    stored = compress_html(page)
    assert len(stored) < len(page) / 10 and decompress_html(stored) == page
    # Archives written before the switch to Zstandard hold zlib streams; they keep reading.
    assert decompress_html(zlib.compress(page, 3)) == page


def test_a_store_after_another_writer_inserted_the_url_updates_it(archive_url: str):
    """Two writers that both found a URL absent: the second INSERT does nothing (ON CONFLICT) and
    becomes an update of the first writer's row, never a unique-key error."""
    engine = make_engine(archive_url)
    Session = make_sessionmaker(engine)
    first, second = "Traffic resumed at noon.", "Traffic resumed at noon, two hours late."
    with Session.begin() as session:
        assert store_article(session, _record(first, T0)) == NEW
    with Session.begin() as session:
        # As if this writer had run its SELECT before the other's commit: the INSERT path.
        from archive.store import _insert_article

        values = {k: v for k, v in _record(second, T0 + timedelta(hours=1)).items() if k in ARTICLE_FIELDS}
        assert _insert_article(session, values) is None
        assert store_article(session, _record(second, T0 + timedelta(hours=1))) == CHANGED
        assert store_article(session, _record(second, T0 + timedelta(hours=1))) == UNCHANGED
    with Session() as session:
        assert session.scalar(select(func.count(ArticleVersion.id))) == 1
        assert session.scalar(select(func.count(ArticlePage.article_id))) == 1
        assert b"two hours late" in decompress_html(session.scalars(select(ArticlePage)).one().html_z)
    engine.dispose()

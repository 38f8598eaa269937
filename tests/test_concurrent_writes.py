"""Many writers on one archive: batches in URL order, upserts, and transactions run again after a
deadlock keep every article exactly once (PostgreSQL, where writers really run at once; SQLite too)."""

from __future__ import annotations

import random
import threading
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from archive.boilerplate import record_lines, site_pages
from archive.db import is_retryable, make_engine, make_sessionmaker, run_transaction
from archive.models import Article
from archive.store import NEW, content_hash, store_article


def _record(i: int) -> dict:
    body = f"Story {i}: the council met on day {i} and agreed on item {i * 7} of the plan."
    return {
        "url": f"https://news.example/{i:04d}",
        "domain": "news.example",
        "title": f"Story {i}",
        "lede": None,
        "body": body,
        "word_count": len(body.split()),
        "lang": "en",
        "fetched_at": datetime(2026, 11, 20, 8, 0),
        "content_hash": content_hash(body),
    }


def test_a_deadlock_is_retried(pg_url: str):
    engine = make_engine(pg_url)
    Session = make_sessionmaker(engine)
    with Session.begin() as session:
        session.execute(text("INSERT INTO site_pages (domain, pages) VALUES ('a', 0), ('b', 0)"))
    barrier = threading.Barrier(2, timeout=10)
    retries: list[BaseException] = []
    errors: list[BaseException] = []

    def writer(first: str, second: str) -> None:
        attempt = {"n": 0}

        def work(session) -> None:  # type: ignore[no-untyped-def]
            attempt["n"] += 1
            session.execute(text("UPDATE site_pages SET pages = pages + 1 WHERE domain = :d"), {"d": first})
            if attempt["n"] == 1:
                barrier.wait()  # both hold their first row: the second UPDATEs cross
            session.execute(text("UPDATE site_pages SET pages = pages + 1 WHERE domain = :d"), {"d": second})

        try:
            run_transaction(Session, work, on_retry=retries.append)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(retries) == 1 and is_retryable(retries[0]) and "deadlock" in str(retries[0])
    with Session() as session:
        assert site_pages(session, "a") == 2 and site_pages(session, "b") == 2
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_four_writers_store_every_article_once(backend: str, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'a.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    records = [_record(i) for i in range(300)]
    engine = make_engine(url)
    Session = make_sessionmaker(engine)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(seed: int) -> None:
        mine = records[:]
        random.Random(seed).shuffle(mine)  # every writer meets every URL, in its own order
        for start in range(0, len(mine), 50):
            batch = sorted(mine[start : start + 50], key=lambda r: r["url"])  # as StorePipeline does

            def work(session, batch=batch) -> list[str]:  # type: ignore[no-untyped-def]
                done = []
                for record in batch:
                    outcome = store_article(session, record)
                    if outcome == NEW:
                        record_lines(session, "news.example", ["share this story", record["title"]])
                    done.append(outcome)
                return done

            try:
                result = run_transaction(Session, work, attempts=10)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            with lock:
                outcomes.extend(result)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert outcomes.count(NEW) == 300 and len(outcomes) == 1200
    with Session() as session:
        assert session.scalar(select(func.count(Article.id))) == 300
        assert session.scalar(select(func.count(func.distinct(Article.url)))) == 300
        assert site_pages(session, "news.example") == 300
    engine.dispose()

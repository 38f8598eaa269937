"""How long the incremental middleware's start-of-crawl read takes on a large archive.

Builds an SQLite archive of N articles (default 100,000; short bodies, realistic URLs and
validators) in a temporary folder, then times ``archive.state.load_fetch_states`` against the
baseline of loading the same rows as ORM objects. Prints the figures.

    .venv/bin/python bench/incremental_state.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.db import make_engine, make_sessionmaker
from archive.models import Article
from archive.state import load_fetch_states


def build(db: Path, n: int) -> None:
    engine = make_engine(f"sqlite:///{db}")
    t0 = datetime(2026, 1, 1)
    rows = [
        {
            "url": f"https://www.example-news.com/2026/{i % 12 + 1:02d}/story-{i}.html",
            "domain": "example-news.com",
            "title": f"Story {i}",
            "body": f"Body of story {i}. " * 20,
            "word_count": 80,
            "fetched_at": t0 + timedelta(minutes=i),
            "content_hash": f"{i:064x}",
            "etag": f'"{i:016x}"',
            "last_modified": "Mon, 23 Nov 2026 10:00:00 GMT",
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(insert(Article), rows[start : start + 10_000])
    engine.dispose()


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        t = time.perf_counter()
        build(db, n)
        print(f"built an archive of {n} articles in {time.perf_counter() - t:.1f}s")
        engine = make_engine(f"sqlite:///{db}")
        Session = make_sessionmaker(engine)
        t = time.perf_counter()
        with Session() as session:
            states = load_fetch_states(session)
        took = time.perf_counter() - t
        tracemalloc.start()
        with Session() as session:
            load_fetch_states(session)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"load_fetch_states: {len(states)} URLs in {took:.2f}s, peak {peak / 2**20:.0f} MiB (traced)")
        t = time.perf_counter()
        with Session() as session:
            objects = session.scalars(select(Article)).all()
        print(f"baseline, full ORM objects: {len(objects)} rows in {time.perf_counter() - t:.2f}s")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

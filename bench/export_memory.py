"""Export benchmark: throughput and peak memory of ``archive.export.export`` as the archive grows.

Usage: python bench/export_memory.py [--rows N] [--batch-size B]

Builds two SQLite archives in a temporary folder, N and 4N articles of about 4 KB each, exports each
to Parquet, JSON Lines and CSV, and prints rows/s and the peak resident memory of a child process
doing the export (so earlier runs do not inflate the figure). Flat memory means the 4N peak stays
close to the N peak (the baseline in the same run) while the data grows fourfold.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert

from archive.db import make_engine, make_sessionmaker
from archive.models import Article


def build(path: Path, rows: int) -> None:
    rng = random.Random(rows)
    vocab = [f"w{i}" for i in range(2000)] + ["नदी", "शहर", "चुनाव", "सरकार"]
    engine = make_engine(f"sqlite:///{path}")
    done = 0
    while done < rows:
        chunk = min(2000, rows - done)
        batch = []
        for i in range(done, done + chunk):
            body = "\n\n".join(" ".join(rng.choice(vocab) for _ in range(120)) + "." for _ in range(6))
            batch.append(
                {
                    "url": f"http://bench.test/{i}",
                    "domain": f"site{i % 7}.test",
                    "title": f"Story {i}",
                    "lede": f"Lede of story {i}.",
                    "body": body,
                    "word_count": 720,
                    "lang": "en",
                    "lang_confidence": 0.99,
                    "fetched_at": datetime(2026, 1, 1),
                    "published": "2025-12-31",
                    "content_hash": f"bench-{i}",
                }
            )
        with make_sessionmaker(engine).begin() as session:
            session.execute(insert(Article), batch)
        done += chunk
    engine.dispose()


CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
from archive.db import make_engine, make_sessionmaker
from archive.export import export
engine = make_engine({url!r})
with make_sessionmaker(engine)() as session:
    t = time.perf_counter()
    stats = export(session, {out!r}, {fmt!r}, batch_size={batch})
    dt = time.perf_counter() - t
print(stats.written, dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(db: Path, fmt: str, batch: int, folder: Path) -> tuple[int, float, float]:
    code = CHILD.format(
        root=str(ROOT), url=f"sqlite:///{db}", out=str(folder / f"out.{fmt}"), fmt=fmt, batch=batch
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024  # ru_maxrss is in KB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = [args.rows, 4 * args.rows]
        print(f"{'rows':>8} {'db MB':>7} {'format':>8} {'rows/s':>9} {'peak RSS MB':>12}")
        for n in sizes:
            db = folder / f"a{n}.db"
            build(db, n)
            for fmt in ("parquet", "jsonl", "csv"):
                written, dt, rss = run(db, fmt, args.batch_size, folder)
                assert written == n
                print(f"{n:>8} {db.stat().st_size / 1e6:>7.1f} {fmt:>8} {n / dt:>9.0f} {rss:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

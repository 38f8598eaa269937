"""Run ``crawler ARGS`` in this process with probes on the archive and the reactor, for
tests/test_archive_thread.py: ``python -m tests.reactorprobe REPORT.json [--lock SECONDS DB] -- ARGS``.

The report (JSON) holds:

- ``code``: the command's exit code;
- ``engines_made``: the URLs of the engines made (``archive.db.make_engine``) while the crawl ran
  (inside :func:`crawler.run.run_crawl`), and ``engines_used``: how many engines ran a statement
  while the reactor ran;
- ``on_reactor``: each database call (statement, new connection, closed connection) made on the
  reactor's thread while it ran: there must be none;
- ``threads``: statements run while the reactor ran, counted by thread name (e.g. ``archive-reader``);
- with ``--lock SECONDS DB``: a connection of this process holds an exclusive lock on the SQLite
  file DB (``locking_mode=EXCLUSIVE``: readers and writers get SQLITE_BUSY, and wait for their busy
  timeout) from just before the reactor starts until SECONDS later; ``lock_gap`` is the longest the reactor went without running a 50 ms timer while the
  lock was held (a database call waiting on the reactor's thread shows as a gap that long).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
import threading
import time
from typing import Any

import archive.db as archive_db

REPORT: dict[str, Any] = {"engines_made": [], "on_reactor": [], "threads": {}, "engines_used": 0}
_crawling = [False]
_engines: list[Any] = []
_made: list[Any] = []
_ticks: list[float] = []
_window: dict[str, float] = {}


def _reactor_running() -> bool:
    reactor = sys.modules.get("twisted.internet.reactor")  # never import it: Scrapy installs it
    return bool(reactor is not None and getattr(reactor, "running", False))


def _note(what: str) -> None:
    if not _reactor_running():
        return
    thread = threading.current_thread()
    if thread is threading.main_thread():  # Scrapy's reactor (and asyncio loop) run on it
        REPORT["on_reactor"].append(what[:120])
    name = thread.name.rsplit("_", 1)[0]
    REPORT["threads"][name] = REPORT["threads"].get(name, 0) + 1


def _install_probes() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    @event.listens_for(Engine, "before_cursor_execute")
    def _execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if _reactor_running() and not any(e is conn.engine for e in _engines):
            _engines.append(conn.engine)
        _note(" ".join(statement.split()))

    @event.listens_for(Pool, "connect")
    def _connect(dbapi_conn: Any, record: Any) -> None:
        _note("(connect)")

    @event.listens_for(Pool, "close")
    def _close(dbapi_conn: Any, record: Any) -> None:
        _note("(close)")

    made = archive_db.make_engine

    def counting_make_engine(*args: Any, **kwargs: Any) -> Any:
        engine = made(*args, **kwargs)
        if _crawling[0]:
            REPORT["engines_made"].append(str(engine.url))
            _made.append(engine)
        return engine

    # Before the crawl's modules import it by name.
    archive_db.make_engine = counting_make_engine  # type: ignore[assignment]

    import crawler.run

    run_crawl = crawler.run.run_crawl

    def crawling(*args: Any, **kwargs: Any) -> Any:
        _crawling[0] = True
        try:
            return run_crawl(*args, **kwargs)
        finally:
            _crawling[0] = False

    crawler.run.run_crawl = crawling  # type: ignore[assignment]


def _hold_lock(seconds: float, db: str) -> None:
    """From just before the reactor starts: an exclusive lock on ``db`` for ``seconds``, and a
    50 ms timer on the reactor whose longest gap while the lock is held is ``lock_gap``."""
    from scrapy.crawler import CrawlerProcess

    start = CrawlerProcess.start

    def locked_start(self: Any, *args: Any, **kwargs: Any) -> Any:
        from twisted.internet import reactor, task

        locked = threading.Event()
        window = _window

        # The crawl's idle connections (from opening the archive) are closed first: a connection that
        # has the WAL open would keep the lock below from excluding readers.
        for engine in _made:
            engine.dispose()

        def holder() -> None:
            conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA locking_mode=EXCLUSIVE")
                conn.execute("BEGIN EXCLUSIVE")
                conn.execute("CREATE TABLE IF NOT EXISTS probe_lock (x INTEGER)")
                conn.execute("INSERT INTO probe_lock VALUES (1)")
            except sqlite3.Error as exc:
                REPORT["lock_error"] = str(exc)
                raise
            finally:
                window["from"] = time.monotonic()
                locked.set()
            time.sleep(seconds)
            conn.execute("ROLLBACK")
            conn.close()
            window["to"] = time.monotonic()

        def tick() -> None:
            _ticks.append(time.monotonic())

        loop = task.LoopingCall(tick)
        reactor.callWhenRunning(loop.start, 0.05)  # type: ignore[attr-defined]
        threading.Thread(target=holder, daemon=True).start()
        locked.wait(60)
        return start(self, *args, **kwargs)

    CrawlerProcess.start = locked_start  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    report_path = argv[0]
    split = argv.index("--")
    options, args = argv[1:split], argv[split + 1 :]
    _install_probes()
    if options[:1] == ["--lock"]:
        _hold_lock(float(options[1]), options[2])
    from crawler.cli import main as cli_main

    try:
        code = cli_main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    REPORT["code"] = code
    if _window:
        held = [t for t in _ticks if _window["from"] <= t <= _window["to"] + 0.5]
        gaps = [b - a for a, b in itertools.pairwise(held)]
        # Also from the lock to the first tick, and from the last tick to the end of the lock.
        edges = (
            [held[0] - _window["from"], _window["to"] - held[-1]]
            if held
            else [_window["to"] - _window["from"]]
        )
        REPORT["lock_gap"] = max([*gaps, *edges])
        REPORT["lock_ticks"] = len(held)
    REPORT["engines_used"] = len(_engines)
    with open(report_path, "w", encoding="utf-8") as fh:
        json.dump(REPORT, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

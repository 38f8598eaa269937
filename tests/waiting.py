"""Waiting on a crawl subprocess from a test: until a condition holds (its job folder's lock file, rows in
its archive, requests it made), failing the test when the crawl ends first or the wait is too long; and
reading its SQLite archive while it writes."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["articles_while_writing", "paced_crawl", "query_while_writing", "wait_until"]


def wait_until(
    cond: Callable[[], bool],
    proc: subprocess.Popen[Any],
    what: str,
    *,
    timeout: float = 90,
    log: Path | None = None,
    interval: float = 0.02,
    may_end: bool = False,
) -> bool:
    """Return once ``cond()`` holds (True), checking every ``interval`` seconds while ``proc`` runs.

    The test fails when ``timeout`` seconds pass first, and when ``proc`` ends first, unless ``may_end``
    (then False is returned); the failure shows ``log``, the crawl's output, when given.
    """
    deadline = time.monotonic() + timeout
    while not cond():
        if proc.poll() is not None:
            assert may_end, f"the crawl ended before {what}" + (f":\n{log.read_text()}" if log else "")
            return False
        assert time.monotonic() < deadline, f"timed out waiting for {what}" + (
            f":\n{log.read_text()}" if log else ""
        )
        time.sleep(interval)
    return True


def query_while_writing(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the SQLite file ``db``, opened read-only; none while the file or the
    table is not there yet (or is locked past a second)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return []
    try:
        return con.execute(sql).fetchall()
    except sqlite3.Error:
        return []
    finally:
        con.close()


def articles_while_writing(db: Path) -> int:
    """How many articles the SQLite archive ``db`` holds so far (0 before it is made)."""
    rows = query_while_writing(db, "SELECT count(*) FROM articles")
    return int(rows[0][0]) if rows else 0


def paced_crawl(url: str, db: Path, *extra: str, delay: float = 0.1) -> list[str]:
    """``crawler crawl`` arguments for a crawl of the loopback site at ``url`` into the SQLite file
    ``db`` that a test can act on while it runs: every page fetched (``--revisit 0``), no AutoThrottle,
    ``delay`` seconds between requests; ``extra`` arguments after them."""
    return [
        "crawl",
        url + "/",
        "--db",
        f"sqlite:///{db}",
        "--revisit",
        "0",
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        f"DOWNLOAD_DELAY={delay}",
        *extra,
    ]

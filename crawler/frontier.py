"""A job's durable frontier: every request a crawl scheduled, kept in ``JOBDIR/frontier.sqlite``.

Scrapy's own JOBDIR state (the on-disk request queue and the seen-requests file) is saved
properly only when a crawl stops cleanly (Ctrl-C, a close signal). A crawl killed with SIGKILL
or by a power cut leaves it stale: the queue's index is never written, so the pending requests
are lost while the seen-requests file still marks them as seen, and a restart would skip them
for good. The frontier closes that gap. The spider writes each request it schedules here (one
short SQLite transaction a callback, committed *before* Scrapy sees the requests), and marks the
job ``running`` while it runs and ``closed`` when it stops cleanly. A restart that finds the job
still ``running`` knows the previous run died: it drops Scrapy's stale queue and seen-file and
schedules every recorded request again; pages archived since the job started are not fetched
again (the incremental middleware's ``done_in_job`` rule), everything else is. A job that
ran to its end (``closed:finished``) is started afresh, so one ``--jobdir`` serves a cron job.

One crawl at a time per job folder: :func:`lock_jobdir` takes an exclusive ``flock`` on
``JOBDIR/lock`` and writes the process id in it. A second run on the same folder (an hourly cron
entry whose last run is still going) gets :class:`JobLocked`, naming the first run's process. The
kernel releases the lock when its process dies however it dies, so the lock file a killed run
leaves behind is stale and simply taken over.

Plain :mod:`sqlite3`, no Scrapy: usable and testable on its own.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from crawler.clock import utcnow

__all__ = [
    "FRONTIER_FILE",
    "LOCK_FILE",
    "Frontier",
    "FrontierEntry",
    "JobLock",
    "JobLocked",
    "has_pending_job",
    "lock_jobdir",
]

logger = logging.getLogger(__name__)

FRONTIER_FILE = "frontier.sqlite"
LOCK_FILE = "lock"
# What Scrapy keeps in JOBDIR for its scheduler (see scrapy.core.scheduler, scrapy.dupefilters).
_SCRAPY_STATE = ("requests.queue", "requests.seen")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    site TEXT NOT NULL DEFAULT '',
    is_page INTEGER NOT NULL,
    meta TEXT NOT NULL
);
"""


class JobLocked(Exception):
    """Another process holds the job folder's lock; ``pid`` is that process (None if unknown)."""

    def __init__(self, jobdir: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"job folder {jobdir} is in use by another crawl ({who}); not starting a second one")
        self.jobdir = jobdir
        self.pid = pid


class JobLock:
    """The exclusive lock of a job folder, held until :meth:`release` or the end of the process.

    ``taken_over_from`` is the process id a killed earlier run left in the lock file, if any.
    """

    def __init__(self, path: Path, fd: int, taken_over_from: int | None) -> None:
        self.path = path
        self.fd = fd
        self.taken_over_from = taken_over_from

    def release(self) -> None:
        """Let another run have the folder."""
        if self.fd < 0:
            return
        _held.pop(self.path, None)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = -1


# Locks this process holds, by lock file: the CLI takes the lock before starting anything and the
# spider asks again when it opens the frontier (flock would refuse a second descriptor).
_held: dict[Path, JobLock] = {}


def _pid_in(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").split()
    return int(text[0]) if text and text[0].isdigit() else None


def lock_jobdir(jobdir: str | Path) -> JobLock:
    """Take the job folder's lock (creating the folder), or raise :class:`JobLocked`.

    Raises OSError when the folder cannot be created or written.
    """
    folder = Path(jobdir)
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / LOCK_FILE).resolve()
    if path in _held:
        return _held[path]
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _pid_in(fd)
        os.close(fd)
        raise JobLocked(folder, pid) from None
    except OSError:
        os.close(fd)
        raise
    previous = _pid_in(fd)
    if previous is not None and previous != os.getpid():
        logger.info("job %s: taking over the lock of an earlier run (pid %d, gone)", folder, previous)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    lock = JobLock(path, fd, previous if previous != os.getpid() else None)
    _held[path] = lock
    return lock


def has_pending_job(jobdir: str | Path) -> bool:
    """Whether ``jobdir`` holds a job to resume: a killed run's frontier, or Scrapy's saved queue."""
    folder = Path(jobdir)
    if (folder / "requests.queue").exists():
        return True
    path = folder / FRONTIER_FILE
    if not path.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM job WHERE key = 'state'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return bool(row and row[0] == "running")


class FrontierEntry(NamedTuple):
    """A recorded request: its URL, site, whether it counts as a page, and its meta."""

    url: str
    site: str
    is_page: bool
    meta: dict[str, Any]


class Frontier:
    """The durable frontier of the job in ``jobdir``; opening it marks the job running.

    ``crashed`` is True when the previous run of this job did not stop cleanly; then Scrapy's
    stale scheduler state has been removed and :meth:`entries` should be scheduled again.
    ``started_at`` is when the job's first run started (naive UTC).
    """

    def __init__(self, jobdir: str | Path) -> None:
        self.jobdir = Path(jobdir)
        self.lock = lock_jobdir(self.jobdir)  # JobLocked when another run has the folder
        self.path = self.jobdir / FRONTIER_FILE
        self.con = sqlite3.connect(self.path)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.executescript(_SCHEMA)
        job = dict(self.con.execute("SELECT key, value FROM job").fetchall())
        self.previous_state: str | None = job.get("state")
        # A run stopped by a fault of the archive (archive.faults: locked, full) dropped pages it had
        # fetched and Scrapy's state counts as seen: rescheduled as after a crash.
        self.crashed = self.previous_state == "running" or (self.previous_state or "").startswith(
            "closed:archive_"
        )
        now = utcnow()
        if self.previous_state == "closed:finished":
            # The job ran to its end: this run is a new job in the same folder (cron-friendly).
            self._drop_scrapy_state()
            with self.con:
                self.con.execute("DELETE FROM requests")
                self.con.execute("DELETE FROM job")
            job = {}
        self.started_at = datetime.fromisoformat(job["started_at"]) if "started_at" in job else now
        if self.crashed:  # the spider says so when it reschedules
            self._drop_scrapy_state()
        with self.con:
            self.con.execute(
                "INSERT OR IGNORE INTO job (key, value) VALUES ('started_at', ?)",
                (self.started_at.isoformat(),),
            )
            self.con.execute("INSERT OR REPLACE INTO job (key, value) VALUES ('state', 'running')")
        self._pending = 0

    def _drop_scrapy_state(self) -> None:
        for name in _SCRAPY_STATE:
            path = self.jobdir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def __len__(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM requests").fetchone()[0])

    def add(self, key: str, url: str, *, site: str, is_page: bool, meta: dict[str, Any]) -> None:
        """Record a request (not yet committed: call :meth:`commit` before handing it to Scrapy)."""
        self.con.execute(
            "INSERT OR IGNORE INTO requests (key, url, site, is_page, meta) VALUES (?, ?, ?, ?, ?)",
            (key, url, site, int(is_page), json.dumps(meta, default=str)),
        )
        self._pending += 1

    def commit(self) -> None:
        """Make the recorded requests durable."""
        if self._pending:
            self.con.commit()
            self._pending = 0

    def keys(self) -> set[str]:
        """The keys of the recorded page requests."""
        return {k for (k,) in self.con.execute("SELECT key FROM requests WHERE is_page = 1")}

    def page_counts(self) -> Counter[str]:
        """Recorded page requests per site."""
        rows = self.con.execute("SELECT site, count(*) FROM requests WHERE is_page = 1 GROUP BY site")
        return Counter({site: int(n) for site, n in rows})

    def entries(self) -> Iterator[FrontierEntry]:
        """Every recorded request, in the order it was scheduled."""
        rows = self.con.execute("SELECT url, site, is_page, meta FROM requests ORDER BY seq").fetchall()
        for url, site, is_page, meta in rows:
            yield FrontierEntry(url, site, bool(is_page), json.loads(meta))

    def close(self, reason: str) -> None:
        """Mark the job stopped cleanly (Scrapy's JOBDIR state is then trusted on restart); the
        folder's lock is held until the process ends (Scrapy still writes its state after this)."""
        self.commit()
        with self.con:
            self.con.execute(
                "INSERT OR REPLACE INTO job (key, value) VALUES ('state', ?)", (f"closed:{reason}",)
            )
        self.con.close()

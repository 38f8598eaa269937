"""Faults of the archive database itself, told apart from the error of one record.

A database locked by another writer past its busy timeout is waited for (the transaction is run
again, with backoff, up to a total wait); a full disk, a read-only file or an I/O error cannot be
waited out. Either way the caller gets one :class:`StorageFault` whose message is one line for the
user. A failed transaction is rolled back whole: no record is ever half written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

__all__ = ["FULL", "LOCKED", "UNWRITABLE", "StorageFault", "fault_kind", "retry_while_locked"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

LOCKED, FULL, UNWRITABLE = "archive_locked", "archive_full", "archive_unwritable"

# SQLite result codes (sqlite3.Error.sqlite_errorname) and PostgreSQL SQLSTATEs of each kind.
_SQLITE = {
    "SQLITE_BUSY": LOCKED,
    "SQLITE_LOCKED": LOCKED,
    "SQLITE_FULL": FULL,
    "SQLITE_READONLY": UNWRITABLE,
    "SQLITE_IOERR": UNWRITABLE,
    "SQLITE_CANTOPEN": UNWRITABLE,
}
_SQLSTATE = {"55P03": LOCKED, "40P01": LOCKED, "53100": FULL, "53200": FULL, "25006": UNWRITABLE}


class StorageFault(Exception):
    """The archive cannot be written at all; ``kind`` is one of LOCKED, FULL, UNWRITABLE (also the
    crawl's finish reason) and the message one line for the user."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def fault_kind(exc: BaseException) -> str | None:
    """LOCKED, FULL or UNWRITABLE when ``exc`` is a fault of the database itself, else None."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):  # an extended code (SQLITE_IOERR_WRITE) by its primary one
        return _SQLITE.get("_".join(name.split("_")[:2]))
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return _SQLSTATE.get(state) if isinstance(state, str) else None


def _describe(kind: str, exc: BaseException, wait: float) -> str:
    detail = str(exc.orig if isinstance(exc, DBAPIError) else exc).splitlines()[0]
    if kind == LOCKED:
        return f"the archive was locked by another writer for more than {wait:.0f} s ({detail})"
    if kind == FULL:
        return f"the archive's disk is full ({detail}); free space and run the crawl again to continue"
    return f"the archive cannot be written ({detail})"


def retry_while_locked(fn: Callable[[], T], *, wait: float, sleep: Callable[[float], None] = time.sleep) -> T:
    """``fn()``, run again while the database is locked, with a growing pause, for up to ``wait``
    seconds in all; a fault of the database raises :class:`StorageFault`, any other error as it is.
    """
    start = time.monotonic()
    pause = 0.25
    warned = False
    while True:
        try:
            return fn()
        except DBAPIError as exc:
            kind = fault_kind(exc)
            if kind is None:
                raise
            waited = time.monotonic() - start
            if kind != LOCKED or waited >= wait:
                raise StorageFault(kind, _describe(kind, exc, wait)) from exc
            if not warned:
                logger.warning("the archive is locked by another writer; waiting up to %.0f s", wait)
                warned = True
            sleep(min(pause, max(0.0, wait - waited)))
            pause = min(pause * 2, 5.0)

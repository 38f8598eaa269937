"""Engine and session factory for an archive URL, with the SQLite pragmas we rely on."""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from archive.models import Base
from archive.search import ensure_search_index

DEFAULT_URL = "sqlite:///archive.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Test hooks, read when a connection opens: a shorter busy timeout, and a size-limited SQLite
# (PRAGMA max_page_count: "database or disk is full" past that many pages) to stand for a full disk.
BUSY_TIMEOUT_ENV = "ARCHIVE_SQLITE_BUSY_TIMEOUT_MS"
MAX_PAGE_COUNT_ENV = "ARCHIVE_SQLITE_MAX_PAGE_COUNT"


class ArchiveError(Exception):
    """The archive cannot be opened or written (bad URL, unwritable path...)."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={int(os.environ.get(BUSY_TIMEOUT_ENV) or SQLITE_BUSY_TIMEOUT_MS)}")
    cur.execute("PRAGMA foreign_keys=ON")
    if os.environ.get(MAX_PAGE_COUNT_ENV):
        cur.execute(f"PRAGMA max_page_count={int(os.environ[MAX_PAGE_COUNT_ENV])}")
    cur.close()


def make_engine(url: str = DEFAULT_URL, *, create: bool = True) -> Engine:
    """Return an engine for ``url`` (any SQLAlchemy URL), creating the tables if asked.

    Raises ArchiveError with a one-line reason when the URL is malformed or the
    database cannot be opened or created.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ArchiveError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = os.path.dirname(os.path.abspath(parsed.database))
        if not os.path.isdir(folder):
            raise ArchiveError(f"cannot create database {parsed.database}: no folder {folder}")
        if not os.access(folder, os.W_OK) or (
            os.path.exists(parsed.database) and not os.access(parsed.database, os.W_OK)
        ):
            raise ArchiveError(f"cannot write database {parsed.database}: permission denied")
    try:
        engine = create_engine(parsed)
    except Exception as exc:  # driver missing, bad options: one line for the CLI
        raise ArchiveError(f"cannot open database {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if create:
        try:
            Base.metadata.create_all(engine)
            ensure_search_index(engine)  # SQLite: the FTS5 index and its triggers
        except Exception as exc:
            raise ArchiveError(f"cannot open database {url!r}: {exc.__class__.__name__}: {exc}") from exc
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; use ``with factory.begin() as session``."""
    return sessionmaker(engine, expire_on_commit=False)

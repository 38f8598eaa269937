"""Opening the archive: one engine path for every backend, the SQLite pragmas, and the schema check.

The schema is versioned by Alembic (``archive/migrations``). Whoever opens an archive says how:

- writers (``crawl``, ``demo``, ``reextract``; ``make_engine(url)``): an empty database gets the
  schema at the head revision; an archive at another revision is refused;
- readers (``stats``, ``search``, ``export``...; ``make_engine(url, readonly=True)``): SQLite is
  opened read-only (``mode=ro``: nothing is created or written, a read-only file or mount works),
  PostgreSQL sessions are read-only; an empty or foreign database is refused, and so is one at
  another revision;
- ``crawler db upgrade`` (:func:`upgrade`) migrates an archive to the head revision, first
  stamping an archive made before migrations (our tables, no ``alembic_version``) as 0001.

Every refusal is an :class:`ArchiveError` (a :class:`SchemaError` for schema problems) with a
one-line reason for the CLI.
"""

from __future__ import annotations

import atexit
import functools
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.models import Base
from archive.search import ensure_search_index

__all__ = [
    "DEFAULT_URL",
    "ArchiveError",
    "ArchiveURLError",
    "SchemaError",
    "SchemaState",
    "head_revision",
    "is_retryable",
    "make_engine",
    "make_sessionmaker",
    "run_transaction",
    "schema_state",
    "upgrade",
]

T = TypeVar("T")

DEFAULT_URL = "sqlite:///archive.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
# Tables that make a database without ``alembic_version`` an archive made before migrations.
_LEGACY_MARKERS = frozenset({"articles", "crawl_runs"})
# Serialises schema creation when several crawlers start at once on one empty PostgreSQL database.
_PG_SCHEMA_LOCK = 0x6E657773  # "news"


class ArchiveError(Exception):
    """The archive cannot be opened or written (bad URL, unwritable path...)."""


class ArchiveURLError(ArchiveError):
    """The URL names no database that could be an archive (no file, in memory, not a regular file)."""


class SchemaError(ArchiveError):
    """The database is not an archive this crawler can use as it is (empty, foreign, other revision)."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_read_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


@functools.cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


@functools.cache
def _migrations_dir() -> Path:
    """The folder of the migration scripts; copied out once when the package runs from a zip (a
    scrapyd egg), since Alembic reads a folder."""
    if MIGRATIONS.is_dir():
        return MIGRATIONS
    from importlib.resources import files

    target = Path(tempfile.mkdtemp(prefix="news-archiver-migrations-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)

    def copy(source: Any, folder: Path) -> None:
        for entry in source.iterdir():
            if entry.is_dir() and entry.name != "__pycache__":
                (folder / entry.name).mkdir()
                copy(entry, folder / entry.name)
            elif entry.name.endswith((".py", ".mako")):
                (folder / entry.name).write_bytes(entry.read_bytes())

    copy(files("archive.migrations"), target)
    return target


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this crawler knows."""
    head = _script().get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def _known_revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in _script().walk_revisions())


@dataclass(frozen=True)
class SchemaState:
    """What a database holds: ``kind`` is empty, legacy (ours, before migrations), foreign, or
    versioned (``revision`` set; ``known`` when this crawler has that revision)."""

    kind: str
    revision: str | None = None
    tables: frozenset[str] = frozenset()

    @property
    def current(self) -> bool:
        return self.kind == "versioned" and self.revision == head_revision()


def schema_state(conn: Connection) -> SchemaState:
    """Read (never write) what kind of database ``conn`` is connected to."""
    tables = frozenset(
        name for name in inspect(conn).get_table_names() if not name.startswith(("sqlite_", "articles_fts"))
    )
    if "alembic_version" in tables:
        revision = MigrationContext.configure(conn).get_current_revision()
        return SchemaState("versioned", revision, tables)
    if not tables:
        return SchemaState("empty")
    if _LEGACY_MARKERS <= tables:
        return SchemaState("legacy", None, tables)
    return SchemaState("foreign", None, tables)


def _describe(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def _refusal(state: SchemaState, where: str, *, creating: bool) -> str | None:
    """Why an archive in ``state`` cannot be used as it is (None when it can)."""
    head = head_revision()
    if state.kind == "empty":
        return None if creating else f"no archive in {where} (empty database): run `crawler crawl` first"
    if state.kind == "legacy":
        return f"the archive {where} predates schema versions: run `crawler db upgrade` first"
    if state.kind == "foreign":
        shown = ", ".join(sorted(state.tables)[:5]) + (", ..." if len(state.tables) > 5 else "")
        return f"{where} is not a news archive (its tables: {shown}); nothing was written to it"
    if state.revision == head:
        return None
    if state.revision in _known_revisions():
        return (
            f"the archive {where} has schema revision {state.revision}, this crawler needs {head}: "
            "run `crawler db upgrade`"
        )
    return (
        f"{where} has schema revision {state.revision!r}, unknown to this crawler (newest known: {head}): "
        "it is newer than this crawler, or not a news archive"
    )


def _sqlite_path(parsed: URL) -> str | None:
    if parsed.database in (None, "", ":memory:") or parsed.query.get("uri"):
        return None
    return parsed.database


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ArchiveURLError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        # An in-memory database is lost when the command ends, and each thread would get its own.
        raise ArchiveURLError(f"{url!r} names no file: give the archive's file, e.g. sqlite:///archive.db")
    if parsed.get_backend_name() == "sqlite" and parsed.database and not parsed.database.startswith("file:"):
        if os.path.exists(parsed.database) and not os.path.isfile(parsed.database):
            raise ArchiveURLError(f"cannot use {parsed.database} as an archive: not a regular file")
        folder = os.path.dirname(os.path.abspath(parsed.database))
        if not os.path.isdir(folder):
            raise ArchiveURLError(f"cannot create database {parsed.database}: no folder {folder}")
    if parsed.drivername == "postgresql":  # SQLAlchemy's default driver would be psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _build(parsed: URL, *, readonly: bool) -> Engine:
    """The one place engines are made."""
    kwargs: dict[str, Any] = {}
    sqlite = parsed.get_backend_name() == "sqlite"
    path = _sqlite_path(parsed) if sqlite else None
    if sqlite and readonly and path is not None:
        # A read-only URI: SQLite neither creates the file nor writes it. On a folder we cannot
        # write, a WAL archive can only be read as immutable (no -shm file can be made there).
        target = Path(path).resolve().as_uri()
        mode = "ro" if os.access(os.path.dirname(os.path.abspath(path)), os.W_OK) else "ro&immutable=1"
        parsed = parsed.set(database=f"{target}?mode={mode}", query={"uri": "true"})
    elif readonly and parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"options": "-c default_transaction_read_only=on"}
    try:
        engine = create_engine(parsed, **kwargs)
    except Exception as exc:  # driver missing, bad options: one line for the CLI
        raise ArchiveError(f"cannot open database {_describe(parsed)}: {_one_line(exc)}") from exc
    if sqlite:
        event.listen(engine, "connect", _sqlite_read_pragmas if readonly else _sqlite_pragmas)
    return engine


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    if isinstance(exc, ModuleNotFoundError) and "psycopg" in str(exc):
        return f"{first} (install the PostgreSQL driver: pip install 'news-archiver[postgres]')"
    return first


def make_engine(url: str = DEFAULT_URL, *, create: bool = True, readonly: bool = False) -> Engine:
    """Return an engine for the archive at ``url`` (any SQLAlchemy URL).

    ``create`` (writers): an empty database gets the schema at the head revision, and the schema
    must then be current. ``readonly`` (readers): the database is opened read-only and must hold an
    archive at the current revision. With neither, the engine is returned unchecked (migrations,
    tests). Raises ArchiveError (SchemaError for the schema) with a one-line reason.
    """
    parsed = _parse(url)
    where = _describe(parsed)
    path = _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is not None:
        folder = os.path.dirname(os.path.abspath(path))
        if readonly:
            if not os.path.exists(path):
                raise ArchiveError(f"no archive at {path} (run `crawler crawl` or `crawler demo` first)")
        elif not os.path.isdir(folder):
            raise ArchiveError(f"cannot create database {path}: no folder {folder}")
        elif create and (
            not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK))
        ):
            raise ArchiveError(f"cannot write database {path}: permission denied")
        if os.path.exists(path) and not os.path.isfile(path):
            raise ArchiveError(f"{path} is not a database file")
    if create and not readonly:
        _refuse_before_writing(parsed, where, creating=True)
    engine = _build(parsed, readonly=readonly)
    if not (create or readonly):
        return engine
    try:
        if readonly:
            with engine.connect() as conn:
                reason = _refusal(schema_state(conn), where, creating=False)
        else:
            reason = _create_or_check(engine, where)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ArchiveError(f"cannot open database {where}: {_one_line(exc)}") from exc
    if reason is not None:
        engine.dispose()
        raise SchemaError(reason)
    return engine


def _refuse_before_writing(parsed: URL, where: str, *, creating: bool) -> None:
    """Look at an existing SQLite file read-only first: a writer's pragmas (WAL) would change it."""
    path = _sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    if path is None or not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    probe = _build(parsed, readonly=True)
    try:
        with probe.connect() as conn:
            state = schema_state(conn)
    except SQLAlchemyError as exc:
        raise ArchiveError(f"cannot open database {where}: {_one_line(exc)}") from exc
    finally:
        probe.dispose()
    if state.kind == "foreign" or (state.kind == "versioned" and state.revision not in _known_revisions()):
        raise SchemaError(_refusal(state, where, creating=False) or where)
    if creating and state.kind != "empty":
        reason = _refusal(state, where, creating=True)
        if reason is not None:
            raise SchemaError(reason)


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction in which to create or migrate the schema, exclusive on PostgreSQL."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK})
        yield conn


def _create_or_check(engine: Engine, where: str) -> str | None:
    with engine.connect() as conn:
        state = schema_state(conn)
    if state.kind != "empty":
        return _refusal(state, where, creating=True)
    with _schema_lock(engine) as conn:
        if schema_state(conn).kind == "empty":  # another crawler may have created it meanwhile
            command.upgrade(_config(conn), "head")
        state = schema_state(conn)
    return _refusal(state, where, creating=True)


def upgrade(url: str) -> tuple[str | None, str]:
    """Migrate the archive at ``url`` to the head revision; return (revision before, after).

    An empty database gets the whole schema (before: None). An archive made before migrations
    is first given any table it lacks and stamped as the first revision. A foreign database or
    one at an unknown revision is refused (SchemaError) and left untouched.
    """
    parsed = _parse(url)
    where = _describe(parsed)
    _refuse_before_writing(parsed, where, creating=False)
    engine = make_engine(url, create=False)
    try:
        with _schema_lock(engine) as conn:
            state = schema_state(conn)
            if state.kind == "foreign" or (
                state.kind == "versioned" and state.revision not in _known_revisions()
            ):
                raise SchemaError(_refusal(state, where, creating=False) or where)
            before = state.revision
            if state.kind == "legacy":
                _check_legacy_columns(conn, where)
                # What opening it did before migrations, for the tables of that time.
                Base.metadata.create_all(conn, tables=_first_revision_tables())
                command.stamp(_config(conn), FIRST_REVISION)
                before = "legacy"
            command.upgrade(_config(conn), "head")
            after = schema_state(conn).revision
        if engine.dialect.name == "sqlite":
            ensure_search_index(engine)  # an archive made before FTS5 was part of the schema
    except SQLAlchemyError as exc:
        raise ArchiveError(f"cannot upgrade {where}: {_one_line(exc)}") from exc
    finally:
        engine.dispose()
    return before, after or head_revision()


@functools.cache
def _first_revision_columns() -> dict[str, frozenset[str]]:
    """The tables of revision 0001 and their columns (a legacy archive has that schema), read from
    an in-memory SQLite database migrated to that revision: later revisions add tables and columns
    that a legacy archive lacks and the upgrade adds."""
    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), FIRST_REVISION)
            inspector = inspect(conn)
            return {
                table.name: frozenset(col["name"] for col in inspector.get_columns(table.name))
                for table in Base.metadata.sorted_tables
                if inspector.has_table(table.name)
            }
    finally:
        engine.dispose()


def _check_legacy_columns(conn: Connection, where: str) -> None:
    """Refuse to stamp an archive whose tables lack columns of revision 0001."""
    inspector = inspect(conn)
    missing = []
    for table, columns in _first_revision_columns().items():
        if not inspector.has_table(table):
            continue
        have = {col["name"] for col in inspector.get_columns(table)}
        missing += [f"{table}.{name}" for name in sorted(columns - have)]
    if missing:
        raise SchemaError(
            f"the archive {where} is older than any schema this crawler can upgrade "
            f"(missing columns: {', '.join(missing[:5])})"
        )


def _first_revision_tables() -> list[Table]:
    """The models' tables that revision 0001 has (later ones are made by their own migrations)."""
    first = _first_revision_columns()
    return [table for table in Base.metadata.sorted_tables if table.name in first]


# PostgreSQL's deadlock_detected and serialization_failure: the transaction can simply be run again.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(exc: BaseException) -> bool:
    """True for a failed transaction that may succeed when run again: a deadlock or serialization
    failure among concurrent writers (PostgreSQL), or SQLite's lock still held after busy_timeout."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return False
    if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


def run_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = 5,
    on_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """``work(session)`` in one transaction, run again (up to ``attempts`` times, with a short
    random back-off) when it fails with a retryable error (:func:`is_retryable`)."""
    for attempt in range(1, attempts + 1):
        try:
            with factory.begin() as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            if on_retry is not None:
                on_retry(exc)
            time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; use ``with factory.begin() as session``."""
    return sessionmaker(engine, expire_on_commit=False)

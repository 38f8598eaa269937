"""Schema versions: the first migration is the schema `create_all` made, `crawler db upgrade` stamps
and migrates archives keeping their rows, and every command refuses, in one line and without
writing, an archive at another revision, an empty database (readers) or another program's database."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import column, create_engine, func, inspect, select, text
from sqlalchemy import table as table_clause

from archive.db import (
    ArchiveError,
    SchemaError,
    _config,
    head_revision,
    make_engine,
    make_sessionmaker,
    schema_state,
)
from archive.models import Article, Base
from archive.search import search
from archive.store import content_hash, store_article
from crawler import extract  # noqa: F401 - imported here, not inside `crawler reextract` (a warning)
from tests.conftest import REPO
from tests.newsgen import invoke

READERS = (
    ("stats",),
    ("search", "bridge"),
    ("export", "-o", "-"),
    ("history", "https://news.example/a1"),
    ("boilerplate", "news.example"),
    ("check", str(REPO / "tests" / "fixtures" / "schema-seed-urls.txt")),
)


def _refused_code(args: tuple[str, ...]) -> int:
    """The exit code of a refused archive: 1, but 2 for `check` (which counts it a usage error)."""
    return 2 if args[0] == "check" else 1


def _record(i: int, body: str | None = None) -> dict:
    body = body or f"The bridge over the river reopened on day {i} after repairs that took a year."
    return {
        "url": f"https://news.example/a{i}",
        "domain": "news.example",
        "title": f"Bridge reopens {i}",
        "lede": None,
        "body": body,
        "word_count": len(body.split()),
        "lang": "en",
        "fetched_at": datetime(2026, 11, 20, 8, i),
        "content_hash": content_hash(body),
    }


def _add_rows(url: str, n: int = 3) -> None:
    engine = make_engine(url, create=False)
    with make_sessionmaker(engine).begin() as session:
        for i in range(1, n + 1):
            store_article(session, _record(i))
    engine.dispose()


# Made by the crawler before migrations (commit fe9cfc5: create_all and the FTS5 index), holding
# three articles (one in Hindi) with their raw pages, a finished run, a failure and counted lines.
LEGACY_FIXTURE = REPO / "tests" / "fixtures" / "archive-before-migrations.db"


def _legacy_archive(url: str) -> None:
    """An archive as the crawler made it before migrations, with rows: on SQLite a copy of the
    file that code made; on PostgreSQL revision 0001 (the same schema, see the first test) without
    its alembic_version table, and the fixture's articles."""
    if url.startswith("sqlite:///"):
        shutil.copyfile(LEGACY_FIXTURE, url.removeprefix("sqlite:///"))
        return
    engine = make_engine(url, create=False)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
        conn.exec_driver_sql("DROP TABLE alembic_version")
    source = create_engine(f"sqlite:///file:{LEGACY_FIXTURE}?mode=ro&uri=true")
    with source.connect() as src, engine.begin() as dst:
        found = inspect(src)
        for table in Base.metadata.sorted_tables:
            if not found.has_table(table.name):  # made by a later revision
                continue
            present = {c["name"] for c in found.get_columns(table.name)}
            columns = [c for c in table.columns if c.name in present]  # the fixture's, revision 0001's
            rows = [dict(row._mapping) for row in src.execute(select(*columns))]
            if rows:  # no model defaults: only the columns the fixture has
                dst.execute(
                    table_clause(table.name, *(column(c.name, c.type) for c in columns)).insert(), rows
                )
        for table in ("articles", "crawl_runs", "fetch_failures", "article_versions", "site_lines"):
            dst.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) "
                f"FROM {table}"
            )
    source.dispose()
    engine.dispose()


def _dump(url: str) -> dict[str, list[dict]]:
    """Every row of every table, in key order, as {column: value} of the columns the database has."""
    engine = make_engine(url, create=False)
    with engine.connect() as conn:
        out = {}
        found = inspect(conn)
        for table in Base.metadata.sorted_tables:
            if not found.has_table(table.name):  # made by a later revision than the archive's
                continue
            present = {c["name"] for c in found.get_columns(table.name)}
            columns = [c for c in table.columns if c.name in present]
            rows = conn.execute(select(*columns).order_by(*table.primary_key))
            out[table.name] = [dict(row._mapping) for row in rows]
    engine.dispose()
    return out


def _kept(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> bool:
    """Whether ``after`` holds every row and value of ``before`` (a migration may add columns, and
    tables, which start empty)."""
    return {t: len(r) for t, r in before.items()} == {
        t: len(r) for t, r in after.items() if t in before or r
    } and all(
        {k: new[k] for k in old} == old
        for table in before
        for old, new in zip(before[table], after[table], strict=True)
    )


def _digest(path: Path) -> dict[str, str]:
    """The bytes of the database file and of any non-empty -wal or -journal file beside it (not the
    -shm WAL index, shared memory that any reader of a WAL database maps, nor the empty -wal file a
    read-only reader of a WAL database may leave)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.parent.glob(path.name + "*"))
        if not p.name.endswith("-shm") and (p == path or p.stat().st_size)
    }


def _sqlite_exec(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _revision(url: str) -> str | None:
    engine = make_engine(url, create=False)
    with engine.connect() as conn:
        state = schema_state(conn)
    engine.dispose()
    return state.revision


def _sqlite_schema(path: Path) -> dict[tuple[str, str], str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # the fixture is never written
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '%alembic_version%'"
    ).fetchall()
    conn.close()
    return {(t, n): re.sub(r"\s+", " ", sql or "").replace('"', "") for t, n, sql in rows}


def test_first_migration_is_the_schema_create_all_made(tmp_path: Path):
    legacy, migrated = LEGACY_FIXTURE, tmp_path / "migrated.db"
    engine = make_engine(f"sqlite:///{migrated}", create=False)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
    engine.dispose()
    old, new = _sqlite_schema(legacy), _sqlite_schema(migrated)
    assert ("table", "articles_fts") in new and ("trigger", "articles_fts_au") in new
    assert old == new


def test_legacy_archive_is_refused_then_stamped_keeping_its_rows(archive_url: str):
    _legacy_archive(archive_url)
    before = _dump(archive_url)
    assert len(before["articles"]) == 3 and len(before["crawl_runs"]) == 1 and before["site_lines"]
    proc = invoke("stats", "--db", archive_url)
    assert proc.exit_code == 1 and "predates schema versions: run `crawler db upgrade`" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(SchemaError, match="crawler db upgrade"):
        make_engine(archive_url)  # writers too
    assert _revision(archive_url) is None and _dump(archive_url) == before
    proc = invoke("db", "upgrade", "--db", archive_url)
    assert proc.exit_code == 0, proc.stderr
    assert "made before schema versions" in proc.stdout
    assert _revision(archive_url) == head_revision()
    assert _kept(before, _dump(archive_url))
    proc = invoke("search", "बारिश", "--db", archive_url)
    assert proc.exit_code == 0 and "https://news.example/hi1" in proc.stdout, proc.stderr
    proc = invoke("export", "-o", "-", "--db", archive_url)
    assert proc.exit_code == 0 and proc.stdout.count('"url"') == 3
    # A writer can now store into it: ids go on from the archived rows.
    engine = make_engine(archive_url)
    with make_sessionmaker(engine).begin() as session:
        assert store_article(session, _record(7)) == "new"
    engine.dispose()
    assert len(_dump(archive_url)["articles"]) == 4


def _add_first_revision_rows(url: str, n: int) -> None:
    """``n`` articles written with revision 0001's columns only (as a crawler of that revision did):
    a date-only ``published`` and a joined ``author`` on the first."""
    engine = make_engine(url, create=False)
    with engine.begin() as conn:
        for i in range(1, n + 1):
            record = _record(i)
            if i == 1:
                record |= {"published": "2026-11-19", "author": "Ada Lovelace, Alan Turing"}
            articles = table_clause("articles", *(column(k) for k in record))
            conn.execute(articles.insert().values(**record))
    engine.dispose()


def test_upgrade_from_the_first_revision_keeps_rows(archive_url: str):
    engine = make_engine(archive_url, create=False)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0001")
    engine.dispose()
    _add_first_revision_rows(archive_url, 4)
    assert _revision(archive_url) == "0001" != head_revision()
    proc = invoke("stats", "--db", archive_url)
    assert proc.exit_code == 1
    assert f"revision 0001, this crawler needs {head_revision()}: run `crawler db upgrade`" in proc.stderr
    proc = invoke("db", "upgrade", "--db", archive_url)
    assert proc.exit_code == 0, proc.stderr
    assert f"from schema revision 0001 to {head_revision()}" in proc.stdout
    engine = make_engine(archive_url, readonly=True)  # reopened: the rows are there, searchable
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(func.count(Article.id))) == 4
        assert {hit.url for hit in search(session, "repairs")} == {
            f"https://news.example/a{i}" for i in range(1, 5)
        }
        # 0004's columns, filled in from what the rows held.
        first = session.scalar(select(Article).where(Article.url == "https://news.example/a1"))
        assert first is not None
        assert first.published == "2026-11-19" and first.published_utc == datetime(2026, 11, 19)
        assert first.authors == ["Ada Lovelace", "Alan Turing"] and first.credit is None
        assert first.access == "unknown" and first.truncated is False
        other = session.scalar(select(Article).where(Article.url == "https://news.example/a2"))
        assert other is not None and other.published_utc is None and other.authors is None
        # No authors is SQL NULL, not JSON null.
        assert session.scalar(select(func.count(Article.id)).where(Article.authors.is_(None))) == 3
    engine.dispose()
    if archive_url.startswith("sqlite:///"):
        # Columns were added, the table not rebuilt: the full-text triggers are still there and index
        # a new row.
        path = Path(archive_url.removeprefix("sqlite:///"))
        triggers = {n for (t, n) in _sqlite_schema(path) if t == "trigger"}
        assert {"articles_fts_ai", "articles_fts_ad", "articles_fts_au"} <= triggers
        _add_rows(archive_url, 5)
        engine = make_engine(archive_url, readonly=True)
        with make_sessionmaker(engine)() as session:
            assert "https://news.example/a5" in {hit.url for hit in search(session, "repairs")}
        engine.dispose()
    proc = invoke("db", "upgrade", "--db", archive_url)
    assert proc.exit_code == 0 and "already" in proc.stdout


def test_0006_adds_boilerplate_hits_to_an_archive_holding_rows(archive_url: str):
    """0005 -> 0006 keeps every row (their count unknown: NULL), a new row carries its count, the
    full-text index still follows the table, and the downgrade gives the rows back as they were."""
    engine = make_engine(archive_url, create=False)
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0005")
    engine.dispose()
    _add_first_revision_rows(archive_url, 3)
    before = _dump(archive_url)
    assert _revision(archive_url) == "0005" and "boilerplate_hits" not in before["articles"][0]
    proc = invoke("db", "upgrade", "--db", archive_url)
    assert proc.exit_code == 0, proc.stderr
    assert "from schema revision 0005 to 0006" in proc.stdout and head_revision() == "0006"
    after = _dump(archive_url)
    assert _kept(before, after) and [r["boilerplate_hits"] for r in after["articles"]] == [None] * 3
    engine = make_engine(archive_url)
    with make_sessionmaker(engine).begin() as session:
        store_article(session, _record(4) | {"boilerplate_hits": 2})
    engine.dispose()
    engine = make_engine(archive_url, readonly=True)  # reopened
    with make_sessionmaker(engine)() as session:
        hits = {url: n for url, n in session.execute(select(Article.url, Article.boilerplate_hits))}
        assert hits["https://news.example/a4"] == 2 and hits["https://news.example/a1"] is None
        assert "https://news.example/a4" in {hit.url for hit in search(session, "repairs")}
    engine.dispose()
    if archive_url.startswith("sqlite:///"):
        path = Path(archive_url.removeprefix("sqlite:///"))
        assert {"articles_fts_ai", "articles_fts_ad", "articles_fts_au"} <= {
            n for (t, n) in _sqlite_schema(path) if t == "trigger"
        }
    full = _dump(archive_url)
    engine = make_engine(archive_url)
    with engine.begin() as conn:
        command.downgrade(_config(conn), "0005")
    engine.dispose()
    down = _dump(archive_url)
    assert _revision(archive_url) == "0005" and "boilerplate_hits" not in down["articles"][0]
    assert _kept(down, full) and len(down["articles"]) == 4


def test_an_unknown_newer_revision_is_refused_by_every_command(tmp_path: Path):
    db = tmp_path / "new.db"
    url = f"sqlite:///{db}"
    make_engine(url).dispose()
    _add_rows(url, 1)
    _sqlite_exec(db, "UPDATE alembic_version SET version_num = '9999'")
    before = _digest(db)
    for args in (*READERS, ("db", "upgrade"), ("reextract",)):
        proc = invoke(*args, "--db", url)
        assert proc.exit_code == _refused_code(args), (args, proc.stdout)
        assert "revision '9999', unknown to this crawler" in proc.stderr, args
        assert len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
    with pytest.raises(SchemaError, match="newer than this crawler"):
        make_engine(url)
    assert _digest(db) == before


def test_readers_refuse_empty_and_foreign_databases_without_writing(tmp_path: Path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    foreign = tmp_path / "notes.db"
    _sqlite_exec(
        foreign,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)",
        "INSERT INTO notes (text) VALUES ('x')",
    )
    text_file = tmp_path / "readme.db"
    text_file.write_text("not a database at all\n" * 100)
    missing = tmp_path / "missing.db"
    cases = (
        (empty, "empty database"),
        (foreign, "is not a news archive (its tables: notes)"),
        (text_file, "file is not a database"),
        (missing, "no archive at"),
    )
    for path, message in cases:
        before = _digest(path) if path.exists() else None
        for args in READERS:
            proc = invoke(*args, "--db", f"sqlite:///{path}")
            assert proc.exit_code == _refused_code(args), (path.name, args, proc.stdout)
            assert message in proc.stderr, (path.name, args, proc.stderr)
            assert len(proc.stderr.strip().splitlines()) == 1, (path.name, args, proc.stderr)
        assert (_digest(path) if path.exists() else None) == before, path.name
    assert not missing.exists()
    # Writers refuse another program's database too, and leave it as it was.
    before = _digest(foreign)
    with pytest.raises(SchemaError, match="not a news archive"):
        make_engine(f"sqlite:///{foreign}")
    proc = invoke("db", "upgrade", "--db", f"sqlite:///{foreign}")
    assert proc.exit_code == 1 and "not a news archive" in proc.stderr
    assert _digest(foreign) == before


def test_a_writer_makes_an_empty_database_an_archive_at_head(archive_url: str):
    engine = make_engine(archive_url)
    with engine.connect() as conn:
        state = schema_state(conn)
    engine.dispose()
    assert state.current and "articles" in state.tables
    make_engine(archive_url).dispose()  # opening it again changes nothing
    assert _revision(archive_url) == head_revision()


@contextmanager
def _read_only_folder(folder: Path) -> Iterator[Path]:
    """``folder`` where nothing can be written: a read-only bind mount as root (which file modes do
    not stop), else the folder and its files made read-only."""
    if os.geteuid() != 0:
        for path in folder.iterdir():
            path.chmod(stat.S_IRUSR)
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
        try:
            yield folder
        finally:
            folder.chmod(stat.S_IRWXU)
        return
    target = Path(tempfile.mkdtemp(prefix="ro-mount-"))
    mount = subprocess.run(["mount", "--bind", str(folder), str(target)], capture_output=True, check=False)
    if mount.returncode != 0:
        target.rmdir()
        pytest.skip(f"root without a read-only mount: {mount.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(target)], check=True, capture_output=True)
        yield target
    finally:
        subprocess.run(["umount", "--lazy", str(target)], check=False)  # the CLI keeps its engine
        target.rmdir()


def test_readers_work_on_a_read_only_mount(tmp_path: Path):
    folder = tmp_path / "archive"
    folder.mkdir()
    make_engine(f"sqlite:///{folder / 'archive.db'}").dispose()
    _add_rows(f"sqlite:///{folder / 'archive.db'}", 2)
    assert not (folder / "archive.db-wal").exists()  # closed cleanly: the WAL was checkpointed away
    with _read_only_folder(folder) as ro:
        db = ro / "archive.db"
        url = f"sqlite:///{db}"
        with pytest.raises(OSError):
            (ro / "probe").write_text("x")
        before = _digest(db)
        for args in (["stats"], ["search", "bridge"], ["export", "-o", "-"]):
            proc = invoke(*args, "--db", url)
            assert proc.exit_code == 0, (args, proc.stderr)
        assert invoke("export", "-o", "-", "--db", url).stdout.count("https://news.example/a") == 2
        assert _digest(db) == before and sorted(p.name for p in ro.iterdir()) == ["archive.db"]
        proc = invoke("db", "upgrade", "--db", url)  # a writer there fails in one line
        assert proc.exit_code == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_readers_open_postgresql_read_only(pg_url: str):
    make_engine(pg_url).dispose()
    _add_rows(pg_url, 1)
    engine = make_engine(pg_url, readonly=True)
    with engine.connect() as conn, pytest.raises(Exception, match="read-only transaction"):
        conn.execute(text("DELETE FROM articles"))
    engine.dispose()
    with pytest.raises(ArchiveError, match="empty database"):
        make_engine(pg_url.rsplit("/", 1)[0] + "/template1", readonly=True)
    # postgresql:// without a driver means psycopg 3 (the postgres extra), not SQLAlchemy's psycopg2.
    plain = make_engine(pg_url.replace("postgresql+psycopg://", "postgresql://"), readonly=True)
    assert plain.dialect.driver == "psycopg"
    plain.dispose()


def test_the_models_match_the_head_revision(archive_url: str):
    """A model changed without a migration shows here (what `alembic revision --autogenerate` would write)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(archive_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()

    def known(change: object) -> bool:
        # Kept outside the models on purpose: the full-text indexes of each backend, and on SQLite the
        # VARCHAR length 0003 left alone (SQLite does not enforce it).
        text_of = repr(change)
        return any(name in text_of for name in ("articles_fts", "ix_articles_search")) or (
            engine.dialect.name == "sqlite" and "lang_source" in text_of
        )

    assert [c for c in diff if not known(c)] == []


def test_0004_downgrades_without_rebuilding_the_table(tmp_path: Path):
    db = tmp_path / "down.db"
    url = f"sqlite:///{db}"
    make_engine(url).dispose()  # an archive at head
    _add_rows(url, 2)
    engine = make_engine(url)
    with engine.begin() as conn:
        command.downgrade(_config(conn), "0003")
    engine.dispose()
    schema = _sqlite_schema(db)
    assert {"articles_fts_ai", "articles_fts_ad", "articles_fts_au"} <= {
        n for (t, n) in schema if t == "trigger"
    }
    assert "published_utc" not in schema[("table", "articles")] and _revision(url) == "0003"
    assert _dump(url)["articles"][1]["url"] == "https://news.example/a2"

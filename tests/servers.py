"""The PostgreSQL server of tests/servers.sh (or CI) as tests and benchmarks use it: a fresh database of
its own for each use, dropped afterwards. Importable without pytest (bench/ uses it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["pg_database"]


@contextmanager
def pg_database(server_url: str, prefix: str = "test") -> Iterator[str]:
    """The URL of a new, empty UTF-8 database ``PREFIX_<random>`` on the PostgreSQL server at
    ``server_url``, dropped (with its connections) on exit. Creating it raises what SQLAlchemy raises
    when the server cannot be reached."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()

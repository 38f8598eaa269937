"""Alembic environment of the archive: runs migrations on the connection archive.db hands it.

``archive.db.upgrade`` (``crawler db upgrade``) passes its connection in ``config.attributes``;
run from the command line (``alembic -c alembic.ini upgrade head`` in the repo, for developers
writing a migration), the database is ``$ARCHIVE_URL`` (default ``sqlite:///archive.db``).
SQLite migrations run in batch mode (copy-and-move tables), as ALTER TABLE there is limited.
"""

from __future__ import annotations

import os

from alembic import context

from archive.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from archive.db import DEFAULT_URL, make_engine

    engine = make_engine(os.environ.get("ARCHIVE_URL", DEFAULT_URL), create=False)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()

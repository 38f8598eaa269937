"""Helpers shared by the command modules: the --db option and opening the archive."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import Engine

from archive.db import DEFAULT_URL, ArchiveError, make_engine


def default_db_url() -> str:
    """The archive URL: $ARCHIVE_URL when set, else the SQLite file ./archive.db."""
    return os.environ.get("ARCHIVE_URL", DEFAULT_URL)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--db URL`` (SQLAlchemy URL; default $ARCHIVE_URL or sqlite:///archive.db)."""
    return click.option(
        "--db",
        "db_url",
        default=default_db_url,
        show_default="$ARCHIVE_URL or sqlite:///archive.db",
        help="Archive database (any SQLAlchemy URL).",
    )(func)


def open_archive(url: str, *, readonly: bool = False, must_exist: bool = False) -> Engine:
    """Open the archive or fail with one clear line (click prints it; exit code 1).

    Reading commands pass ``readonly``: the archive is opened read-only and must exist at the
    current schema revision (nothing is ever created or written). Writing commands get an empty
    database made into an archive; ``must_exist`` refuses a missing SQLite file instead.
    """
    if must_exist and not readonly and url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:" and not os.path.exists(path):
            raise click.ClickException(f"no archive at {path} (run `crawler crawl` or `crawler demo` first)")
    try:
        return make_engine(url, readonly=readonly)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc

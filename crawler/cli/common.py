"""Helpers shared by the command modules: the --db option and opening the archive."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import Engine

from archive.db import DEFAULT_URL, ArchiveError, make_engine


class UsageFailure(click.ClickException):
    """A usage error (bad argument, missing or unusable file, folder or database) reported as one
    line, exit code 2. A run that fails is a plain :class:`click.ClickException` (exit code 1)."""

    exit_code = 2


def plural(n: int, noun: str, plural_form: str | None = None) -> str:
    """``1 page``, ``2 pages``, ``0 pages`` (``plural_form`` for irregular nouns)."""
    return f"{n:,} {noun if n == 1 else (plural_form or noun + 's')}"


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


def open_archive(url: str, *, must_exist: bool = False) -> Engine:
    """Open the archive or fail with one clear line (click prints it, exit code 2 for usage errors)."""
    if must_exist and url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:" and not os.path.exists(path):
            raise UsageFailure(f"no archive at {path} (run `crawler crawl` or `crawler demo` first)")
    try:
        return make_engine(url)
    except ArchiveError as exc:
        raise UsageFailure(str(exc)) from exc

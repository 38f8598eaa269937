"""Helpers shared by the command modules: the --db option and opening the archive."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy import Engine

from archive.db import DEFAULT_URL, ArchiveError, ArchiveURLError, make_engine
from crawler.incremental import parse_time
from crawler.urls import domain_of


class UsageFailure(click.ClickException):
    """A usage error (bad argument, missing or unusable file, folder or database) reported as one
    line, exit code 2. A run that fails is a plain :class:`click.ClickException` (exit code 1)."""

    exit_code = 2


def site_option(value: str) -> str:
    """A site as the user gives it (``example-news.com``, ``www.Example-News.com``, a URL of it)
    as the archive stores it: the host, lower-cased, without ``www.`` (:func:`crawler.urls.domain_of`)."""
    text = value.strip()
    site = domain_of(text if "://" in text else f"http://{text}")
    if not site or not re.fullmatch(r"[a-z0-9.-]+(:\d+)?", site):
        raise UsageFailure(f"not a site: {value!r} (give its domain, e.g. example-news.com)")
    return site


def lang_option(value: str) -> str:
    """A language code as stored (ISO 639-1, lower case): ``EN`` -> ``en``; anything else refused."""
    code = value.strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", code):
        raise UsageFailure(f"not a language code: {value!r} (ISO 639-1, e.g. en, hi)")
    return code


def time_option(value: str | None, option: str) -> date | datetime | None:
    """``--since``/``--until`` and the like: ISO 8601 (:func:`crawler.incremental.parse_time`)."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise UsageFailure(
            f"{option} {value!r} is not a date or time (ISO 8601: 2026-11-24, 2026-11-24T15:24:37Z, ...+05:30)"
        ) from None


def time_range(
    since: date | datetime | None, until: date | datetime | None
) -> tuple[date | datetime | None, date | datetime | None]:
    """Refuse ``--since`` after ``--until`` (it would select nothing, silently)."""
    if since is not None and until is not None:
        start = since if isinstance(since, datetime) else datetime.combine(since, datetime.min.time())
        end = until if isinstance(until, datetime) else datetime.combine(until, datetime.max.time())
        if start > end:
            raise UsageFailure(f"--since {since.isoformat()} is after --until {until.isoformat()}")
    return since, until


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


def keep_html_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--keep-html/--no-keep-html`` (default on): whether archived pages keep their raw HTML."""
    return click.option(
        "--keep-html/--no-keep-html",
        default=True,
        show_default=True,
        help="Keep each archived page's raw HTML (compressed) for `crawler reextract`.",
    )(func)


def open_archive(url: str, *, readonly: bool = False, must_exist: bool = False) -> Engine:
    """Open the archive or fail with one clear line (click prints it; exit code 1 for a database
    that is not a usable archive, 2 for a URL or path that names none).

    Reading commands pass ``readonly``: the archive is opened read-only and must exist at the
    current schema revision (nothing is ever created or written). Writing commands get an empty
    database made into an archive; ``must_exist`` refuses a missing SQLite file instead.
    """
    if must_exist and not readonly and url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:" and not os.path.exists(path):
            raise UsageFailure(f"no archive at {path} (run `crawler crawl` or `crawler demo` first)")
    try:
        return make_engine(url, readonly=readonly)
    except ArchiveURLError as exc:  # a URL that names no usable database: a usage error, exit 2
        raise UsageFailure(str(exc)) from exc
    except ArchiveError as exc:  # a database that is not an archive we can use as it is: exit 1
        raise click.ClickException(str(exc)) from exc

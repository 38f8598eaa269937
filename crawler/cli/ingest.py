"""``crawler ingest``: archive the HTML response records of WARC files, without fetching.

The files go through :func:`crawler.warc_ingest.ingest`: the crawl's extraction, tagging, dedup,
boilerplate learning and storage, a ``crawl_runs`` row, and a ``warc_files`` row per file (a file
read in full is skipped by the next ingest).
"""

from __future__ import annotations

import glob
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from archive.db import make_sessionmaker
from archive.faults import StorageFault
from crawler.cli import cli
from crawler.cli.common import (
    UsageFailure,
    db_option,
    keep_html_option,
    lang_option,
    open_archive,
    site_option,
    time_option,
    time_range,
)
from crawler.wording import StatusLine, plural

_SUFFIXES = (".warc", ".warc.gz")


def warc_paths(arguments: tuple[str, ...], stdin: Any = None) -> list[str]:
    """The files named by FILE, DIR (its ``*.warc`` and ``*.warc.gz``, recursively), GLOB or ``-``
    (one path a line on standard input), as absolute paths, each once, in the order given."""
    out: list[str] = []
    for argument in arguments:
        if argument == "-":
            lines = (stdin or sys.stdin).read().splitlines()
            names = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        else:
            names = [argument]
        for name in names:
            if os.path.isdir(name):
                found = sorted(
                    str(p) for p in Path(name).rglob("*") if p.name.endswith(_SUFFIXES) and p.is_file()
                )
            elif os.path.isfile(name):
                found = [name]
            elif glob.has_magic(name):
                found = sorted(p for p in glob.glob(name, recursive=True) if os.path.isfile(p))
                if not found:
                    raise UsageFailure(f"no file matches {name}")
            else:
                raise UsageFailure(f"no such WARC file or folder: {name}")
            if not found and os.path.isdir(name):
                raise UsageFailure(f"no .warc or .warc.gz file in {name}")
            for path in found:
                if not os.access(path, os.R_OK):
                    raise UsageFailure(f"cannot read {path}")
                absolute = os.path.abspath(path)
                if absolute not in out:
                    out.append(absolute)
    if not out:
        raise UsageFailure("no WARC file given (FILE, DIR, GLOB, or - to read paths from standard input)")
    return out


def _read_sites(path: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageFailure(f"cannot read --sites {path}: {exc.strerror or exc}") from exc
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


class _Progress:
    """A one-line live count on standard error, only when it is a terminal (rich)."""

    def __init__(self) -> None:
        self.line = StatusLine()
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, path: str, file_counts: Any, total: Any) -> None:
        if not self.line.active:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        records = total.records + file_counts.records
        rate = records / max(now - self.started, 1e-6)
        archived = total.archived + file_counts.archived
        skipped = sum(total.skipped.values()) + sum(file_counts.skipped.values())
        text = (
            f"ingesting {os.path.basename(path)}: {records} records ({rate:.0f}/s), "
            f"{archived} new articles, {skipped} skipped"
        )
        self.line.show(text)

    def stop(self) -> None:
        self.line.stop()


@cli.command()
@click.argument("files", nargs=-1, required=True)
@db_option
@click.option(
    "--site", "sites", multiple=True, help="Only pages of this site (and its subdomains); repeatable."
)
@click.option(
    "--sites", "sites_file", metavar="FILE", help="Only pages of the sites listed in FILE, one a line."
)
@click.option(
    "--lang", "langs", multiple=True, help="Only articles in this language (ISO 639-1); repeatable."
)
@click.option(
    "--since", metavar="TIME", help="Only records with a WARC-Date at or after this (ISO 8601, UTC)."
)
@click.option("--until", metavar="TIME", help="Only records with a WARC-Date at or before this.")
@click.option("--max-records", type=click.IntRange(min=1), help="Stop after reading this many records.")
@keep_html_option
@click.option("-s", "--set", "settings", multiple=True, metavar="NAME=VALUE", help="Override a setting.")
def ingest(
    files: tuple[str, ...],
    db_url: str,
    sites: tuple[str, ...],
    sites_file: str | None,
    langs: tuple[str, ...],
    since: str | None,
    until: str | None,
    max_records: int | None,
    keep_html: bool,
    settings: tuple[str, ...],
) -> None:
    """Archive the HTML pages of WARC files (FILE.warc[.gz], a folder, a glob, or - for a list of
    paths on standard input) without fetching: the crawl's extraction, dedup and storage.

    A file read in full before is skipped; one whose ingest was interrupted is read again. Several
    ingests may share an archive and overlapping lists: a file another one is reading is put off, then
    waited for, and read only if that one did not finish it.
    """
    from crawler.cli.crawl import parse_settings
    from crawler.run import project_settings
    from crawler.warc_ingest import IngestOptions
    from crawler.warc_ingest import ingest as run_ingest

    paths = warc_paths(files)
    site_names = [*sites, *(_read_sites(sites_file) if sites_file else [])]
    since_at, until_at = time_range(time_option(since, "--since"), time_option(until, "--until"))
    config = project_settings(parse_settings(settings))
    options = IngestOptions(
        sites=frozenset(site_option(s) for s in site_names),
        langs=frozenset(lang_option(code) for code in langs),
        since=since_at,
        until=until_at,
        max_records=max_records,
        min_words=config.getint("CRAWLER_MIN_WORDS", 20),
        workers=config.getint("CRAWLER_EXTRACT_WORKERS", 0),
        timeout=config.getfloat("CRAWLER_EXTRACT_TIMEOUT", 5.0),
        max_pages_per_worker=config.getint("CRAWLER_WORKER_MAX_PAGES", 500),
        max_memory=config.getint("CRAWLER_EXTRACT_MAX_MEMORY", 0) or None,
        queue_size=config.getint("CRAWLER_EXTRACT_QUEUE", 0),
        keep_html=keep_html and config.getbool("ARCHIVE_KEEP_HTML", True),
        learn_boilerplate=config.getbool("CRAWLER_LEARN_BOILERPLATE", True),
        batch_size=config.getint("ARCHIVE_BATCH_SIZE", 100),
        batch_seconds=config.getfloat("ARCHIVE_BATCH_SECONDS", 0.2),
        max_size=config.getint("DOWNLOAD_MAXSIZE", 20 * 1024 * 1024),
    )
    arguments = {
        "files": paths[:100],
        "sites": sorted(options.sites),
        "langs": sorted(options.langs),
        "since": since_at.isoformat() if since_at else None,
        "until": until_at.isoformat() if until_at else None,
        "max_records": max_records,
    }
    engine = open_archive(db_url)
    progress = _Progress()
    started = time.monotonic()
    try:
        result = run_ingest(
            paths, make_sessionmaker(engine), options, on_progress=progress, arguments=arguments
        )
    except OSError as exc:
        raise click.ClickException(
            f"ingest stopped: {exc.filename or ''} {exc.strerror or exc}".strip()
        ) from exc
    except StorageFault as exc:  # locked past ARCHIVE_LOCK_WAIT, disk full, unwritable
        raise click.ClickException(f"ingest stopped: {exc}") from exc
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc.__class__.__name__
        raise click.ClickException(f"ingest stopped: cannot write the archive {db_url}: {reason}") from exc
    finally:
        progress.stop()
        engine.dispose()
    seconds = time.monotonic() - started
    counts = result.counts
    click.echo(
        f"Ingested {plural(len(result.files_read), 'WARC file')} ({counts.records} records, "
        f"{counts.records / max(seconds, 1e-6):.0f}/s): archived {counts.archived} new, {counts.changed} changed, "
        f"{counts.unchanged} unchanged into {db_url} (run {result.run_id})."
    )
    if result.files_done_before:
        click.echo(f"Already ingested, not read again: {plural(len(result.files_done_before), 'file')}.")
    if counts.skipped:
        click.echo("Skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.skipped.items())))
    if counts.failures:
        click.echo("Failed: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.failures.items())))
    if result.stopped_early:
        click.echo(f"Stopped after --max-records {max_records}; run again without it to read the rest.")
    if result.files_read and not counts.records:
        raise click.ClickException("no WARC record could be read")

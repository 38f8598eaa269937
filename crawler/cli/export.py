"""``crawler export``: write the archive's clean articles as JSON Lines, CSV or Parquet."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import SQLAlchemyError

from archive.db import make_sessionmaker
from archive.export import (
    ALL_FIELDS,
    DEFAULT_FIELDS,
    FORMATS,
    ExportError,
    ExportFilter,
    count_matching,
    export,
    parse_fields,
)
from crawler.cli import cli
from crawler.cli.common import (
    UsageFailure,
    db_option,
    lang_option,
    open_archive,
    site_option,
    time_option,
    time_range,
)
from crawler.wording import plural

_SUFFIX_FORMATS = {
    ".warc.gz": "warc",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice((*FORMATS, "warc")),
    help="Output format (default: from --out's suffix). warc: the archived pages as a WARC file and a "
    "CDXJ index (OUT.cdxj) beside it.",
)
@click.option("--out", "-o", required=True, metavar="PATH", help="Output file, or - for stdout (jsonl, csv).")
@click.option(
    "--lang",
    "langs",
    multiple=True,
    metavar="LANG",
    help="Only these languages (ISO 639-1); repeatable or a,b.",
)
@click.option(
    "--site", "sites", multiple=True, metavar="DOMAIN", help="Only these sites (domain); repeatable or a,b."
)
@click.option(
    "--since",
    metavar="TIME",
    help="From this date or time (inclusive; ISO 8601, e.g. 2026-11-24 or 2026-11-24T15:24:37Z; UTC by default).",
)
@click.option(
    "--until",
    metavar="TIME",
    help="Up to this date or time (inclusive; a date covers that whole day).",
)
@click.option(
    "--date",
    "date_field",
    type=click.Choice(["fetched", "published", "modified"]),
    default="fetched",
    show_default=True,
    help="Which time --since/--until apply to: the fetch, or the publication or last change the page "
    "states (compared as UTC instants; a date alone is its midnight UTC).",
)
@click.option(
    "--complete-only",
    is_flag=True,
    help="Only whole articles: leave out those marked truncated or behind a paywall (access paywalled).",
)
@click.option("--min-words", type=click.IntRange(min=0), help="Only articles of at least N words.")
@click.option(
    "--fields",
    metavar="A,B,...",
    help=f"Fields to export, in this order. Default: {', '.join(DEFAULT_FIELDS)}. Also: "
    f"{', '.join(f for f in ALL_FIELDS if f not in DEFAULT_FIELDS)}.",
)
@click.option(
    "--dedup",
    type=click.Choice(["exact", "near"]),
    default="exact",
    show_default=True,
    help="exact: each content hash once; near: also drop near-duplicates (MinHash).",
)
@click.option(
    "--near-threshold",
    type=click.FloatRange(0.1, 1.0),
    default=0.8,
    show_default=True,
    help="Similarity (Jaccard of word 5-grams) from which texts are near-duplicates.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True, hidden=True)
@db_option
def export_command(
    fmt: str | None,
    out: str,
    langs: tuple[str, ...],
    sites: tuple[str, ...],
    since: str | None,
    until: str | None,
    date_field: str,
    complete_only: bool,
    min_words: int | None,
    fields: str | None,
    dedup: str,
    near_threshold: float,
    batch_size: int,
    db_url: str,
) -> None:
    """Export clean articles as a dataset (JSON Lines, CSV or Parquet), streaming in batches.

    Each content hash is exported once. The file appears under its name only when complete.
    """
    if fmt is None:
        suffix = ".warc.gz" if out.lower().endswith(".warc.gz") else Path(out).suffix.lower()
        fmt = "jsonl" if out == "-" else _SUFFIX_FORMATS.get(suffix)
        if fmt is None:
            raise UsageFailure(f"cannot tell the format of {out}: give --format {'|'.join(FORMATS)}")
    try:
        chosen = parse_fields(fields)
    except ExportError as exc:
        raise UsageFailure(str(exc)) from exc
    if out != "-" and os.path.isdir(out):
        raise UsageFailure(f"--out {out} is a folder; give a file name")
    since_at, until_at = time_range(time_option(since, "--since"), time_option(until, "--until"))
    flt = ExportFilter(
        langs=tuple(lang_option(v) for v in _split(langs)),
        sites=tuple(site_option(v) for v in _split(sites)),
        since=since_at,
        until=until_at,
        date_field=date_field,  # type: ignore[arg-type]
        min_words=min_words,
        complete_only=complete_only,
    )
    engine = open_archive(db_url, readonly=True)
    err = Console(stderr=True)
    if fmt == "warc":
        _export_warc(engine, out, flt, dedup, db_url, err)
        return
    started = time.monotonic()
    stream: Any = None
    if out == "-":
        stream = sys.stdout
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")  # UTF-8 whatever the locale
    try:
        with make_sessionmaker(engine)() as session, _progress(err) as bar:
            task = None
            if bar is not None:
                task = bar.add_task("exporting", total=count_matching(session, flt, dedup_exact=True))

            def advance(n: int) -> None:
                if bar is not None and task is not None:
                    bar.advance(task, n)

            stats = export(
                session,
                out,
                fmt,  # type: ignore[arg-type]
                flt,
                chosen,
                dedup=dedup,  # type: ignore[arg-type]
                near_threshold=near_threshold,
                batch_size=batch_size,
                progress=advance if bar else None,
                stdout=stream,
            )
    except ExportError as exc:
        raise UsageFailure(str(exc)) from exc
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other command-line tools do.
        sys.stderr.close()
        raise SystemExit(1) from None
    except OSError as exc:
        raise UsageFailure(f"cannot write {out}: {exc.strerror or exc}") from exc
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc.__class__.__name__
        raise UsageFailure(f"cannot read the archive {db_url}: {reason}") from exc
    finally:
        if stream is not None:
            try:
                stream.flush()
            except BrokenPipeError:
                pass
        engine.dispose()
    skipped = [f"{stats.exact_duplicates} exact"]
    if dedup == "near":
        skipped.append(f"{stats.near_duplicates} near")
    where = "stdout" if out == "-" else out
    err.print(
        f"exported {plural(stats.written, 'article')} to {where} ({fmt}, {plural(len(chosen), 'field')}); "
        f"duplicates skipped: {', '.join(skipped)}; {time.monotonic() - started:.1f}s",
        highlight=False,
        soft_wrap=True,
    )


def _export_warc(engine: Any, out: str, flt: ExportFilter, dedup: str, db_url: str, err: Console) -> None:
    """``--format warc``: the selected articles' pages as a WARC file and its CDXJ index."""
    from archive.warc import export_warc

    if out == "-":
        engine.dispose()
        raise UsageFailure("--format warc writes a file and its index: give --out FILE.warc.gz")
    if dedup == "near":
        engine.dispose()
        raise UsageFailure("--dedup near applies to texts, not to --format warc")
    started = time.monotonic()
    try:
        with make_sessionmaker(engine)() as session:
            counts = export_warc(session, out, flt)
    except OSError as exc:
        raise UsageFailure(f"cannot write {out}: {exc.strerror or exc}") from exc
    except SQLAlchemyError as exc:
        raise UsageFailure(f"cannot read the archive {db_url}: {getattr(exc, 'orig', None) or exc}") from exc
    finally:
        engine.dispose()
    line = f"exported {plural(counts['records'], 'page')} to {out} (warc) and its index {out}.cdxj"
    if counts["no_page"] or counts["missing"]:
        line += (
            f"; not exported: {counts['no_page']} without a stored page or WARC record, "
            f"{counts['missing']} whose WARC record is missing"
        )
    err.print(f"{line}; {time.monotonic() - started:.1f}s", highlight=False, soft_wrap=True)


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(console: Console) -> Any:
    """A progress bar on stderr when it is a terminal, nothing otherwise."""
    if not console.is_terminal:
        return _NoProgress()
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )

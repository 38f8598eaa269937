"""``crawler stats``: what the archive holds, by site and language, and the last runs."""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from archive.db import make_sessionmaker
from archive.models import Article, CrawlRun
from crawler.cli import cli
from crawler.cli.common import db_option, open_archive
from crawler.cli.health import flagged_line, flagged_since_last_crawl


@cli.command()
@db_option
@click.option("--runs", default=5, show_default=True, help="How many recent crawl runs to show.")
def stats(db_url: str, runs: int) -> None:
    """Print articles by site and language, and the last crawl runs."""
    engine = open_archive(db_url, readonly=True)
    console = Console()
    with make_sessionmaker(engine)() as session:
        total = session.scalar(select(func.count(Article.id))) or 0
        by_site = session.execute(
            select(Article.domain, Article.lang, func.count(Article.id), func.sum(Article.word_count))
            .group_by(Article.domain, Article.lang)
            .order_by(Article.domain, func.count(Article.id).desc())
        ).all()
        last = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(runs)).all()
        flagged = flagged_since_last_crawl(session)
    table = Table(title=f"{total} articles in {db_url}")
    for col in ("site", "lang", "articles", "words"):
        table.add_column(col, justify="right" if col in ("articles", "words") else "left")
    for domain, lang, count, words in by_site:
        table.add_row(domain, lang or "?", str(count), str(words or 0))
    console.print(table)
    console.print(runs_table(last))
    if flagged:
        console.print(flagged_line(flagged), highlight=False, soft_wrap=True)
    console.print(RUNS_LEGEND, highlight=False, style="dim")
    for line in run_reasons(last):
        console.print(line, highlight=False)


# The runs table's columns: (header, justification); narrow enough for 80 columns.
_RUN_COLUMNS = (
    ("run", "right"),
    ("started", "left"),
    ("result", "left"),
    ("sent", "right"),
    ("304", "right"),
    ("fresh", "right"),
    ("pages", "right"),
    ("new", "right"),
    ("chg/same", "right"),
    ("failed", "right"),
)


RUNS_LEGEND = (
    "started: UTC; sent: requests; 304: answered not modified; fresh: archived pages not requested; "
    "pages: pages fetched; chg/same: archived pages changed / unchanged"
)


def runs_table(runs: Sequence[CrawlRun]) -> Table:
    """The last runs, one line each, with their failure and skip reasons on a line of their own."""
    table = Table(
        title="last crawl runs",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    for header, justify in _RUN_COLUMNS:
        table.add_column(header, justify=justify, no_wrap=True, min_width=len(header))  # type: ignore[arg-type]
    for run in runs:
        table.add_row(
            str(run.id),
            run.started_at.strftime("%m-%d %H:%M"),
            run.finish_reason or "running?",
            str(run.requested or 0),
            str(run.not_modified or 0),
            str(run.not_requested or 0),
            str(run.pages_fetched),
            str(run.archived),
            f"{run.changed or 0}/{run.unchanged or 0}",
            str(run.failed or 0),
        )
    return table


def run_reasons(runs: Sequence[CrawlRun]) -> list[str]:
    """Below the table, a line per run with its failure and skip reasons (``crawler.reasons``)."""
    lines = []
    for run in runs:
        parts = [
            f"{label} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            for label, counts in (("failed:", run.failures or {}), ("skipped:", run.skipped or {}))
            if counts
        ]
        if parts:
            lines.append(f"run {run.id}: " + "; ".join(parts))
    return lines

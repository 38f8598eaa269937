"""``crawler stats``: what the archive holds, by site and language, and the last runs."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from archive.db import make_sessionmaker
from archive.models import Article, CrawlRun
from crawler.cli import cli
from crawler.cli.common import db_option, open_archive


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
    table = Table(title=f"{total} articles in {db_url}")
    for col in ("site", "lang", "articles", "words"):
        table.add_column(col, justify="right" if col in ("articles", "words") else "left")
    for domain, lang, count, words in by_site:
        table.add_row(domain, lang or "?", str(count), str(words or 0))
    console.print(table)
    runs_table = Table(title="last crawl runs")
    columns = (
        "run",
        "started",
        "finished",
        "requested",
        "not modified",
        "not requested",
        "pages",
        "new",
        "changed",
        "unchanged",
        "failed",
        "skipped",
    )
    for col in columns:
        runs_table.add_column(
            col, justify="left" if col in ("started", "finished", "failed", "skipped") else "right"
        )
    for run in last:
        failures = run.failures or {}
        runs_table.add_row(
            str(run.id),
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.finish_reason or "(running or killed)",
            str(run.requested or 0),
            str(run.not_modified or 0),
            str(run.not_requested or 0),
            str(run.pages_fetched),
            str(run.archived),
            str(run.changed or 0),
            str(run.unchanged or 0),
            ", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or str(run.failed),
            ", ".join(f"{k} {v}" for k, v in sorted((run.skipped or {}).items())) or "-",
        )
    console.print(runs_table)

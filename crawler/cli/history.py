"""``crawler history``: how an archived article's clean text changed between crawls."""

from __future__ import annotations

import difflib

import click

from archive.db import make_sessionmaker
from archive.history import article_history
from crawler.cli import cli
from crawler.cli.common import db_option, open_archive


@cli.command()
@click.argument("url")
@db_option
@click.option("--color/--no-color", default=None, help="Colour the diff (default: when a terminal).")
def history(url: str, db_url: str, color: bool | None) -> None:
    """List the versions of the article at URL and show what changed (unified diffs)."""
    engine = open_archive(db_url, readonly=True)
    try:
        with make_sessionmaker(engine)() as session:
            found = article_history(session, url)
    finally:
        engine.dispose()
    if found is None:
        raise click.ClickException(f"{url} is not in the archive")
    versions = found.versions
    click.echo(f"{found.url}: {len(versions)} version{'s' if len(versions) != 1 else ''}")
    for number, version in enumerate(versions, 1):
        words = len(" ".join(version.lines()[1:]).split())
        click.echo(
            f"  {number}. fetched {version.fetched_at:%Y-%m-%d %H:%M:%S} UTC, {words} words, "
            f"text {version.content_hash[:12]}" + (" (current)" if number == len(versions) else "")
        )
    for number in range(1, len(versions)):
        old, new = versions[number - 1], versions[number]
        click.echo()
        diff = difflib.unified_diff(
            old.lines(),
            new.lines(),
            fromfile=f"version {number} ({old.fetched_at:%Y-%m-%d %H:%M:%S})",
            tofile=f"version {number + 1} ({new.fetched_at:%Y-%m-%d %H:%M:%S})",
            lineterm="",
        )
        for line in diff:
            click.echo(_style(line), color=color)


def _style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return click.style(line, bold=True)
    if line.startswith("+"):
        return click.style(line, fg="green")
    if line.startswith("-"):
        return click.style(line, fg="red")
    if line.startswith("@@"):
        return click.style(line, fg="cyan")
    return line

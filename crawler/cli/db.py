"""``crawler db``: the archive's schema: ``crawler db upgrade`` migrates it to this crawler's version."""

from __future__ import annotations

import click

from archive.db import ArchiveError, upgrade
from crawler.cli import cli
from crawler.cli.common import db_option


@cli.group()
def db() -> None:
    """Manage the archive's schema."""


@db.command("upgrade")
@db_option
def db_upgrade(db_url: str) -> None:
    """Migrate the archive to the schema this crawler uses (an empty database becomes an archive)."""
    try:
        before, after = upgrade(db_url)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    if before == after:
        click.echo(f"The archive {db_url} is at schema revision {after} already.")
    elif before is None:
        click.echo(f"Created an archive at schema revision {after} in {db_url}.")
    elif before == "legacy":
        click.echo(f"Recognised an archive made before schema versions; upgraded it to revision {after}.")
    else:
        click.echo(f"Upgraded the archive {db_url} from schema revision {before} to {after}.")

"""``crawler boilerplate SITE``: the lines learned as boilerplate of a site, with their page counts."""

from __future__ import annotations

import click

from archive.boilerplate import MIN_PAGES, MIN_SHARE, site_report
from archive.db import make_sessionmaker
from crawler.cli import cli
from crawler.cli.common import db_option, open_archive, site_option
from crawler.wording import plural


@cli.command()
@click.argument("site")
@db_option
@click.option(
    "-n", "--limit", default=50, show_default=True, type=click.IntRange(min=1), help="Lines to show."
)
@click.option(
    "--all", "show_all", is_flag=True, help="Also show repeated lines not (yet) counted as boilerplate."
)
def boilerplate(site: str, db_url: str, limit: int, show_all: bool) -> None:
    """Show what was learned as boilerplate of SITE (a domain like example.com, or any URL of it)."""
    domain = site_option(site)
    engine = open_archive(db_url, readonly=True)
    try:
        with make_sessionmaker(engine)() as session:
            pages, lines = site_report(session, domain, limit=limit if show_all else 100_000)
    finally:
        engine.dispose()
    if not pages:
        raise click.ClickException(f"no pages of {domain} have been counted yet (crawl it first)")
    learned = [x for x in lines if x.boilerplate]
    click.echo(
        f"{domain}: {plural(pages, 'page')} counted, {plural(len(learned), 'line')} learned as boilerplate "
        f"(seen on at least {MIN_PAGES} pages and {MIN_SHARE:.0%} of the site's pages)"
    )
    shown = lines if show_all else learned
    for item in shown[:limit]:
        mark = "*" if item.boilerplate else " "
        click.echo(f"{mark} {item.pages:6d}  {item.line}")

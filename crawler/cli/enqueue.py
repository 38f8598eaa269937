"""``crawler enqueue``: push start URLs to the crawlers sharing a frontier on Redis."""

from __future__ import annotations

import click

from crawler.cli import cli
from crawler.cli.crawl import check_redis
from crawler.redis_frontier import RedisFrontierError
from crawler.redis_frontier import enqueue as push
from crawler.urls import SeedFileError, read_url_list, valid_http_url


@cli.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--seeds", type=click.Path(dir_okay=False), help="File of article URLs, one a line (# comments)."
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    envvar="REDIS_URL",
    required=True,
    help="The Redis the crawlers share (default $REDIS_URL).",
)
def enqueue(urls: tuple[str, ...], seeds: str | None, redis_url: str) -> None:
    """Give URLS (start pages, sitemaps, feeds, articles) and --seeds to a running fleet of
    `crawler crawl --redis` processes; the first idle crawler takes them."""
    for url in urls:
        if not valid_http_url(url):
            raise click.BadParameter(f"not an http(s) URL: {url!r}", param_hint="URLS")
    entries = [(url, "start") for url in urls]
    if seeds:
        try:
            entries += [(url, "seed") for url in read_url_list(seeds)]
        except SeedFileError as exc:
            raise click.ClickException(str(exc)) from exc
    if not entries:
        raise click.UsageError("give at least one URL or --seeds")
    check_redis(redis_url)
    try:
        count = push(redis_url, entries)
    except RedisFrontierError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Queued {count} start URL{'s' if count != 1 else ''} on {redis_url}.")

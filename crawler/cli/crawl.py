"""``crawler crawl``: run the article spider in-process into the archive."""

from __future__ import annotations

from typing import Any

import click

from crawler.cli import cli
from crawler.cli.common import db_option, open_archive
from crawler.run import CrawlResult, run_crawl
from crawler.urls import SeedFileError, read_url_list, valid_http_url


@cli.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--seeds", type=click.Path(dir_okay=False), help="File of URLs to crawl, one a line (# comments)."
)
@click.option(
    "--sitemap", "sitemaps", multiple=True, help="Sitemap URL (index, news or .xml.gz); repeatable."
)
@click.option("--feed", "feeds", multiple=True, help="RSS or Atom feed URL; repeatable.")
@db_option
@click.option(
    "--max-pages", type=click.IntRange(min=0), help="Stop after discovering N pages (0 = no limit)."
)
@click.option("--max-depth", type=click.IntRange(min=0), help="Link hops to follow from a start page.")
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy setting; repeatable.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log (INFO level).")
def crawl(
    urls: tuple[str, ...],
    seeds: str | None,
    sitemaps: tuple[str, ...],
    feeds: tuple[str, ...],
    db_url: str,
    max_pages: int | None,
    max_depth: int | None,
    settings: tuple[str, ...],
    verbose: bool,
) -> None:
    """Crawl URLS (articles, section pages, sitemaps or feeds) into the archive."""
    spider_kwargs = spider_arguments(urls, seeds, sitemaps, feeds, max_pages, max_depth)
    overrides = {"ARCHIVE_URL": db_url, "LOG_LEVEL": "INFO" if verbose else "WARNING"}
    overrides.update(parse_settings(settings))
    open_archive(db_url).dispose()
    result = run_crawl(spider_kwargs, overrides)
    report(result, db_url)


def spider_arguments(
    urls: tuple[str, ...] | list[str],
    seeds: str | None,
    sitemaps: tuple[str, ...] | list[str] = (),
    feeds: tuple[str, ...] | list[str] = (),
    max_pages: int | None = None,
    max_depth: int | None = None,
) -> dict[str, Any]:
    """Validate the crawl's inputs and turn them into spider arguments (ClickException if bad)."""
    for url in (*urls, *sitemaps, *feeds):
        if not valid_http_url(url):
            raise click.ClickException(f"not an http(s) URL: {url!r}")
    if seeds:
        try:
            if not read_url_list(seeds):
                raise click.ClickException(f"no URLs in seed file {seeds}")
        except SeedFileError as exc:
            raise click.ClickException(str(exc)) from exc
    if not (urls or seeds or sitemaps or feeds):
        raise click.UsageError("give at least one URL, --seeds, --sitemap or --feed")
    kwargs: dict[str, Any] = {"urls": list(urls), "sitemaps": list(sitemaps), "feeds": list(feeds)}
    if seeds:
        kwargs["seeds"] = seeds
    if max_pages is not None:
        kwargs["max_pages"] = max_pages
    if max_depth is not None:
        kwargs["max_depth"] = max_depth
    return kwargs


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.ClickException(f"--set wants NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


def report(result: CrawlResult, db_url: str) -> None:
    """Print the crawl's summary; fail with one line when nothing could be fetched at all."""
    fetched = result.count("discovery/html_pages") + result.count("skipped/non_html")
    failed = result.prefixed("failed")
    if result.finish_reason not in (None, "finished"):
        raise click.ClickException(f"crawl stopped: {result.finish_reason}")
    if not fetched and failed and not result.count("discovery/sitemaps") + result.count("discovery/feeds"):
        reason = ", ".join(f"{k} ({v})" for k, v in sorted(failed.items()))
        raise click.ClickException(f"could not fetch any page: {reason}")
    skipped = result.prefixed("skipped")
    click.echo(
        f"Archived {result.count('archive/new')} new, "
        f"{result.count('archive/changed')} changed, {result.count('archive/unchanged')} unchanged "
        f"from {result.count('discovery/html_pages')} pages into {db_url} "
        f"(run {result.stats.get('archive/run_id', '?')})."
    )
    if skipped:
        click.echo("Skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    if failed:
        click.echo("Failed: " + ", ".join(f"{k} {v}" for k, v in sorted(failed.items())))

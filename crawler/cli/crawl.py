"""``crawler crawl``: run the article spider in-process into the archive."""

from __future__ import annotations

from typing import Any

import click

from crawler.cli import cli
from crawler.cli.common import db_option, open_archive
from crawler.incremental import DurationError, parse_duration
from crawler.run import CrawlResult, run_crawl
from crawler.sources import SourcesError, load_sources
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
@click.option(
    "--sources",
    type=click.Path(dir_okay=False),
    help="Sources file (TOML): sites with start pages, feeds, sitemaps, sections, limits.",
)
@click.option("--site", "sites", multiple=True, help="Crawl only this site of --sources; repeatable.")
@click.option(
    "--jobdir",
    type=click.Path(file_okay=False),
    help="Job folder (Scrapy JOBDIR): a stopped or killed crawl started again resumes from it.",
)
@click.option(
    "--revisit",
    metavar="DURATION",
    help="Do not request archived pages fetched less than this ago (e.g. 30m, 6h, 1d; default 6h).",
)
@click.option(
    "--full", is_flag=True, help="Fetch every page again: no revisit interval, no conditional requests."
)
@click.option(
    "--keep-html/--no-keep-html",
    default=True,
    show_default=True,
    help="Keep each archived page's raw HTML (compressed) for `crawler reextract`.",
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
    sources: str | None,
    sites: tuple[str, ...],
    jobdir: str | None,
    revisit: str | None,
    full: bool,
    keep_html: bool,
    verbose: bool,
) -> None:
    """Crawl URLS (articles, section pages, sitemaps or feeds) into the archive.

    Crawls are incremental: archived pages fetched less than the revisit interval ago are not
    requested, older ones are requested conditionally (a 304 costs no extraction).
    """
    spider_kwargs = spider_arguments(urls, seeds, sitemaps, feeds, max_pages, max_depth, sources, sites)
    overrides: dict[str, Any] = {"ARCHIVE_URL": db_url, "LOG_LEVEL": "INFO" if verbose else "WARNING"}
    if jobdir:
        overrides["JOBDIR"] = jobdir
    if revisit is not None:
        try:
            parse_duration(revisit)
        except DurationError as exc:
            raise click.BadParameter(str(exc), param_hint="--revisit") from exc
        overrides["CRAWLER_REVISIT_AFTER"] = revisit
    if full:
        overrides["CRAWLER_INCREMENTAL"] = False
    if not keep_html:
        overrides["ARCHIVE_KEEP_HTML"] = False
    overrides.update(parse_settings(settings))
    open_archive(db_url).dispose()
    result = run_crawl(spider_kwargs, overrides)
    if jobdir and result.finish_reason == "shutdown":
        raise click.ClickException(f"crawl paused: run the same command again to resume from {jobdir}")
    report(result, db_url)


def spider_arguments(
    urls: tuple[str, ...] | list[str],
    seeds: str | None,
    sitemaps: tuple[str, ...] | list[str] = (),
    feeds: tuple[str, ...] | list[str] = (),
    max_pages: int | None = None,
    max_depth: int | None = None,
    sources: str | None = None,
    sites: tuple[str, ...] | list[str] = (),
) -> dict[str, Any]:
    """Validate the crawl's inputs and turn them into spider arguments (ClickException if bad)."""
    if sites and not sources:
        raise click.UsageError("--site needs --sources")
    if sources:
        try:
            names = {site.name for site in load_sources(sources)}
        except SourcesError as exc:
            raise click.ClickException(str(exc)) from exc
        for name in sites:
            if name not in names:
                raise click.ClickException(
                    f"no site named {name!r} in {sources} (sites: {', '.join(sorted(names))})"
                )
    for url in (*urls, *sitemaps, *feeds):
        if not valid_http_url(url):
            raise click.ClickException(f"not an http(s) URL: {url!r}")
    if seeds:
        try:
            if not read_url_list(seeds):
                raise click.ClickException(f"no URLs in seed file {seeds}")
        except SeedFileError as exc:
            raise click.ClickException(str(exc)) from exc
    if not (urls or seeds or sitemaps or feeds or sources):
        raise click.UsageError("give at least one URL, --seeds, --sitemap, --feed or --sources")
    kwargs: dict[str, Any] = {"urls": list(urls), "sitemaps": list(sitemaps), "feeds": list(feeds)}
    if sources:
        kwargs["sources"] = sources
        if sites:
            kwargs["sites"] = list(sites)
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
    if result.finish_reason is None:
        raise click.ClickException("the crawl did not start (run again with -v to see Scrapy's log)")
    if result.finish_reason != "finished":
        # A fault of the archive (locked, full) says what happened in its own words.
        raise click.ClickException(
            f"crawl stopped: {result.stats.get('archive/fault') or result.finish_reason}"
        )
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
    not_requested = result.count("incremental/not_requested")
    if result.count("incremental/known_urls"):
        click.echo(
            f"Requests: {result.count('downloader/request_count')} sent, "
            f"{result.count('incremental/not_modified')} articles and "
            f"{result.count('incremental/cache_not_modified')} other pages answered 304 not modified; "
            f"{not_requested} archived pages not requested (fresh or unchanged)."
        )
    if skipped:
        click.echo("Skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    robots = failed.pop("robots", 0)
    if robots:
        click.echo(f"Not fetched (disallowed by robots.txt): {robots}")
    if failed:
        click.echo("Failed: " + ", ".join(f"{k} {v}" for k, v in sorted(failed.items())))
    given = result.stats.get("reach/private_given")
    if given:
        click.echo(
            f"Notice: {given} is on a private address, crawled because it was given "
            "(other private addresses are refused)."
        )

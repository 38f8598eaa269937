"""``crawler crawl``: run the article spider in-process into the archive."""

from __future__ import annotations

import os
from typing import Any

import click

from archive.db import make_sessionmaker
from crawler.cli import INTERRUPTED, cli
from crawler.cli.common import UsageFailure, db_option, keep_html_option, open_archive
from crawler.frontier import JobLocked, lock_jobdir
from crawler.incremental import DurationError, parse_duration
from crawler.reasons import Reason
from crawler.run import CrawlResult, project_settings, run_crawl
from crawler.sources import SourcesError, load_sources
from crawler.urls import SeedFileError, read_url_list, valid_http_url
from crawler.wording import plural
from pipelines import run_counts


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
    "--max-pages",
    type=click.IntRange(min=0),
    help="Request at most N pages a site besides the start URLs: articles and section pages alike (0 = no limit).",
)
@click.option(
    "--max-depth",
    type=click.IntRange(min=0),
    help="Link hops to follow from a start page (default 3; 0: fetch the given pages alone).",
)
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
@keep_html_option
@click.option(
    "--warc",
    "warc_dir",
    metavar="DIR",
    help="Also write every response to WARC files in DIR (ARCHIVE_WARC_DIR; rotated at ARCHIVE_WARC_MAX_SIZE).",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    envvar="REDIS_URL",
    help="Share the crawl frontier with other crawlers on this Redis (default $REDIS_URL); "
    "with no URL to crawl, work from the shared queue and `crawler enqueue`.",
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
    warc_dir: str | None,
    redis_url: str | None,
    verbose: bool,
) -> None:
    """Crawl URLS (articles, section pages, sitemaps or feeds) into the archive.

    Crawls are incremental: archived pages fetched less than the revisit interval ago are not
    requested, older ones are requested conditionally (a 304 costs no extraction).
    """
    spider_kwargs = spider_arguments(
        urls, seeds, sitemaps, feeds, max_pages, max_depth, sources, sites, worker=bool(redis_url)
    )
    overrides: dict[str, Any] = {"ARCHIVE_URL": db_url, "LOG_LEVEL": "INFO" if verbose else "WARNING"}
    if redis_url:
        if jobdir:
            raise click.UsageError("--jobdir and --redis exclude each other: the queue lives in Redis")
        check_redis(redis_url)
        overrides["REDIS_URL"] = redis_url
    if jobdir:
        overrides["JOBDIR"] = jobdir
    if revisit is not None:
        try:
            parse_duration(revisit)
        except DurationError as exc:
            raise UsageFailure(f"--revisit: {exc}") from exc
        overrides["CRAWLER_REVISIT_AFTER"] = revisit
    if full:
        overrides["CRAWLER_INCREMENTAL"] = False
    if not keep_html:
        overrides["ARCHIVE_KEEP_HTML"] = False
    if warc_dir:
        try:
            os.makedirs(warc_dir, exist_ok=True)
        except OSError as exc:
            raise UsageFailure(f"cannot use the WARC folder {warc_dir}: {exc.strerror or exc}") from exc
        if not os.access(warc_dir, os.W_OK):
            raise UsageFailure(f"cannot write to the WARC folder {warc_dir}")
        overrides["ARCHIVE_WARC_DIR"] = os.path.abspath(warc_dir)
    overrides.update(parse_settings(settings))
    if jobdir:
        # Held until the process ends; the spider's frontier finds it held by this process.
        try:
            lock_jobdir(jobdir)
        except JobLocked as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            raise UsageFailure(f"cannot use the job folder {jobdir}: {exc.strerror or exc}") from exc
    open_archive(db_url).dispose()
    result = run_crawl(spider_kwargs, overrides)
    if result.interrupted or (result.started and result.finish_reason is None):
        interrupted(result, db_url, jobdir)
    report(result, db_url)


def interrupted(result: CrawlResult, db_url: str, jobdir: str | None) -> None:
    """A crawl stopped by Ctrl-C (or SIGTERM): one line saying what was kept, exit code 130.

    After one Ctrl-C Scrapy closed the crawl (its run record says ``shutdown``); after a second
    it stopped at once, and the run record is closed here as ``interrupted``.
    """
    run_id = result.stats.get("archive/run_id")
    if result.started and result.finish_reason is None and run_id is not None:
        from archive.store import finish_run

        engine = open_archive(db_url)
        try:
            with make_sessionmaker(engine).begin() as session:
                finish_run(session, int(run_id), reason="interrupted", counts=run_counts(result.stats))
        finally:
            engine.dispose()
    if not result.started:
        message = "crawl interrupted before it started: nothing was fetched"
    else:
        message = (
            f"crawl interrupted: {plural(result.count('archive/new'), 'new article')} archived"
            f" (run {run_id if run_id is not None else '?'})"
        )
        if jobdir:
            message += f"; run the same command again to resume from {jobdir}"
    click.echo(message, err=True)
    raise SystemExit(INTERRUPTED)


def spider_arguments(
    urls: tuple[str, ...] | list[str],
    seeds: str | None,
    sitemaps: tuple[str, ...] | list[str] = (),
    feeds: tuple[str, ...] | list[str] = (),
    max_pages: int | None = None,
    max_depth: int | None = None,
    sources: str | None = None,
    sites: tuple[str, ...] | list[str] = (),
    *,
    worker: bool = False,
) -> dict[str, Any]:
    """Validate the crawl's inputs and turn them into spider arguments (ClickException if bad).

    A ``worker`` (a crawl on a shared frontier) may have no start URL of its own."""
    if sites and not sources:
        raise UsageFailure("--site needs --sources")
    if sources:
        try:
            names = {site.name for site in load_sources(sources)}
        except SourcesError as exc:
            raise UsageFailure(str(exc)) from exc
        for name in sites:
            if name not in names:
                raise UsageFailure(f"no site named {name!r} in {sources} (sites: {', '.join(sorted(names))})")
    for url in (*urls, *sitemaps, *feeds):
        if not valid_http_url(url):
            raise UsageFailure(f"not an http(s) URL: {url!r}")
    if seeds:
        try:
            if not read_url_list(seeds):
                raise UsageFailure(f"no URLs in seed file {seeds}")
        except SeedFileError as exc:
            raise UsageFailure(str(exc)) from exc
    if not (urls or seeds or sitemaps or feeds or sources or worker):
        raise UsageFailure("give at least one URL, --seeds, --sitemap, --feed or --sources")
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


def check_redis(url: str) -> None:
    """Fail in one line when the shared frontier cannot be used (no scrapy-redis, no Redis there)."""
    from crawler.redis_frontier import RedisFrontierError, connect

    try:
        import scrapy_redis  # noqa: F401
    except ImportError as exc:
        raise click.ClickException("--redis needs scrapy-redis: pip install 'news-archiver[redis]'") from exc
    try:
        connect(url).close()
    except RedisFrontierError as exc:
        raise click.ClickException(str(exc)) from exc


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs, each value checked against the type of the setting's default
    (a number, a boolean), so that a typo is one line now and not a traceback once Scrapy runs."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageFailure(f"--set wants NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    defaults = project_settings()
    checked = project_settings(out)
    for name, value in out.items():
        default = defaults.get(name)
        try:
            if isinstance(default, bool):
                checked.getbool(name)
            elif isinstance(default, int):
                checked.getint(name)
            elif isinstance(default, float):
                checked.getfloat(name)
        except ValueError:
            kind = "true or false" if isinstance(default, bool) else "a number"
            raise UsageFailure(f"-s {name}={value}: {name} must be {kind}") from None
    return out


def _report_health(db_url: str) -> None:
    """A line naming the sites whose extraction figures moved with this crawl (``crawler health``)."""
    from sqlalchemy.exc import SQLAlchemyError

    from archive.db import ArchiveError
    from crawler.cli.health import flagged_line, flagged_since_last_crawl

    try:
        engine = open_archive(db_url, readonly=True)
    except (ArchiveError, click.ClickException) as exc:
        click.echo(f"Extraction health not checked: {exc}", err=True)
        return
    try:
        with make_sessionmaker(engine)() as session:
            flagged = flagged_since_last_crawl(session)
    except SQLAlchemyError as exc:
        click.echo(f"Extraction health not checked: {type(exc).__name__}", err=True)
        return
    finally:
        engine.dispose()
    if flagged:
        click.echo(flagged_line(flagged))


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
        f"from {plural(result.count('discovery/html_pages'), 'page')} into {db_url} "
        f"(run {result.stats.get('archive/run_id', '?')})."
    )
    if result.count("incremental/known_urls"):
        counts = run_counts(result.stats)
        click.echo(
            f"Requests: {result.count('downloader/request_count')} sent, "
            f"{counts['not_modified']} answered 304 not modified "
            f"({plural(result.count('incremental/not_modified'), 'article')}, "
            f"{plural(result.count('incremental/cache_not_modified'), 'other page')}); "
            f"{plural(counts['not_requested'], 'archived page')} not requested (fresh or unchanged)."
        )
    if skipped:
        click.echo("Skipped: " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    robots = failed.pop(Reason.ROBOTS, 0)
    if robots:
        click.echo(f"Not fetched (disallowed by robots.txt): {robots}")
    if failed:
        click.echo("Failed: " + ", ".join(f"{k} {v}" for k, v in sorted(failed.items())))
    _report_health(db_url)
    given = result.stats.get("reach/private_given")
    if given:
        click.echo(
            f"Notice: {given} is on a private address, crawled because it was given "
            "(other private addresses are refused)."
        )

"""``crawler health``: each site's recent crawls beside its own history; exit 1 when a site is flagged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import make_sessionmaker
from archive.health import METRICS, THRESHOLD_SETTINGS, SiteHealth, site_health
from archive.models import CrawlRun
from crawler.cli import cli
from crawler.cli.common import UsageFailure, db_option, open_archive, site_option
from crawler.incremental import DurationError, parse_duration
from crawler.run import project_settings
from crawler.wording import plural


def health_settings() -> tuple[dict[str, float], int]:
    """The thresholds of the project's settings (CRAWLER_HEALTH_THRESHOLD, and the settings of metrics
    with a threshold of their own: :data:`archive.health.THRESHOLD_SETTINGS`), and
    CRAWLER_HEALTH_MIN_PAGES."""
    settings = project_settings()
    limits = {name: settings.getfloat(name, default) for name, default in THRESHOLD_SETTINGS.items()}
    return limits, settings.getint("CRAWLER_HEALTH_MIN_PAGES", 5)


def flagged_since_last_crawl(session: Session) -> list[SiteHealth]:
    """The sites flagged when the last crawl's pages are compared with their history (the settings'
    threshold), for the crawl's summary and ``crawler stats``."""
    start = session.scalar(select(CrawlRun.started_at).order_by(CrawlRun.id.desc()).limit(1))
    if start is None:
        return []
    limits, min_pages = health_settings()
    return [h for h in site_health(session, start, thresholds=limits, min_pages=min_pages) if h.flagged]


def flagged_line(sites: list[SiteHealth]) -> str:
    """One line naming the flagged sites and what moved."""
    return (
        "Extraction health: "
        + "; ".join(f"{s.site} flagged ({', '.join(s.flags)})" for s in sites)
        + (" - see `crawler health`")
    )


@cli.command()
@click.option("--site", "site", metavar="DOMAIN", help="Only this site.")
@click.option(
    "--since",
    metavar="AGE",
    help="The recent window: pages of the last AGE (e.g. 7d, 12h). Default: since the last crawl started.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (for monitoring).")
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 10.0),
    help="How far every figure may move before the site is flagged (default: CRAWLER_HEALTH_THRESHOLD, "
    "and CRAWLER_HEALTH_BOILERPLATE_THRESHOLD for the learned-boilerplate hits).",
)
@db_option
def health(site: str | None, since: str | None, as_json: bool, threshold: float | None, db_url: str) -> None:
    """Compare each site's recent crawls with its own history; flag a site whose extraction figures moved
    (share rejected as not articles, empty bodies, median body length, share with title/date/author/lede,
    language mix, learned-boilerplate hits). Exit 1 when a site is flagged."""
    limits, min_pages = health_settings()
    if threshold is not None:
        limits = dict.fromkeys(limits, threshold)
    limit = limits["CRAWLER_HEALTH_THRESHOLD"]
    engine = open_archive(db_url, readonly=True)
    try:
        with make_sessionmaker(engine)() as session:
            if since is not None:
                try:
                    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=parse_duration(since))
                except DurationError as exc:
                    raise UsageFailure(f"--since: {exc}") from None
            else:
                last = session.scalar(select(CrawlRun.started_at).order_by(CrawlRun.id.desc()).limit(1))
                if last is None:
                    raise click.ClickException(f"no crawl in {db_url} yet: nothing to compare")
                start = last
            sites = site_health(
                session,
                start,
                site=site_option(site) if site else None,
                thresholds=limits,
                min_pages=min_pages,
            )
    finally:
        engine.dispose()
    flagged = [s for s in sites if s.flagged]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "since": start.isoformat() + "Z",
                    "threshold": limit,
                    "thresholds": {m.name: limits[m.setting] for m in METRICS},
                    "sites": [s.as_dict() for s in sites],
                },
                ensure_ascii=False,
            )
        )
    else:
        _print(sites, start, limits)
    if flagged:
        raise SystemExit(1)


def _print(sites: list[SiteHealth], start: datetime, limits: dict[str, float]) -> None:
    console = Console()
    limit = limits["CRAWLER_HEALTH_THRESHOLD"]
    own = "".join(
        f"; {m.name} {limits[m.setting]:g}" for m in METRICS if limits[m.setting] != limit
    )  # the metrics whose threshold is another
    table = Table(
        title=f"extraction health: history vs since {start:%Y-%m-%d %H:%M}Z (threshold {limit:g}{own})"
    )
    table.caption = "each cell: history / recent"
    for col in ("site", "pages", *(m.column or m.name for m in METRICS)):
        table.add_column(col, justify="left" if col == "site" else "right")
    for s in sites:
        cells = [f"{s.history.pages} / {s.recent.pages}"]
        cells += [
            f"{getattr(s.history, m.name):{m.shown}} / {getattr(s.recent, m.name):{m.shown}}" for m in METRICS
        ]
        table.add_row(s.site, *cells)
    console.print(table)
    for s in sites:
        if s.flagged:
            console.print(f"FLAGGED {s.site}: {'; '.join(s.flags)}", highlight=False, soft_wrap=True)
            for url in s.examples:
                console.print(f"  e.g. {url}", highlight=False, soft_wrap=True)
    flagged = sum(s.flagged for s in sites)
    console.print(f"{plural(len(sites), 'site')}, {flagged} flagged", highlight=False)

"""``crawler demo``: crawl the bundled sample news site over loopback and show what was archived.

The sample site is served on 127.0.0.1 (a free port) and reached through the server acting
as an HTTP proxy for the host ``sample-news.example``, so the archived URLs do not depend on
the port and running the demo again updates the same rows instead of piling up copies.
"""

from __future__ import annotations

import os

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from archive.db import make_sessionmaker
from archive.models import Article
from crawler.cli import cli
from crawler.cli.common import db_option, open_archive
from crawler.cli.crawl import report
from crawler.run import run_crawl
from crawler.sample_site import SITE_DIR
from crawler.siteserver import serve_directory

DEMO_BASE = "http://sample-news.example"
DEMO_DOMAIN = "sample-news.example"


@cli.command()
@db_option
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log (INFO level).")
def demo(db_url: str, verbose: bool) -> None:
    """Serve the bundled sample site locally, crawl it, and print the archived articles."""
    open_archive(db_url).dispose()
    with serve_directory(SITE_DIR, public_url=DEMO_BASE) as server:
        click.echo(f"Serving the sample site on {server.url} as {DEMO_BASE}")
        os.environ["http_proxy"] = server.url
        os.environ.pop("no_proxy", None)
        os.environ.pop("NO_PROXY", None)
        overrides = {
            "ARCHIVE_URL": db_url,
            "LOG_LEVEL": "INFO" if verbose else "WARNING",
            # Loopback: no need to be gentle.
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            # The sample site is on loopback, reached through its server as a proxy.
            "CRAWLER_ALLOW_PRIVATE_ADDRESSES": True,
        }
        result = run_crawl(
            {
                "urls": [DEMO_BASE + "/"],
                "sitemaps": [DEMO_BASE + "/sitemap.xml"],
                "feeds": [DEMO_BASE + "/feed.xml", DEMO_BASE + "/atom.xml"],
            },
            overrides,
        )
    report(result, db_url)
    print_articles(db_url, DEMO_DOMAIN)


def print_articles(db_url: str, domain: str) -> None:
    """A table of the articles archived for ``domain``: title, language, words."""
    engine = open_archive(db_url)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(Article.title, Article.lang, Article.word_count, Article.url)
            .where(Article.domain == domain)
            .order_by(Article.lang, Article.title)
        ).all()
    table = Table(title=f"{len(rows)} articles archived from {domain}")
    table.add_column("title", overflow="fold")
    table.add_column("lang")
    table.add_column("words", justify="right")
    table.add_column("path", overflow="fold")
    for title, lang, words, url in rows:
        table.add_row(title or "(no title)", lang or "?", str(words), url.removeprefix(DEMO_BASE))
    Console().print(table)

"""``crawler search``: full-text search over the archived articles (SQLite FTS5)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.text import Text

from archive.db import make_sessionmaker
from archive.search import MARK_END, MARK_START, SearchError, search
from crawler.cli import cli
from crawler.cli.common import UsageFailure, db_option, lang_option, open_archive


@cli.command(name="search")
@click.argument("query")
@click.option("--lang", help="Only articles in this language (ISO 639-1, e.g. hi).")
@click.option(
    "-n", "--limit", default=10, show_default=True, type=click.IntRange(min=1), help="How many matches."
)
@click.option("--raw", is_flag=True, help='QUERY is FTS5 syntax (OR, NOT, NEAR, "phrase", prefix*).')
@db_option
def search_command(query: str, lang: str | None, limit: int, raw: bool, db_url: str) -> None:
    """Print the archived articles that best match QUERY (every word), with snippets."""
    if lang is not None:
        lang = lang_option(lang)
    engine = open_archive(db_url, readonly=True)
    try:
        with make_sessionmaker(engine)() as session:
            hits = search(session, query, lang=lang, limit=limit, raw=raw)
    except SearchError as exc:
        raise UsageFailure(str(exc)) from exc
    finally:
        engine.dispose()
    console = Console(highlight=False, soft_wrap=True)
    if not hits:
        console.print(f"No matches for {query!r}" + (f" in language {lang!r}" if lang else "") + ".")
        return
    for rank, hit in enumerate(hits, 1):
        head = Text(f"{rank}. ")
        head.append(hit.title or "(no title)", style="bold")
        head.append(f"  [{hit.lang or '?'}]", style="cyan")
        if hit.published:
            head.append(f"  {hit.published}", style="dim")
        console.print(head)
        console.print(Text("   " + hit.url, style="dim"))
        console.print(_marked("   " + " ".join(hit.snippet.split())))


def _marked(snippet: str) -> Text:
    """The snippet with the matched terms (between MARK_START and MARK_END) highlighted."""
    text = Text()
    rest = snippet
    while MARK_START in rest:
        before, _, after = rest.partition(MARK_START)
        match, _, rest = after.partition(MARK_END)
        text.append(before)
        text.append(match, style="bold yellow")
    text.append(rest)
    return text

"""``crawler check SEED...``: compare the archive with seed files (article texts or URL lists).

Exit code 0 when every seed holds (text seeds clean, URL lists fully archived), 1 when one does
not, 2 on usage errors (missing or unreadable seed file, missing or unreadable database).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import click
from sqlalchemy import or_, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.db import make_sessionmaker
from archive.models import Article, FetchFailure
from archive.search import FTS_TABLE, has_search_index
from crawler.check import (
    MATCH_OVERLAP,
    ArchivedArticle,
    FailureRecord,
    SeedError,
    TextReport,
    TextSeed,
    UrlReport,
    UrlSeed,
    article_shingles,
    compare,
    line_key,
    not_archived,
    overlap,
    read_seed,
    render,
    seed_shingles,
    similarity,
    url_coverage,
    url_variants,
)
from crawler.cli import cli
from crawler.cli.common import UsageFailure, db_option, open_archive

logger = logging.getLogger(__name__)

BATCH = 1000
_IN_CHUNK = 400  # bound parameters per IN (...) query


_ARTICLE_COLUMNS = (
    Article.id,
    Article.url,
    Article.title,
    Article.lede,
    Article.body,
    Article.author,
    Article.fetched_at,
)


def _archived(row: Any) -> ArchivedArticle:
    return ArchivedArticle(
        id=row.id,
        url=row.url,
        title=row.title,
        lede=row.lede,
        body=row.body or "",
        author=row.author,
        fetched_at=row.fetched_at,
    )


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _consider(
    found: dict[int, list[tuple[float, ArchivedArticle]]],
    i: int,
    seed_grams: set[str],
    article: ArchivedArticle,
    article_grams: set[str] | None = None,
) -> None:
    grams = article_grams if article_grams is not None else article_shingles(article)
    if overlap(seed_grams, grams) >= MATCH_OVERLAP:
        found.setdefault(i, []).append((similarity(seed_grams, grams), article))


def _fts_words(text: str) -> list[str]:
    # Words as the FTS5 unicode61 tokenizer sees them: runs of letters, marks and digits.
    return "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in text).split()


def _fts_candidates(session: Session, seed: TextSeed, limit: int = 200) -> set[int] | None:
    """Ids of articles holding one of the seed's longer lines (phrase query); None without an index."""
    if not has_search_index(session.get_bind()):  # type: ignore[arg-type]
        return None
    longest = sorted((line for _, line in seed.lines), key=lambda t: -len(t.split()))[:6]
    phrases = []
    for line in longest:
        words = _fts_words(line)
        # A phrase of a handful of words from the middle of a line: specific, and clear of a lead-in.
        if len(words) >= 6:
            mid = max(0, len(words) // 2 - 4)
            phrases.append('"' + " ".join(words[mid : mid + 8]) + '"')
    if not phrases:
        return None
    query = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q LIMIT {int(limit)}")
    try:
        return {row[0] for row in session.execute(query, {"q": " OR ".join(phrases)})}
    except OperationalError as exc:  # a phrase FTS5 cannot parse: compare everything instead
        logger.debug("full-text prefilter failed (%s); scanning", exc)
        return None


def check_text_seeds(session: Session, seeds: Sequence[TextSeed]) -> list[TextReport]:
    """Find each seed's archived article (by title, then by text overlap) and compare them."""
    if not seeds:
        return []
    by_title: dict[str, list[int]] = {}
    for i, seed in enumerate(seeds):
        by_title.setdefault(line_key(seed.title), []).append(i)
    title_hits: dict[int, list[int]] = {i: [] for i in range(len(seeds))}
    titles = select(Article.id, Article.title).where(Article.title.is_not(None))
    for art_id, title in session.execute(titles.execution_options(yield_per=BATCH)):
        for i in by_title.get(line_key(title or ""), ()):
            title_hits[i].append(art_id)

    grams = [seed_shingles(seed) for seed in seeds]
    # Seed index -> [(overlap, article)], best first.
    found: dict[int, list[tuple[float, ArchivedArticle]]] = {}
    matched_by: dict[int, str] = {}
    for i, ids in title_hits.items():
        if not ids:
            continue
        rows: list[Any] = []
        for chunk in _chunks(ids):
            rows += session.execute(select(*_ARTICLE_COLUMNS).where(Article.id.in_(chunk))).all()
        scored = [(similarity(grams[i], article_shingles(a)), a) for a in map(_archived, rows)]
        found[i] = sorted(scored, key=lambda pair: (-pair[0], pair[1].id))
        matched_by[i] = "title"

    pending = [i for i in range(len(seeds)) if i not in found]
    # No title match: look for the article whose text is (mostly) in the seed. The full-text index,
    # when the archive has one, names the few candidates; otherwise (or when it finds none) every
    # article is compared, in one streaming pass for all such seeds.
    scan: list[int] = []
    for i in pending:
        fts_ids = _fts_candidates(session, seeds[i])
        if not fts_ids:
            scan.append(i)
            continue
        for chunk in _chunks(sorted(fts_ids)):
            for row in session.execute(select(*_ARTICLE_COLUMNS).where(Article.id.in_(chunk))):
                _consider(found, i, grams[i], _archived(row))
        if i not in found:
            scan.append(i)
    if scan:
        stmt = select(*_ARTICLE_COLUMNS).order_by(Article.id)
        for row in session.execute(stmt.execution_options(yield_per=BATCH)):
            article = _archived(row)
            article_grams = article_shingles(article)
            for i in scan:
                _consider(found, i, grams[i], article, article_grams)
    for i in pending:
        if i in found:
            found[i].sort(key=lambda pair: (-pair[0], pair[1].id))
            matched_by[i] = "text overlap"

    reports = []
    for i, seed in enumerate(seeds):
        candidates = found.get(i)
        if not candidates:
            reports.append(
                not_archived(seed, [f"no archived article has the title {seed.title!r} or its text"])
            )
            continue
        score, article = candidates[0]
        report = compare(seed, article)
        report.matched_by = matched_by[i]
        report.candidates = [a.id for _, a in candidates]
        if len(candidates) > 1:
            others = ", ".join(f"#{a.id}" for _, a in candidates[1:6])
            report.notes.append(
                f"{len(candidates)} archived articles match by {matched_by[i]}; "
                f"compared with #{article.id}, the closest (similarity {score:.0%}), also {others}"
            )
        elif matched_by[i] == "text overlap":
            report.notes.append(f"no archived article has the seed's title; text similarity {score:.0%}")
        reports.append(report)
    return reports


def check_url_seed(session: Session, seed: UrlSeed) -> UrlReport:
    """Coverage of a URL list: archived, failed (latest recorded failure) or never reached."""
    forms = sorted({form for url in seed.urls for form in url_variants(url)})
    articles: dict[str, ArchivedArticle] = {}
    checked: dict[str, datetime | None] = {}
    failures: dict[str, FailureRecord] = {}
    cols = (*_ARTICLE_COLUMNS, Article.canonical_url, Article.checked_at)
    for chunk in _chunks(forms):
        stmt = select(*cols).where(or_(Article.url.in_(chunk), Article.canonical_url.in_(chunk)))
        for row in session.execute(stmt):
            article = _archived(row)
            checked[row.url] = row.checked_at
            articles.setdefault(row.url, article)
            if row.canonical_url:
                articles.setdefault(row.canonical_url, article)
        stmt_f = (
            select(FetchFailure.url, FetchFailure.failed_at, FetchFailure.reason, FetchFailure.http_status)
            .add_columns(FetchFailure.detail)
            .where(FetchFailure.url.in_(chunk))
            .order_by(FetchFailure.failed_at)
        )
        for url, failed_at, reason, status, detail in session.execute(stmt_f):
            count = failures[url].count + 1 if url in failures else 1
            failures[url] = FailureRecord(url, failed_at, reason, status, detail, count)
    return url_coverage(seed, articles, failures, checked)


@cli.command("check")
@click.argument("seeds", nargs=-1, required=True, metavar="SEED...")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
def check_command(seeds: tuple[str, ...], db_url: str, as_json: bool) -> None:
    """Check the archive against seed files: article texts (headline first) or URL lists.

    Exit code: 0 when every seed holds, 1 when one does not, 2 on usage errors.
    """
    parsed: list[TextSeed | UrlSeed] = []
    for path in seeds:
        try:
            parsed.append(read_seed(path))
        except SeedError as exc:
            raise UsageFailure(str(exc)) from exc
    try:
        engine = open_archive(db_url, readonly=True)
    except click.ClickException as exc:
        raise UsageFailure(exc.message) from exc
    try:
        with make_sessionmaker(engine)() as session:
            text_seeds = [s for s in parsed if isinstance(s, TextSeed)]
            text_reports = iter(check_text_seeds(session, text_seeds))
            reports: list[TextReport | UrlReport] = [
                next(text_reports) if isinstance(s, TextSeed) else check_url_seed(session, s) for s in parsed
            ]
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc.__class__.__name__
        raise UsageFailure(f"cannot read the archive {db_url}: {reason}") from exc
    finally:
        engine.dispose()

    ok = all(r.ok for r in reports)
    verdicts: dict[str, int] = {}
    for r in reports:
        verdicts[r.verdict] = verdicts.get(r.verdict, 0) + 1
    if as_json:
        doc = {
            "database": db_url,
            "ok": ok,
            "verdicts": verdicts,
            "seeds": [r.to_dict() for r in reports],
        }
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for r in reports:
            for line in render(r):
                click.echo(line)
            click.echo("")
        summary = ", ".join(f"{n} {v}" for v, n in verdicts.items())
        click.echo(f"{len(reports)} seed{'s' if len(reports) != 1 else ''}: {summary}")
    if not ok:
        click.get_current_context().exit(1)

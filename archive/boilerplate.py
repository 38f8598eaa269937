"""Per-site boilerplate learning: count, per site, the lines seen verbatim across its pages.

A line found on many pages of the same site ("Get our daily newsletter", a copyright line) is that
site's boilerplate. The counts live in the archive (``site_lines``, ``site_pages``) so that the filter
improves as a site is crawled, across crawls. Lines are opaque strings here: the caller normalises
them (``crawler.boilerplate.site_lines_of``) and feeds ``learned_lines`` back to the extractor
(``ExtractOptions.site_boilerplate``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, bindparam, select, text
from sqlalchemy.orm import Session

from archive.models import SiteLine, SitePages
from crawler.clock import utcnow

__all__ = [
    "MIN_PAGES",
    "MIN_SHARE",
    "LearnedLine",
    "learned_lines",
    "record_lines",
    "site_report",
]

logger = logging.getLogger(__name__)

# A line is boilerplate of a site once it was seen on at least MIN_PAGES of its pages and on at
# least MIN_SHARE of the pages counted for the site.
MIN_PAGES = 3
MIN_SHARE = 0.1
# Longer "lines" are article paragraphs, not furniture; they are not counted.
MAX_LINE_CHARS = 1000
_CHUNK = 500  # SQL parameters per IN (...) query
# Upserts that count one more page of a site and one more page for each of its lines; the lines
# travel as one JSON array, read by each database's own JSON table function. The lines are distinct
# and sorted: one ON CONFLICT statement may not meet a key twice, and writers that lock rows in the
# same order do not deadlock.
_COUNT_PAGE = text(
    "INSERT INTO site_pages (domain, pages) VALUES (:domain, 1)"
    " ON CONFLICT (domain) DO UPDATE SET pages = site_pages.pages + 1"
)
_LINES_OF_JSON = {
    "sqlite": "SELECT :domain, value, 1, :now, :now FROM json_each(:lines) WHERE true",
    "postgresql": "SELECT :domain, value, 1, :now, :now FROM jsonb_array_elements_text(CAST(:lines AS jsonb))"
    " WITH ORDINALITY AS t(value, n) ORDER BY n",
}
_COUNT_LINES = {
    dialect: text(
        f"INSERT INTO site_lines (domain, line, pages, first_seen, last_seen) {select_lines}"
        " ON CONFLICT (domain, line) DO UPDATE SET pages = site_lines.pages + 1, last_seen = excluded.last_seen"
    ).bindparams(bindparam("now", type_=DateTime()))
    for dialect, select_lines in _LINES_OF_JSON.items()
}


@dataclass(frozen=True)
class LearnedLine:
    """One counted line of a site: the line, on how many pages, and whether it counts as boilerplate."""

    line: str
    pages: int
    boilerplate: bool


def record_lines(session: Session, domain: str, lines: Iterable[str], *, now: datetime | None = None) -> int:
    """Count one more page of ``domain`` and each distinct line of it; returns the lines counted.

    Call it once per newly archived page (not again when the same URL is re-crawled), inside the
    caller's transaction.
    """
    now = now or utcnow()
    distinct = sorted({x for x in lines if x and len(x) <= MAX_LINE_CHARS})
    dialect = session.get_bind().dialect.name
    count_lines = _COUNT_LINES.get(dialect)
    if count_lines is None:
        raise NotImplementedError(f"the archive supports SQLite and PostgreSQL, not {dialect}")
    # Two statements whatever the number of lines, since a crawl calls this for every new article
    # and per-line ORM objects would cost more than the SQL.
    session.execute(_COUNT_PAGE, {"domain": domain})
    if distinct:
        session.execute(count_lines, {"domain": domain, "now": now, "lines": json.dumps(distinct)})
    return len(distinct)


def site_pages(session: Session, domain: str) -> int:
    """How many pages of ``domain`` have been counted."""
    site = session.get(SitePages, domain)
    return site.pages if site else 0


def _threshold(pages: int, min_pages: int, min_share: float) -> int:
    return max(min_pages, int(pages * min_share + 0.999999))


def learned_lines(
    session: Session, domain: str, *, min_pages: int = MIN_PAGES, min_share: float = MIN_SHARE
) -> frozenset[str]:
    """The lines learned as boilerplate of ``domain`` (for ``ExtractOptions.site_boilerplate``)."""
    need = _threshold(site_pages(session, domain), min_pages, min_share)
    rows = session.scalars(select(SiteLine.line).where(SiteLine.domain == domain, SiteLine.pages >= need))
    return frozenset(rows)


def site_report(
    session: Session,
    domain: str,
    *,
    limit: int = 50,
    min_pages: int = MIN_PAGES,
    min_share: float = MIN_SHARE,
) -> tuple[int, list[LearnedLine]]:
    """Pages counted for ``domain`` and its most repeated lines (seen on 2+ pages), most frequent first."""
    pages = site_pages(session, domain)
    need = _threshold(pages, min_pages, min_share)
    rows = session.execute(
        select(SiteLine.line, SiteLine.pages)
        .where(SiteLine.domain == domain, SiteLine.pages >= 2)
        .order_by(SiteLine.pages.desc(), SiteLine.line)
        .limit(limit)
    ).all()
    return pages, [LearnedLine(line, n, n >= need) for line, n in rows]

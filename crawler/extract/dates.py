"""When the page says it was published and last modified: ISO 8601 timestamps with the UTC offset the
page states (``2025-06-05T14:46:12+02:00``), a time without an offset where the page gives none, a date
alone (``2025-06-05``) where it gives only a date, and where each came from.

Sources, first usable one wins: JSON-LD (``datePublished``/``dateModified`` of the article object), the
date ``<meta>`` tags (``article:published_time``/``article:modified_time`` first), the page's
``<time datetime>`` elements (inside ``<article>`` first), then htmldate's reading of the page (a
date alone; publication only). A value later than the fetch time, or before 1990, is not a publication
date (a copyright year, an event's date, a server's clock) and the next source is tried.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

from htmldate import find_date
from lxml.html import HtmlElement

from crawler.extract.metadata import MODIFIED_META_KEYS, PUBLISHED_META_KEYS, PageMeta

__all__ = [
    "EARLIEST",
    "PageDates",
    "normalise_stamp",
    "page_dates",
]

EARLIEST = date(1990, 1, 1)
# The furthest a local time can be ahead of UTC (UTC+14): a date or a time without an offset that is
# later than the fetch by less than this may be the page's local "now".
_LOCAL_AHEAD = timedelta(hours=14)
# Clocks of servers and crawlers disagree a little; a stated time this much after the fetch is kept.
_CLOCK_SKEW = timedelta(minutes=10)

_STAMP_RE = re.compile(
    r"(?P<y>(?:19|20)\d\d)-(?P<mo>[01]\d)-(?P<d>[0-3]\d)"
    r"(?:[T ](?P<h>[0-2]?\d):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d)(?:[.,]\d+)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-][01]\d(?::?[0-5]\d)?)?)?",
    re.IGNORECASE,
)
_COMPACT_RE = re.compile(r"^((?:19|20)\d\d)([01]\d)([0-3]\d)(?:\D|$)")


@dataclass(frozen=True)
class PageDates:
    """The page's publication and modification times as normalised ISO 8601 strings, or None."""

    published: str | None = None
    modified: str | None = None
    published_source: str | None = None  # json-ld, meta:<key>, time, htmldate


def normalise_stamp(value: str | None) -> str | None:
    """``value`` as ISO 8601: ``YYYY-MM-DDTHH:MM:SS+HH:MM`` (``+00:00`` for Z), ``YYYY-MM-DDTHH:MM:SS``
    when no offset is given, or ``YYYY-MM-DD`` for a date alone; None when it holds no valid date.
    Fractions of a second are dropped. RFC 2822 dates (``Tue, 05 Jun 2025 14:46:12 +0200``) are read too.
    """
    if not value:
        return None
    text = value.strip()
    m = _STAMP_RE.search(text)
    if m is None:
        compact = _COMPACT_RE.match(text)
        if compact:
            return _valid_date(*compact.groups())
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        return None if parsed is None else parsed.replace(microsecond=0).isoformat()
    day = _valid_date(m["y"], m["mo"], m["d"])
    if day is None or m["h"] is None:
        return day
    hour = int(m["h"])
    if hour > 23:
        return day
    stamp = f"{day}T{hour:02d}:{m['mi']}:{m['s'] or '00'}"
    tz = (m["tz"] or "").upper()
    if tz in ("Z", "UTC", "GMT"):
        return stamp + "+00:00"
    if tz:
        digits = tz[1:].replace(":", "")
        hh, mm = digits[:2], digits[2:4] or "00"
        if int(hh) > 14:
            return stamp
        return f"{stamp}{tz[0]}{hh}:{mm}"
    return stamp


def _valid_date(y: str, mo: str, d: str) -> str | None:
    try:
        return date(int(y), int(mo), int(d)).isoformat()
    except ValueError:
        return None


def _plausible(stamp: str, fetched_at: datetime) -> bool:
    """Not before 1990 and not after the fetch (``fetched_at``: naive UTC or aware)."""
    fetched = fetched_at.astimezone(UTC).replace(tzinfo=None) if fetched_at.tzinfo else fetched_at
    if date.fromisoformat(stamp[:10]) < EARLIEST:
        return False
    if len(stamp) == 10:  # a date alone: the page's own day may be ahead of UTC's
        return date.fromisoformat(stamp) <= (fetched + _LOCAL_AHEAD).date()
    parsed = datetime.fromisoformat(stamp)
    if parsed.tzinfo is None:
        return parsed <= fetched + _LOCAL_AHEAD
    return parsed.astimezone(UTC).replace(tzinfo=None) <= fetched + _CLOCK_SKEW


def _time_elements(tree: HtmlElement, prop: str) -> Iterator[str]:
    """``<time datetime>`` values: those marked as ``prop`` (itemprop) first, then the rest, inside
    ``<article>`` before the whole page."""
    scopes = [s for s in (tree.find(".//article"), tree) if s is not None]
    marked = [
        el.get("datetime") or ""
        for s in scopes
        for el in s.iter("time")
        if (el.get("itemprop") or "").lower() == prop
        or (prop == "datepublished" and el.get("pubdate") is not None)
    ]
    if prop == "datemodified":
        yield from marked
        return
    yield from marked
    for s in scopes:
        for el in s.iter("time"):
            if (el.get("itemprop") or "").lower() != "datemodified":
                yield el.get("datetime") or ""


def _first(
    candidates: Iterator[tuple[str, str | None]], fetched_at: datetime
) -> tuple[str | None, str | None]:
    for source, raw in candidates:
        stamp = normalise_stamp(raw)
        if stamp and _plausible(stamp, fetched_at):
            return stamp, source
    return None, None


def _candidates(
    tree: HtmlElement, meta: PageMeta, ld_value: str | None, meta_keys: tuple[str, ...], prop: str
) -> Iterator[tuple[str, str | None]]:
    """(source, raw value) of a date in the order its sources are trusted: JSON-LD's ``ld_value``,
    the page's ``meta_keys`` tags, its ``<time>`` elements (``prop`` ones first)."""
    yield "json-ld", ld_value
    for key in meta_keys:
        if key in meta.meta_dates:
            yield f"meta:{key}", meta.meta_dates[key]
    for value in _time_elements(tree, prop):
        yield "time", value


def _htmldate(tree: HtmlElement, url: str | None, fetched_at: datetime) -> str | None:
    """htmldate's original (publication) date of the page, a date alone, or None."""
    fetched = fetched_at.astimezone(UTC) if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
    try:
        found = find_date(
            deepcopy(tree),  # htmldate prunes the tree it is given
            url=url,
            original_date=True,
            # Its extensive search guesses from loose text (a year alone becomes 1 January): not a
            # date a researcher can trust.
            extensive_search=False,
            outputformat="%Y-%m-%d",
            min_date=datetime.combine(EARLIEST, datetime.min.time()),
            max_date=(fetched + _LOCAL_AHEAD).replace(tzinfo=None),
        )
    except (ValueError, TypeError, OverflowError):  # htmldate's own parsing failures on odd pages
        return None
    return found or None


def page_dates(
    tree: HtmlElement, meta: PageMeta, url: str | None, fetched_at: datetime | None = None
) -> PageDates:
    """The publication and modification times of the page, as of ``fetched_at`` (default: now)."""
    fetched = fetched_at or datetime.now(UTC)
    published, source = _first(
        _candidates(tree, meta, meta.ld_date, PUBLISHED_META_KEYS, "datepublished"), fetched
    )
    if published is None:
        published = _htmldate(tree, url, fetched)
        if published is not None and _plausible(published, fetched):
            source = "htmldate"
        else:
            published = None
    modified, _ = _first(
        _candidates(tree, meta, meta.ld_modified, MODIFIED_META_KEYS, "datemodified"), fetched
    )
    return PageDates(published=published, modified=modified, published_source=source)

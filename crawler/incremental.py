"""Incremental crawling rules: whether to fetch an archived page again, and how.

Pure functions, no Scrapy and no database: the downloader middleware (``middlewares.py``)
feeds them what the archive knows about a URL and the request's hints.

For a URL already in the archive, in this order:

1. fetched (or found unchanged) since the current job started: ``SKIP_DONE`` (a resumed job
   does not fetch again what it already has);
2. fetched less than the revisit interval ago: ``SKIP_FRESH``, no request at all;
3. the sitemap ``lastmod`` or the feed entry's date is not later than our copy:
   ``SKIP_LISTED``, no request at all;
4. otherwise a conditional request (``If-None-Match`` / ``If-Modified-Since`` from the stored
   ETag / Last-Modified): ``CONDITIONAL``; a ``304`` answer costs no extraction.

A URL not in the archive is simply fetched (``FETCH``).
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

__all__ = [
    "CONDITIONAL",
    "FETCH",
    "SKIP_DONE",
    "SKIP_FRESH",
    "SKIP_LISTED",
    "Decision",
    "DurationError",
    "decide",
    "parse_duration",
    "parse_listed_date",
    "parse_time",
]

FETCH, CONDITIONAL = "fetch", "conditional"
SKIP_DONE, SKIP_FRESH, SKIP_LISTED = "done_in_job", "fresh", "unchanged_listed"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DurationError(ValueError):
    """A duration that is neither seconds nor like ``90m``, ``6h``, ``1d12h``, ``2w``."""


@dataclass(frozen=True)
class Decision:
    """What to do with a page request: one of the actions above, and headers to add."""

    action: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def skip(self) -> bool:
        return self.action not in (FETCH, CONDITIONAL)


def parse_duration(value: str | float) -> float:
    """Seconds in ``value``: a number of seconds, or units like ``30m``, ``6h``, ``1d12h``, ``2w``."""
    if isinstance(value, bool):
        raise DurationError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise DurationError(f"negative duration: {value!r}")
        return float(value)
    text = str(value).strip().lower()
    try:
        return parse_duration(float(text))
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if text[pos : match.start()].strip():
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos == 0 or text[pos:].strip():
        raise DurationError(f"not a duration: {value!r} (use seconds or e.g. 30m, 6h, 1d, 2w)")
    return total


def parse_time(value: str) -> date | datetime:
    """An ISO 8601 date or date-time as written by people and by our exports: ``2026-11-24``,
    ``2026-11-24T15:24``, ``2026-11-24 15:24:37``, ``2026-11-24T15:24:37Z``,
    ``2026-11-24T20:54:37+05:30``, fractions of a second. A bare date stays a date; a date-time is
    naive UTC (converted from its offset; one without an offset is taken as UTC). The one parser for
    every time a command reads. Raises ValueError."""
    text = value.strip()
    if _DATE_ONLY.match(text):
        return date.fromisoformat(text)
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        raise ValueError(f"not an ISO 8601 date or time: {value!r}")
    parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_listed_date(value: str | None) -> datetime | None:
    """A sitemap ``lastmod`` (W3C datetime) or feed date (RFC 822 or ISO 8601) as naive UTC.

    A bare date means the end of that day (the page may have changed at any time that day).
    Unparseable values give None.
    """
    if not value:
        return None
    text = value.strip()
    try:
        when = parse_time(text)
        if not isinstance(when, datetime):
            return datetime.combine(when, datetime.max.time()).replace(microsecond=0)
        parsed = when
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def decide(
    *,
    last_seen: datetime,
    etag: str | None,
    last_modified: str | None,
    now: datetime,
    revisit_after: float,
    job_started: datetime | None = None,
    listed: datetime | None = None,
    conditional: bool = True,
) -> Decision:
    """Decide about a request for a URL the archive last saw at ``last_seen`` (naive UTC).

    ``listed`` is the page's date from a sitemap or feed, when it came from one.
    ``conditional=False`` asks for a full fetch instead of a conditional one.
    """
    if job_started is not None and last_seen >= job_started:
        return Decision(SKIP_DONE)
    if revisit_after > 0 and now - last_seen < timedelta(seconds=revisit_after):
        return Decision(SKIP_FRESH)
    if listed is not None and listed <= last_seen:
        return Decision(SKIP_LISTED)
    headers: dict[str, str] = {}
    if conditional:
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
    return Decision(CONDITIONAL if headers else FETCH, headers)

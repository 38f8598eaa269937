"""Writing to the archive: articles (insert, update or count as duplicate), runs and failures.

Functions here take a Session and a plain mapping; they know nothing of Scrapy or extraction.
Timestamps are naive UTC datetimes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Article, CrawlRun, FetchFailure

__all__ = ["content_hash", "finish_run", "record_failure", "start_run", "store_article", "utcnow"]

NEW, CHANGED, UNCHANGED, DUPLICATE = "new", "changed", "unchanged", "duplicate"

_WS = re.compile(r"\s+")
ARTICLE_FIELDS = frozenset(c.key for c in Article.__table__.columns) - {"id"}


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (what the archive stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def content_hash(text: str) -> str:
    """SHA-256 of the clean text with whitespace collapsed: equal texts, equal hashes."""
    return hashlib.sha256(_WS.sub(" ", text).strip().encode("utf-8")).hexdigest()


def store_article(session: Session, record: Mapping[str, Any]) -> str:
    """Insert or update the article at ``record["url"]``; return what happened.

    ``record`` holds Article column values (``content_hash`` included). The same URL again
    updates its row (NEW, CHANGED or UNCHANGED); the same clean text under another URL is
    not stored and DUPLICATE is returned.
    """
    values = {k: v for k, v in record.items() if k in ARTICLE_FIELDS}
    row = session.scalar(select(Article).where(Article.url == values["url"]))
    if row is None:
        other = session.scalar(
            select(Article.id).where(Article.content_hash == values["content_hash"]).limit(1)
        )
        if other is not None:
            return DUPLICATE
        session.add(Article(**values))
        return NEW
    outcome = UNCHANGED if row.content_hash == values["content_hash"] else CHANGED
    for key, value in values.items():
        setattr(row, key, value)
    return outcome


def start_run(session: Session, spider: str, arguments: Mapping[str, Any]) -> int:
    """Create the crawl_runs row of a starting crawl and return its id."""
    run = CrawlRun(spider=spider, arguments=dict(arguments), started_at=utcnow(), skipped={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, *, reason: str, counts: Mapping[str, Any]) -> None:
    """Close a crawl_runs row with its end time, finish reason and counts.

    ``counts`` keys: pages_fetched, archived, updated, failed (ints) and skipped (dict).
    """
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.finished_at = utcnow()
    run.finish_reason = reason
    for key in ("pages_fetched", "archived", "updated", "failed"):
        setattr(run, key, int(counts.get(key, 0)))
    run.skipped = dict(counts.get("skipped", {}))


def record_failure(
    session: Session,
    *,
    url: str,
    reason: str,
    run_id: int | None = None,
    http_status: int | None = None,
    detail: str | None = None,
    failed_at: datetime | None = None,
) -> None:
    """Record that ``url`` could not be fetched or extracted."""
    session.add(
        FetchFailure(
            run_id=run_id,
            url=url,
            reason=reason,
            http_status=http_status,
            detail=detail,
            failed_at=failed_at or utcnow(),
        )
    )

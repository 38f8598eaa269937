"""What the archive knows about each fetched URL, for incremental crawls.

One query at the start of a crawl reads, for every archived article, when it was last seen
(fetched, or found unchanged by a conditional request) and the validators the server sent
(ETag, Last-Modified). Only these few columns are read, so 100k rows cost well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Article

__all__ = ["FetchState", "load_fetch_states"]


class FetchState(NamedTuple):
    """An archived URL's last fetch or check (naive UTC) and its HTTP validators."""

    last_seen: datetime
    etag: str | None
    last_modified: str | None


def load_fetch_states(session: Session, domains: Iterable[str] | None = None) -> dict[str, FetchState]:
    """Map each archived article URL (optionally only on ``domains``) to its :class:`FetchState`."""
    stmt = select(Article.url, Article.fetched_at, Article.checked_at, Article.etag, Article.last_modified)
    if domains is not None:
        stmt = stmt.where(Article.domain.in_(sorted(set(domains))))
    states: dict[str, FetchState] = {}
    for url, fetched_at, checked_at, etag, last_modified in session.execute(stmt).tuples():
        seen = checked_at if checked_at is not None and checked_at > fetched_at else fetched_at
        states[url] = FetchState(seen, etag, last_modified)
    return states

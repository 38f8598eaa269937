"""What the archive knows about each fetched URL, for incremental crawls.

One query at the start of a crawl reads, for every archived article, when it was last seen
(fetched, or found unchanged by a conditional request) and the validators the server sent
(ETag, Last-Modified). Only these few columns are read, so 100k rows cost well under a second.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Article, CachedPage
from archive.store import dialect_insert

__all__ = [
    "CachedBody",
    "FetchState",
    "cache_page",
    "cached_body",
    "load_cache_validators",
    "load_fetch_states",
]


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


class CachedBody(NamedTuple):
    """A cached page's content type and body, as served."""

    content_type: str | None
    body: bytes


def load_cache_validators(session: Session) -> dict[str, tuple[str | None, str | None]]:
    """Map each cached (non-article) page URL to its (ETag, Last-Modified)."""
    stmt = select(CachedPage.url, CachedPage.etag, CachedPage.last_modified)
    return {url: (etag, last_modified) for url, etag, last_modified in session.execute(stmt).tuples()}


def cached_body(session: Session, url: str) -> CachedBody | None:
    """The cached body of ``url``, or None."""
    row = session.get(CachedPage, url)
    if row is None:
        return None
    return CachedBody(row.content_type, zlib.decompress(row.body_z))


def cache_page(
    session: Session,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    content_type: str | None,
    body: bytes,
    fetched_at: datetime,
) -> None:
    """Keep (or replace) the cached copy of a non-article page (an upsert: several crawlers may
    fetch the same front page)."""
    values = {
        "url": url,
        "etag": etag,
        "last_modified": last_modified,
        "content_type": content_type,
        "body_z": zlib.compress(body, 6),
        "fetched_at": fetched_at,
    }
    table = CachedPage.__table__
    stmt = dialect_insert(session, table)  # type: ignore[arg-type]
    stmt = stmt.on_conflict_do_update(
        index_elements=["url"], set_={key: stmt.excluded[key] for key in values if key != "url"}
    )
    session.execute(stmt, values)
    row = session.identity_map.get(session.identity_key(CachedPage, url))
    if row is not None:
        session.expire(row)

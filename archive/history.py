"""Reading an article's history: its earlier clean texts (``article_versions``) and the current one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.models import Article, ArticleVersion

__all__ = ["ArticleHistory", "TextVersion", "article_history"]


@dataclass(frozen=True)
class TextVersion:
    """One clean text of an article and when it was fetched."""

    fetched_at: datetime
    title: str | None
    lede: str | None
    body: str
    content_hash: str
    extractor_version: str | None

    def lines(self) -> list[str]:
        """The text as lines for a diff: the title, then one line per paragraph."""
        out = [f"# {self.title}" if self.title else "# (no title)"]
        for part in (self.lede, self.body):
            if part:
                out.extend(p for p in part.split("\n\n") if p.strip())
        return out


@dataclass(frozen=True)
class ArticleHistory:
    """An archived article's URL and its versions, oldest first (the last is the current text)."""

    url: str
    versions: list[TextVersion]


def article_history(session: Session, url: str) -> ArticleHistory | None:
    """The history of the article at ``url`` (or whose canonical URL it is), None if not archived."""
    row = session.scalar(select(Article).where(Article.url == url))
    if row is None:
        row = session.scalar(
            select(Article).where(or_(Article.canonical_url == url, Article.url == url.rstrip("/"))).limit(1)
        )
    if row is None:
        return None
    old = session.scalars(
        select(ArticleVersion).where(ArticleVersion.article_id == row.id).order_by(ArticleVersion.fetched_at)
    ).all()
    versions = [
        TextVersion(v.fetched_at, v.title, v.lede, v.body, v.content_hash, v.extractor_version) for v in old
    ]
    versions.append(
        TextVersion(row.fetched_at, row.title, row.lede, row.body, row.content_hash, row.extractor_version)
    )
    return ArticleHistory(row.url, versions)

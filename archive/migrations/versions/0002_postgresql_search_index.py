"""PostgreSQL full-text index: a GIN index over the articles' weighted ``simple`` tsvector.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

The ``simple`` configuration lowercases and splits on non-letters without stemming or stop words,
so words of every script with spaces (Latin, Cyrillic, Arabic, Devanagari...) are indexed as
written; archive/search.py queries the same expression (``archive.search.PG_DOCUMENT``, frozen
here). Nothing changes on SQLite, whose FTS5 index came with 0001.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENT = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, coalesce(lede, '')), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, body), 'D')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_articles_search ON articles USING gin (({_DOCUMENT}))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search")

"""Article metadata a researcher can trust: publication and modification times with their UTC offset
(``published`` keeps the page's ISO 8601 text; ``published_utc``/``modified_utc`` the instants, for
sorting and filtering), ``published_source``, ``authors`` and ``credit`` as JSON lists, ``access``
(free / paywalled / unknown) and ``truncated``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Columns are added with ``ALTER TABLE ... ADD COLUMN`` on both backends (SQLite supports it without
rebuilding the table, so the FTS5 triggers on ``articles`` are untouched). Existing rows are filled in:
a date-only ``published`` gives its midnight UTC, an ``author`` string the ``authors`` list it was
joined from (", "); ``access`` starts ``unknown`` and ``truncated`` false until re-extraction
(``crawler reextract``) reads the stored pages again.
"""

from collections.abc import Sequence
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("published_utc", sa.DateTime()),
    ("published_source", sa.String(64)),
    ("modified", sa.String(32)),
    ("modified_utc", sa.DateTime()),
    ("authors", sa.JSON(none_as_null=True)),
    ("credit", sa.JSON(none_as_null=True)),
)
_BATCH = 1000


def upgrade() -> None:
    for name, type_ in _COLUMNS:
        op.add_column("articles", sa.Column(name, type_, nullable=True))
    op.add_column("articles", sa.Column("access", sa.String(16), nullable=False, server_default="unknown"))
    op.add_column("articles", sa.Column("truncated", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_articles_published_utc", "articles", ["published_utc"])
    op.create_index("ix_articles_modified_utc", "articles", ["modified_utc"])
    _fill_existing_rows()


def _fill_existing_rows() -> None:
    """published_utc from a date-only (or full) published; authors from the joined author string."""
    from datetime import date, datetime

    bind = op.get_bind()
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("published", sa.String),
        sa.column("author", sa.Text),
        sa.column("published_utc", sa.DateTime),
        sa.column("authors", sa.JSON(none_as_null=True)),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(articles.c.id, articles.c.published, articles.c.author)
            .where(articles.c.id > last)
            .where(sa.or_(articles.c.published.is_not(None), articles.c.author.is_not(None)))
            .order_by(articles.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        updates = []
        for row in rows:
            last = row.id
            when = None
            if row.published:
                try:
                    if len(row.published) == 10:
                        when = datetime.combine(date.fromisoformat(row.published), datetime.min.time())
                    else:
                        parsed = datetime.fromisoformat(row.published)
                        if parsed.tzinfo is not None:
                            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
                        when = parsed
                except ValueError:
                    when = None
            names = [n.strip() for n in (row.author or "").split(", ") if n.strip()] or None
            updates.append({"row_id": row.id, "published_utc": when, "authors": names})
        bind.execute(
            articles.update()
            .where(articles.c.id == sa.bindparam("row_id"))
            .values(published_utc=sa.bindparam("published_utc"), authors=sa.bindparam("authors")),
            updates,
        )


def downgrade() -> None:
    op.drop_index("ix_articles_modified_utc", "articles")
    op.drop_index("ix_articles_published_utc", "articles")
    with op.batch_alter_table("articles", recreate="never") as batch:
        for name in ("truncated", "access", *(n for n, _ in reversed(_COLUMNS))):
            batch.drop_column(name)

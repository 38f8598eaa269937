"""Learned-boilerplate hits: ``articles.boilerplate_hits``, how many lines learned as the site's
boilerplate extraction removed from the page (``crawler health`` compares it across crawls).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

One nullable column added with ``op.add_column`` (``ALTER TABLE ... ADD COLUMN``), never a batch rebuild
of ``articles`` (on SQLite that would drop its FTS5 triggers). Existing rows keep NULL: what extraction
removed from them was not counted (``crawler reextract`` counts it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("boilerplate_hits", sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place, without rebuilding the table.
    op.drop_column("articles", "boilerplate_hits")

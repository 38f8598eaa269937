"""articles.lang_source widened to 32 characters: ``langdetect+declared`` (19) did not fit in 16.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

PostgreSQL enforces the length (an article tagged ``langdetect+declared`` could not be stored
there); SQLite does not enforce VARCHAR lengths, so its table is left as it is rather than
rebuilt in batch mode (which would drop the FTS5 triggers on ``articles``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("articles", "lang_source", type_=sa.String(32), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("articles", "lang_source", type_=sa.String(16), existing_nullable=True)

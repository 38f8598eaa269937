"""WARC in and out: the ``warc_files`` an ingest has read, and where an article's page lives in a WARC.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Only new tables and new nullable columns (``op.add_column``), never a batch rebuild of ``articles``
(on SQLite that would drop its FTS5 triggers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warc_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["crawl_runs.id"], name=op.f("fk_warc_files_run_id_crawl_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warc_files")),
    )
    op.create_index(op.f("ix_warc_files_path"), "warc_files", ["path"], unique=False)
    op.create_index(op.f("ix_warc_files_sha256"), "warc_files", ["sha256"], unique=False)
    op.add_column("articles", sa.Column("warc_file", sa.String(), nullable=True))
    op.add_column("articles", sa.Column("warc_offset", sa.BigInteger(), nullable=True))
    op.add_column("articles", sa.Column("warc_record_id", sa.String(), nullable=True))
    op.add_column("articles", sa.Column("payload_digest", sa.String(), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place, without rebuilding the table.
    for column in ("payload_digest", "warc_record_id", "warc_offset", "warc_file"):
        op.drop_column("articles", column)
    op.drop_index(op.f("ix_warc_files_sha256"), table_name="warc_files")
    op.drop_index(op.f("ix_warc_files_path"), table_name="warc_files")
    op.drop_table("warc_files")

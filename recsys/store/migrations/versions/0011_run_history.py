"""Run history a data scientist trusts (issue 19, item 4): a stored run's name, notes, status
(done / failed / cancelled) and reason, the lists the user inspector shows (each model's top 10,
the held-out titles and the training history of every tested user, as zstd Parquet). The run
behind each live-weight change (``weight_changes.run_id``) came with 0010.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("notes", sa.String(), nullable=True))
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="done"))
        batch.add_column(sa.Column("reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("lists", sa.LargeBinary(), nullable=True))
        batch.create_check_constraint("status", "status IN ('done', 'failed', 'cancelled')")


def downgrade() -> None:
    with op.batch_alter_table("evaluation_runs", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint("status", type_="check")
        batch.drop_column("lists")
        batch.drop_column("reason")
        batch.drop_column("status")
        batch.drop_column("notes")
        batch.drop_column("name")

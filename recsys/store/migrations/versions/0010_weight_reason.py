"""Live-weight changes say why and which evaluation run they came from (``reason``, ``run_id``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("weight_changes", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("run_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("weight_changes", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("run_id")
        batch.drop_column("reason")

"""One job queue with fencing: jobs carry their parameters, result, time estimate, a cancel
request and the lease generation they run under; ``job_leases`` holds the fencing leases and the
workers' heartbeats.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("estimate_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("fence", sa.Integer(), nullable=True))
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    with op.batch_alter_table("jobs") as batch:
        for column in ("fence", "cancel_requested", "estimate_s", "result", "params"):
            batch.drop_column(column)

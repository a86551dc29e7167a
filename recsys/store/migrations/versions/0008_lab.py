"""Evaluation lab: stored evaluation runs (history and comparison) and the log of live-weight
changes (who, when, old, new).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("catalogue_build", sa.String(128), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("protocol", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("per_user", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_evaluation_runs_created_at"), "evaluation_runs", ["created_at"])
    op.create_table(
        "weight_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=False),
        sa.CheckConstraint("action IN ('apply', 'reset')", name=op.f("ck_weight_changes_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weight_changes")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("weight_changes")
    op.drop_index(op.f("ix_evaluation_runs_created_at"), table_name="evaluation_runs")
    op.drop_table("evaluation_runs")

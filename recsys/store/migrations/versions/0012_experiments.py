"""Online experiments with testers (issue 23): experiments and their arms, sticky A/B
assignments, the exposure log (every feed card shown, per render) and the link from a live-weight
change to the experiment it shipped (``weight_changes.experiment_id``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("section", sa.String(8), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_arm", sa.String(40), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.CheckConstraint("method IN ('ab', 'interleave')", name=op.f("ck_experiments_method")),
        sa.CheckConstraint("status IN ('draft', 'running', 'paused', 'stopped')", name=op.f("ck_experiments_status")),
        sa.CheckConstraint("section IN ('movie', 'tv')", name=op.f("ck_experiments_section")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_experiments_section_status"), "experiments", ["section", "status"])
    op.create_table(
        "experiment_assignments",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(40), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_assignments_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_experiment_assignments_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("experiment_id", "user_id", name=op.f("pk_experiment_assignments")),
    )
    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session", sa.String(40), nullable=False),
        sa.Column("render", sa.String(40), nullable=False),
        sa.Column("section", sa.String(8), nullable=False),
        sa.Column("tconst", sa.String(12), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("setting", sa.String(40), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_exposures_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposures")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_exposures_experiment_id_shown_at"), "exposures", ["experiment_id", "shown_at"])
    op.create_index(op.f("ix_exposures_user_id_tconst"), "exposures", ["user_id", "tconst"])
    op.create_index(op.f("ix_exposures_shown_at"), "exposures", ["shown_at"])
    with op.batch_alter_table("weight_changes", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("experiment_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("weight_changes", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("experiment_id")
    op.drop_index(op.f("ix_exposures_shown_at"), table_name="exposures")
    op.drop_index(op.f("ix_exposures_user_id_tconst"), table_name="exposures")
    op.drop_index(op.f("ix_exposures_experiment_id_shown_at"), table_name="exposures")
    op.drop_table("exposures")
    op.drop_table("experiment_assignments")
    op.drop_index(op.f("ix_experiments_section_status"), table_name="experiments")
    op.drop_table("experiments")

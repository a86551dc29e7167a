"""Initial schema: users, interactions, interaction_history, settings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default="1"),
        sa.Column("favourite_genres", sa.JSON(), nullable=False, server_default="[]"),
        sa.Column("onboarding_step", sa.String(16), nullable=False, server_default="genres"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.CheckConstraint(
            "onboarding_step IN ('genres', 'movies', 'tv', 'done')",
            name=op.f("ck_users_onboarding_step"),
        ),
        sqlite_autoincrement=True,  # never reuse a deleted user's id
    )
    op.create_table(
        "interactions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tconst", sa.String(12), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "tconst", name=op.f("pk_interactions")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_interactions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("value IN (-1, 1, 2)", name=op.f("ck_interactions_value")),
    )
    op.create_table(
        "interaction_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tconst", sa.String(12), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_history")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_interaction_history_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("value IS NULL OR value IN (-1, 1, 2)", name=op.f("ck_interaction_history_value")),
        sqlite_autoincrement=True,  # ids only grow: the tie-breaker for equal timestamps
    )
    op.create_index(
        op.f("ix_interaction_history_user_id_created_at"),
        "interaction_history",
        ["user_id", "created_at"],
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_index(op.f("ix_interaction_history_user_id_created_at"), table_name="interaction_history")
    op.drop_table("interaction_history")
    op.drop_table("interactions")
    op.drop_table("users")

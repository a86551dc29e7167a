"""Hidden titles: "Not interested" hides a title from the feed without counting as a dislike.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "hidden_titles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tconst", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_hidden_titles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "tconst", name=op.f("pk_hidden_titles")),
    )


def downgrade() -> None:
    op.drop_table("hidden_titles")

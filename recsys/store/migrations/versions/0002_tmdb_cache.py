"""TMDb cache: posters and overviews looked up by IMDb id, hits and misses with their age.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "tmdb_cache",
        sa.Column("tconst", sa.String(12), nullable=False),
        sa.Column("tmdb_id", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(8), nullable=True),
        sa.Column("poster_url", sa.String(512), nullable=True),
        sa.Column("overview", sa.String(), nullable=True),
        sa.Column("hit", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tconst", name=op.f("pk_tmdb_cache")),
        sa.CheckConstraint(
            "media_type IS NULL OR media_type IN ('movie', 'tv')",
            name=op.f("ck_tmdb_cache_media_type"),
        ),
    )


def downgrade() -> None:
    op.drop_table("tmdb_cache")

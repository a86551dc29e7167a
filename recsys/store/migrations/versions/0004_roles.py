"""Roles and session versions: admin / analyst / tester, and a counter that revokes old cookies.

Every existing account becomes a tester except the oldest one, which becomes the admin (on an
install that had accounts before roles existed, the first account is the one that set it up).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="tester"))
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.create_check_constraint("role", "role IN ('admin', 'analyst', 'tester')")
    op.execute("UPDATE users SET role = 'admin' WHERE id = (SELECT MIN(id) FROM users)")


def downgrade() -> None:
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint("role", type_="check")
        batch.drop_column("session_version")
        batch.drop_column("role")

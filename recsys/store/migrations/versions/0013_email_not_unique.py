"""Emails are not unique (issue 21: registration revealed which emails exist). A sign-up with an
email already on an account now succeeds like any other, so the form answers the same for every
email; the email is contact information only (sign-in is by username, nothing is sent to it).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint("uq_users_email", type_="unique")


def downgrade() -> None:  # fails while two accounts share an email: remove one first
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.create_unique_constraint("uq_users_email", ["email"])

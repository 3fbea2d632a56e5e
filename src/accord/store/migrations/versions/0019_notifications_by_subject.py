"""notifications found by subject and rule: whether an occurrence was already told is one index lookup, not a scan

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 00:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision: str | None = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notifications_subject", "notifications", ["subject", "rule"])


def downgrade() -> None:
    op.drop_index("ix_notifications_subject", table_name="notifications")

"""a held channel keeps why it is held: a failed probe updates the hold, not every row waiting on the channel

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision: str | None = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_counters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_counters", schema=None) as batch_op:
        batch_op.drop_column("hold_error")

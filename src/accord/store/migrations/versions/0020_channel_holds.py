"""a channel held while its peer does not answer: rows queued meanwhile wait with it instead of each being tried

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import accord.store.types

revision = "0020"
down_revision: str | None = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_counters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_until", accord.store.types.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_counters", schema=None) as batch_op:
        batch_op.drop_column("held_until")

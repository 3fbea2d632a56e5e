"""the peer's roster of officers who may be named as recipients

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_roster",
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("published_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("party", "username"),
    )


def downgrade() -> None:
    op.drop_table("peer_roster")

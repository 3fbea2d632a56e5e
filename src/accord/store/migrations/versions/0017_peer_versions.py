"""the wire versions each pinned peer last advertised, and when

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 11:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store.types import UtcDateTime

revision = "0017"
down_revision: str | None = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peer_versions",
        sa.Column("peer_node_id", sa.String(length=64), nullable=False),
        sa.Column("advertised", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("peer_node_id", name=op.f("pk_peer_versions")),
    )


def downgrade() -> None:
    op.drop_table("peer_versions")

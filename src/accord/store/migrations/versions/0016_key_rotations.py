"""key rotations: this node's own and its peers' signed rotation statements

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store.types import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_rotations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("old_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("new_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("new_key", sa.Text(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("issued_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("overlap_until", UtcDateTime(timezone=True), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("settled_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_rotations")),
        sa.UniqueConstraint("node_id", "role", "new_fingerprint", name="uq_key_rotations_new_key"),
    )
    op.create_index("ix_key_rotations_node", "key_rotations", ["node_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_key_rotations_node", table_name="key_rotations")
    op.drop_table("key_rotations")

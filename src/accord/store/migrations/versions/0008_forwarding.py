"""forwards inside one's own state and consent requests to the originator

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forwarded_to", sa.Text(), nullable=True))
    op.create_table(
        "forwards",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("from_agency", sa.String(length=32), nullable=False),
        sa.Column("from_officer", sa.String(length=128), nullable=False),
        sa.Column("originator_agency", sa.String(length=32), nullable=False),
        sa.Column("to_party", sa.String(length=8), nullable=False),
        sa.Column("to_agency", sa.String(length=32), nullable=False),
        sa.Column("to_officer", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("consent_request_id", sa.String(length=36), nullable=True),
        sa.Column("consent_answer_id", sa.String(length=36), nullable=True),
        sa.Column("consent_conditions", sa.Text(), nullable=True),
        sa.Column("notice_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_forwards_message", "forwards", ["message_id"])
    op.create_index("ix_forwards_consent", "forwards", ["consent_request_id"])


def downgrade() -> None:
    op.drop_index("ix_forwards_consent", table_name="forwards")
    op.drop_index("ix_forwards_message", table_name="forwards")
    op.drop_table("forwards")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("forwarded_to")

"""mistreatment-risk assessments as records (person, case, factors, assessor, conclusion, validity)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import accord.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mistreatment_assessments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("assessor", sa.String(length=128), nullable=False),
        sa.Column("conclusion", sa.String(length=32), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("recorded_at", accord.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("pack", sa.String(length=128), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mistreatment_assessments")),
    )
    with op.batch_alter_table("mistreatment_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mistreatment_assessments_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mistreatment_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mistreatment_assessments_case_id"))
    op.drop_table("mistreatment_assessments")

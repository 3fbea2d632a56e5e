"""sign-in throttling and counted refusals: failures per account and per source, lockouts, refusal counters

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import accord.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", accord.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_at", accord.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject_kind", "subject", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_last_failure_at", ["last_failure_at"], unique=False)

    op.create_table(
        "refusal_counts",
        sa.Column("window_start", accord.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("problem", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("refusals", sa.BigInteger(), nullable=False),
        sa.Column("first_at", accord.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_at", accord.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("logged_at", accord.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("logged_refusals", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("window_start", "endpoint", "problem", "source", name=op.f("pk_refusal_counts")),
    )

    op.create_table(
        "refused_envelopes",
        sa.Column("jti_sha256", sa.String(length=64), nullable=False),
        sa.Column("refused_at", accord.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti_sha256", name=op.f("pk_refused_envelopes")),
    )
    with op.batch_alter_table("refused_envelopes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refused_envelopes_refused_at"), ["refused_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refused_envelopes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refused_envelopes_refused_at"))
    op.drop_table("refused_envelopes")
    op.drop_table("refusal_counts")
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_failures_last_failure_at")
    op.drop_table("sign_in_failures")

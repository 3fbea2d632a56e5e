"""ledger alarms: acknowledgement (who acknowledged an alarm, when, with what note) and the subject each is raised
once for

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import accord.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_alarms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", accord.store.types.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("acknowledgement", sa.Text(), nullable=True))
        batch_op.create_index("ix_ledger_alarms_open", ["acknowledged_at", "id"], unique=False)
        batch_op.create_index("ix_ledger_alarms_kind", ["kind", "id"], unique=False)
        batch_op.create_index("ix_ledger_alarms_subject", ["origin", "kind", "subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_alarms", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_alarms_subject")
        batch_op.drop_index("ix_ledger_alarms_kind")
        batch_op.drop_index("ix_ledger_alarms_open")
        batch_op.drop_column("acknowledgement")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("subject")

"""notifications to officers: each officer's address and duty, notices in the app, the mail outbox, muted rules

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 09:00:00.000000
"""

from __future__ import annotations

from email.utils import parseaddr

import sqlalchemy as sa
from alembic import op

from accord.store.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("duty", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("officers") as batch:
        batch.alter_column("duty", server_default=None)
    _move_addresses_out_of_names()
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("officer_id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"], name=op.f("fk_notifications_officer_id_officers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("officer_id", "rule", "subject", name="uq_notifications_once"),
    )
    op.create_index("ix_notifications_officer", "notifications", ["officer_id", "id"])
    op.create_table(
        "notification_mail",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("smtp_message_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_mail_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_mail")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_notification_mail_notification_id")),
    )
    op.create_index("ix_notification_mail_due", "notification_mail", ["next_attempt_at", "id"])
    op.create_table(
        "notification_mutes",
        sa.Column("officer_id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("muted_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_notification_mutes_officer_id_officers")
        ),
        sa.PrimaryKeyConstraint("officer_id", "rule", name=op.f("pk_notification_mutes")),
    )
    op.create_table(
        "notifier_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_event", sa.BigInteger(), nullable=False),
        sa.Column("deadlines_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_state")),
    )
    # A node that already has a ledger starts telling of what happens from now on, not of its whole history.
    op.execute("INSERT INTO notifier_state (id, next_event) SELECT 1, size FROM ledger_head WHERE id = 1")


def _move_addresses_out_of_names() -> None:
    """Earlier versions kept an officer's address in the display name ("Name <address>"): it moves to `email`."""
    officers = sa.table(
        "officers", sa.column("id", sa.String), sa.column("display_name", sa.Text), sa.column("email", sa.String)
    )
    conn = op.get_bind()
    for row in conn.execute(sa.select(officers.c.id, officers.c.display_name)).all():
        name, address = parseaddr(row.display_name)
        if "<" in row.display_name and "@" in address:
            conn.execute(
                sa.update(officers).where(officers.c.id == row.id).values(display_name=name or address, email=address)
            )


def downgrade() -> None:
    op.drop_table("notifier_state")
    op.drop_table("notification_mutes")
    op.drop_index("ix_notification_mail_due", table_name="notification_mail")
    op.drop_table("notification_mail")
    op.drop_index("ix_notifications_officer", table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("officers") as batch:
        batch.drop_column("duty")
        batch.drop_column("email")

"""full-text search over messages: their words, and each store's index over them (FTS5 on SQLite, GIN on
PostgreSQL); the messages already stored are indexed

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store.search import POSTGRESQL_DDL, SQLITE_DDL, SQLITE_DROP, index_messages

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_messages = sa.table(
    "messages", sa.column("id", sa.String), sa.column("content", sa.Text), sa.column("purged_at", sa.DateTime)
)
_BATCH = 500


def upgrade() -> None:
    op.create_table(
        "message_search",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name="fk_message_search_message_id_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_message_search"),
        sa.UniqueConstraint("message_id", name="uq_message_search_message_id"),
    )
    conn = op.get_bind()
    for statement in SQLITE_DDL if conn.dialect.name == "sqlite" else POSTGRESQL_DDL:
        op.execute(statement)
    last = ""
    while True:
        rows = conn.execute(
            sa.select(_messages.c.id, _messages.c.content)
            .where(_messages.c.id > last, _messages.c.purged_at.is_(None))
            .order_by(_messages.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        index_messages(conn, {row.id: row.content for row in rows})
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.drop_table("message_search")

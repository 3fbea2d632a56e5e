"""hit/no-hit matching: the party's holdings, their encodings per matching key, queries both ways, references and
follow-ups

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 02:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store.types import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_holdings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_agency", sa.String(length=32), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("retain_until", sa.Date(), nullable=False),
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("imported_by", sa.String(length=128), nullable=False),
        sa.Column("imported_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_match_holdings"),
        sa.UniqueConstraint("owner_agency", "record_type", "label", name="uq_match_holdings_label"),
    )
    op.create_index("ix_match_holdings_type", "match_holdings", ["owner_agency", "record_type"])
    op.create_table(
        "match_encodings",
        sa.Column("holding_id", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.Text(), nullable=False),
        sa.Column("made_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["holding_id"], ["match_holdings.id"], name="fk_match_encodings_holding_id_match_holdings"
        ),
        sa.PrimaryKeyConstraint("holding_id", "key_id", name="pk_match_encodings"),
    )
    op.create_table(
        "match_lookups",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("scheme", sa.String(length=32), nullable=False),
        sa.Column("blind_index", sa.String(length=128), nullable=False),
        sa.Column("holding_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["holding_id"], ["match_holdings.id"], name="fk_match_lookups_holding_id_match_holdings"
        ),
        sa.PrimaryKeyConstraint("key_id", "scheme", "blind_index", "holding_id", name="pk_match_lookups"),
    )
    op.create_table(
        "match_queries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("querying_party", sa.String(length=8), nullable=False),
        sa.Column("querying_agency", sa.String(length=32), nullable=False),
        sa.Column("queried_agency", sa.String(length=32), nullable=False),
        sa.Column("officer", sa.String(length=128), nullable=False),
        sa.Column("focus_area", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_match_queries"),
    )
    op.create_index("ix_match_queries_period", "match_queries", ["direction", "querying_party", "created_at"])
    op.create_table(
        "match_query_rows",
        sa.Column("query_id", sa.String(length=36), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("hit", sa.Boolean(), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("band", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["query_id"], ["match_queries.id"], name="fk_match_query_rows_query_id_match_queries"),
        sa.PrimaryKeyConstraint("query_id", "row", name="pk_match_query_rows"),
    )
    op.create_table(
        "match_references",
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("query_id", sa.String(length=36), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("holding_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("request_message_id", sa.String(length=36), nullable=True),
        sa.Column("released_message_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("reference", name="pk_match_references"),
    )
    op.create_table(
        "match_followups",
        sa.Column("query_id", sa.String(length=36), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("request_message_id", sa.String(length=36), nullable=False),
        sa.Column("response_message_id", sa.String(length=36), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("released_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("query_id", "row", name="pk_match_followups"),
        sa.UniqueConstraint("request_message_id", name="uq_match_followups_request_message_id"),
    )


def downgrade() -> None:
    op.drop_index("ix_match_queries_period", table_name="match_queries")
    op.drop_index("ix_match_holdings_type", table_name="match_holdings")
    for table in (
        "match_followups",
        "match_references",
        "match_query_rows",
        "match_queries",
        "match_lookups",
        "match_encodings",
    ):
        op.drop_table(table)
    op.drop_table("match_holdings")

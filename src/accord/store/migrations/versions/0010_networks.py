"""organised-crime networks: cases' entities (FollowTheMoney), their provenance, cross-references and judgements

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 23:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from accord.store.types import UtcDateTime


def _row_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_cases",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_agency", sa.String(length=32), nullable=False),
        sa.Column("origin_party", sa.String(length=8), nullable=False),
        sa.Column("focus_area", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("caveats", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_network_cases"),
    )
    op.create_table(
        "network_entities",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("schema", sa.String(length=64), nullable=False),
        sa.Column("caption", sa.String(length=512), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("first_seen", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "entity_id", name="pk_network_entities"),
    )
    op.create_index("ix_network_entities_schema", "network_entities", ["case_id", "schema"])
    op.create_table(
        "network_provenance",
        sa.Column("row_id", _row_id(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("party", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("source", sa.String(length=256), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("row_id", name="pk_network_provenance"),
    )
    op.create_index("ix_network_provenance_entity", "network_provenance", ["case_id", "entity_id"])
    op.create_index("ix_network_provenance_message", "network_provenance", ["message_id"])
    op.create_table(
        "network_matches",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("entity_id", sa.String(length=256), nullable=False),
        sa.Column("match_case_id", sa.String(length=36), nullable=False),
        sa.Column("match_entity_id", sa.String(length=256), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("found_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "entity_id", "match_case_id", "match_entity_id", name="pk_network_matches"),
    )
    op.create_table(
        "network_judgements",
        sa.Column("left_key", sa.String(length=300), nullable=False),
        sa.Column("right_key", sa.String(length=300), nullable=False),
        sa.Column("judgement", sa.String(length=16), nullable=False),
        sa.Column("officer", sa.String(length=128), nullable=False),
        sa.Column("decided_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("left_key", "right_key", name="pk_network_judgements"),
    )


def downgrade() -> None:
    op.drop_table("network_judgements")
    op.drop_table("network_matches")
    op.drop_index("ix_network_provenance_message", table_name="network_provenance")
    op.drop_index("ix_network_provenance_entity", table_name="network_provenance")
    op.drop_table("network_provenance")
    op.drop_index("ix_network_entities_schema", table_name="network_entities")
    op.drop_table("network_entities")
    op.drop_table("network_cases")

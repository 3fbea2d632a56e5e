"""the handling a share's STIX objects landed under (TLP, caveats, classification), so TAXII reads apply it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 17:00:00.000000
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# FIRST TLP 2.0, least to most restricted (as of this revision; a migration does not follow later code).
_TLP_ORDER = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")

_messages = sa.table(
    "messages",
    sa.column("id", sa.String),
    sa.column("kind", sa.String),
    sa.column("direction", sa.String),
    sa.column("sender_party", sa.String),
    sa.column("sender_agency", sa.String),
    sa.column("recipient_officer", sa.String),
    sa.column("received_at", sa.DateTime),
    sa.column("content", sa.Text),
)
_objects = sa.table(
    "stix_objects",
    sa.column("row_id", sa.BigInteger),
    sa.column("object_id", sa.String),
    sa.column("version", sa.String),
    sa.column("tlp", sa.String),
    sa.column("added_by", sa.String),
    sa.column("share_id", sa.String),
    sa.column("share_level", sa.String),
    sa.column("share_caveats", sa.String),
)
_named_readers = sa.table(
    "stix_named_readers", sa.column("object_row", sa.BigInteger), sa.column("username", sa.String)
)


def upgrade() -> None:
    with op.batch_alter_table("stix_objects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("share_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("share_level", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("share_caveats", sa.String(length=32), nullable=True))
    _record_landed_shares(op.get_bind())


def downgrade() -> None:
    # The stricter TLPs recorded by the upgrade stay: they are what the shares allowed.
    with op.batch_alter_table("stix_objects", schema=None) as batch_op:
        batch_op.drop_column("share_caveats")
        batch_op.drop_column("share_level")
        batch_op.drop_column("share_id")


def _record_landed_shares(conn: sa.Connection) -> None:
    """Objects the partner's shares landed before this revision get the share they came from (the first received
    that holds the same id and version, from the same sender), its level and caveats, and the stricter of their own
    TLP and the share's; one that turns TLP:RED gets the share's named readers. Without this an upgraded node would
    go on serving them under their own, possibly weaker, marking."""
    shares = _landing_shares(conn)
    if not shares:
        return
    landed = conn.execute(
        sa.select(_objects.c.row_id, _objects.c.object_id, _objects.c.version, _objects.c.tlp, _objects.c.added_by)
        .where(_objects.c.share_id.is_(None), _objects.c.added_by.contains(":"))  # "IN:CERT-In": a partner's share
        .order_by(_objects.c.row_id)
    ).all()
    for row in landed:
        exact, unversioned = (row.added_by, row.object_id, row.version), (row.added_by, row.object_id, None)
        found = shares.get(exact) or shares.get(unversioned)
        if found is None:
            continue
        message_id, handling, named = found
        tlp = max(row.tlp, handling.get("tlp", "RED"), key=_TLP_ORDER.index)
        conn.execute(
            sa.update(_objects)
            .where(_objects.c.row_id == row.row_id)
            .values(
                share_id=message_id,
                share_level=handling.get("level", "top_secret"),
                share_caveats=",".join(handling.get("caveats") or ()),
                tlp=tlp,
            )
        )
        if tlp == "RED" and row.tlp != "RED" and named:
            conn.execute(sa.insert(_named_readers), [{"object_row": row.row_id, "username": n} for n in named])


def _landing_shares(conn: sa.Connection) -> dict[tuple[str, str, str | None], tuple[str, dict[str, Any], list[str]]]:
    """(sender, object id, version) → the first incoming share carrying it: its id, handling and named readers."""
    found: dict[tuple[str, str, str | None], tuple[str, dict[str, Any], list[str]]] = {}
    rows = conn.execute(
        sa.select(
            _messages.c.id,
            _messages.c.sender_party,
            _messages.c.sender_agency,
            _messages.c.recipient_officer,
            _messages.c.content,
        )
        .where(_messages.c.kind == "share", _messages.c.direction == "incoming")
        .order_by(_messages.c.received_at, _messages.c.id)
    )
    for message in rows:
        content = json.loads(message.content)
        stix = content.get("stix") or {}
        handling = content.get("handling") or {}
        named = list(handling.get("named_recipients") or ())
        if message.recipient_officer and message.recipient_officer not in named:
            named.append(message.recipient_officer)
        sender = f"{message.sender_party}:{message.sender_agency}"
        for obj in stix.get("objects") or ():
            if isinstance(obj, dict) and isinstance(obj.get("id"), str):
                version = obj.get("modified") or obj.get("created")
                found.setdefault((sender, obj["id"], version), (message.id, handling, named))
                found.setdefault((sender, obj["id"], None), (message.id, handling, named))
    return found

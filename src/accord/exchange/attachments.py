"""Content-addressed attachment store: bytes in the data directory by SHA-256, rows in `blobs`."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select

from accord.directory.officers import Officer
from accord.errors import InvalidInput, NotFound, PayloadTooLarge
from accord.exchange.mailbox import readable_rows
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import blobs, message_attachments, messages

_MEDIA_TYPE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-/")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int
    media_type: str


def blob_path(node: Node, sha256: str) -> Path:
    return node.blob_dir / sha256[:2] / sha256


def store_blob(
    node: Node, data: bytes, media_type: str, origin: str, actor: str, agency: str | None = None
) -> StoredBlob:
    """Write the bytes (atomically, once) and record them; storing the same bytes again changes nothing."""
    if len(data) > node.settings.max_attachment_bytes:
        raise PayloadTooLarge(
            _("attachment has {count} bytes; the limit is {max_attachment_bytes}").format(
                count=len(data), max_attachment_bytes=node.settings.max_attachment_bytes
            )
        )
    if not data:
        raise InvalidInput(_("an attachment cannot be empty"))
    media_type = media_type.split(";")[0].strip().lower() or "application/octet-stream"
    if not set(media_type) <= _MEDIA_TYPE_CHARS or "/" not in media_type:
        raise InvalidInput(_("{media_type!r} is not a media type").format(media_type=media_type))
    sha256 = hashlib.sha256(data).hexdigest()
    path = blob_path(node, sha256)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # mkstemp makes the file itself 0600
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    with node.engine.begin() as conn:
        if conn.execute(select(blobs.c.sha256).where(blobs.c.sha256 == sha256)).first() is None:
            conn.execute(
                insert(blobs),
                [
                    {
                        "sha256": sha256,
                        "size": len(data),
                        "media_type": media_type,
                        "origin": origin,
                        "uploaded_by_agency": agency,
                        "stored_at": datetime.now(UTC),
                    }
                ],
            )
            append_event(conn, EventType.ATTACHMENT_STORED, actor, {"sha256": sha256, "origin": origin})
    return StoredBlob(sha256, len(data), media_type)


def read_blob_bytes(node: Node, sha256: str) -> bytes:
    data = blob_path(node, sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise NotFound(_("attachment {sha256} is damaged on disk; restore it from backup").format(sha256=sha256))
    return data


def read_attachment(node: Node, officer: Officer, sha256: str) -> tuple[bytes, str]:
    """An officer may read an attachment their agency uploaded or one on a message their agency can see. One they may
    not read is answered exactly as one that does not exist (and after the same queries): otherwise the answer would
    tell that it was exchanged."""
    with node.engine.connect() as conn:
        row = conn.execute(select(blobs).where(blobs.c.sha256 == sha256)).first()
        own = row is not None and row.uploaded_by_agency == officer.agency
        readable = own or _on_a_readable_message(node, conn, officer, sha256)
        if row is None or not readable:
            raise NotFound(_("no attachment {sha256} that you may read").format(sha256=sha256))
    return read_blob_bytes(node, sha256), row.media_type


@dataclass(frozen=True, slots=True)
class OpenedAttachment:
    data: bytes
    media_type: str
    name: str


def read_message_attachment(node: Node, officer: Officer, message_id: str, sha256: str) -> OpenedAttachment:
    """An attachment as the message it came on names it, for an officer who may read that message. Any other answers
    as one that does not exist, so a message or a file the officer may not read is not told apart from none."""
    with node.engine.connect() as conn:
        row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
        readable = row is not None and bool(readable_rows(node, officer, [row]))
        named = json.loads(row.content).get("attachments", []) if readable and row is not None else []
    found = next((a for a in named if isinstance(a, dict) and a.get("sha256") == sha256), None)
    if found is None:
        raise NotFound(_("no attachment {sha256} that you may read").format(sha256=sha256))
    media_type = str(found.get("media_type") or "application/octet-stream")
    return OpenedAttachment(read_blob_bytes(node, sha256), media_type, str(found.get("name") or sha256))


def _on_a_readable_message(node: Node, conn: Connection, officer: Officer, sha256: str) -> bool:
    carriers = conn.execute(
        select(messages)
        .join(message_attachments, message_attachments.c.message_id == messages.c.id)
        .where(message_attachments.c.sha256 == sha256)
    ).all()
    return bool(readable_rows(node, officer, carriers))

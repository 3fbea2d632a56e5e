"""Key rotation with overlap, both sides of the channel.

The rotating node (`rotate_own_key`) makes the new key, signs a rotation statement (`crypto.rotation`) with the
signing key its peer has pinned, archives the old private key (keys/archive/, mode 600), puts the new one in place and
records the statement as `unsent`, all in one step that the ledger records (`key.rotated`); the delivery worker takes
the statement to the peer before anything else (`exchange.rotation`). From then on the node signs with the new key
and opens envelopes sealed to either encryption key.

The peer (`accept_rotation`) verifies the statement against the signing key it has pinned and in force, never a key
the statement carries; it must replace the key of its role in force by a key never pinned before, be addressed to
this node and not come from the future. It then pins the new key, keeps the old one (accepted for new artefacts until
the overlap ends, for history always) and records `peer.key_rotated`. The statement it applied is kept, so the same
statement sent again is answered as applied and changes nothing, while an older one (its old key no longer in force)
is refused. An emergency statement (the old key was compromised) has no overlap and is only held
(`peer.key_rotation_held`): its signature proves nothing, so it takes effect when this node's operator confirms the new
fingerprint read out by the other operator (`confirm_rotation`), and both ledgers mark it as an emergency.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joserfc.jwk import OKPKey
from sqlalchemy import Connection, Row, func, insert, select, update

from accord.crypto.errors import UnknownSender
from accord.crypto.keys import KeyRole, NodeKeys, generate_key, key_files_stamp, replace_key
from accord.crypto.rotation import (
    DEFAULT_OVERLAP,
    MAX_OVERLAP,
    RotationRefused,
    RotationStatement,
    rotation_signer,
    sign_rotation,
    verify_rotation,
)
from accord.crypto.signing import unverified_claims
from accord.errors import InvalidInput, NotFound
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.node import KEY_DIR, Node
from accord.policy.installed import installed_dir
from accord.policy.pack import reseal_installed_pack
from accord.store.tables import key_rotations, peers
from accord.trust.peers import ACCEPTED, PeerRecord, load_peers

UNSENT = "unsent"  # this node's statement, not yet taken by the peer
DELIVERED = "delivered"  # this node's statement, taken by the peer
HELD = "held"  # a peer's emergency statement, waiting for this node's operator
DISCARDED = "discarded"  # a held statement another rotation made moot
MAX_HELD = 3  # held emergency statements per peer: a compromised key cannot fill the table
OPERATOR = "operator"  # who acts at the node's command line


@dataclass(frozen=True, slots=True)
class OwnRotation:
    """A rotation of this node's key, as made."""

    role: KeyRole
    old_fingerprint: str
    new_fingerprint: str
    overlap_until: datetime
    emergency: bool
    archived: Path  # the old private key, kept
    peer: str | None  # the node the statement is addressed to (None: no peer is pinned yet)


@dataclass(frozen=True, slots=True)
class PeerRotation:
    """A peer's rotation as this node took it: applied, or held for the operator's confirmation."""

    peer: str
    role: KeyRole
    old_fingerprint: str
    new_fingerprint: str
    overlap_until: datetime
    emergency: bool
    held: bool


# ------------------------------------------------------------------------------------------- the rotating node


def rotate_own_key(
    node: Node, role: KeyRole, *, overlap: timedelta = DEFAULT_OVERLAP, emergency: bool = False
) -> OwnRotation:
    """Replace this node's `role` key; the statement waits for the delivery worker (or `exchange.rotation`)."""
    if not timedelta(0) < overlap <= MAX_OVERLAP and not emergency:
        raise InvalidInput(
            _("the overlap is {overlap}; it must be more than nothing and at most {days} days").format(
                overlap=overlap, days=MAX_OVERLAP.days
            )
        )
    refresh_keys(node)
    key_dir = node.settings.data_dir / KEY_DIR
    old_keys = node.keys
    old, new = old_keys.key(role), generate_key(role)
    issued = datetime.now(UTC).replace(microsecond=0)
    until = issued if emergency else issued + overlap
    with node.engine.begin() as conn:
        pinned = load_peers(node, conn)
        peer = pinned[0].node_id if pinned else None
        statement = RotationStatement(
            node_id=node.node_id,
            aud=peer or "",
            role=role,
            old_key=_public(old),
            new_key=_public(new),
            issued_at=issued,
            overlap_until=until,
            emergency=emergency,
        )
        token = sign_rotation(statement, old_keys.signing)
        _record(conn, node.node_id, statement, token, UNSENT if peer else DELIVERED)
        append_event(conn, EventType.KEY_ROTATED, OPERATOR, _refs(statement))
        # The key files change last, inside the transaction: if they cannot, nothing is recorded.
        archived = replace_key(key_dir, role, old, new)
    node.keys = NodeKeys.load(key_dir)
    if role is KeyRole.SIGNING:
        reseal_installed_pack(installed_dir(node.settings.data_dir), old_keys.public, node.keys)
    node.outbox_signal.set()
    return OwnRotation(role, statement.old_fingerprint, statement.new_fingerprint, until, emergency, archived, peer)


def refresh_keys(node: Node) -> None:
    """Take the key files in force if a rotation (at the command line, in another process) replaced them."""
    key_dir = node.settings.data_dir / KEY_DIR
    if key_files_stamp(key_dir) != node.keys.stamp:
        node.keys = NodeKeys.load(key_dir)


@dataclass(frozen=True, slots=True)
class UnsentRotation:
    id: int
    peer: str
    statement: str


def unsent_rotations(node: Node) -> list[UnsentRotation]:
    """This node's statements the peer has not taken yet, the oldest first."""
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(key_rotations.c.id, key_rotations.c.statement)
            .where(key_rotations.c.node_id == node.node_id, key_rotations.c.state == UNSENT)
            .order_by(key_rotations.c.id)
        ).all()
    found = []
    for row in rows:
        aud = unverified_claims(row.statement).get("aud", "")  # this node's own statement, signed here
        found.append(UnsentRotation(row.id, str(aud), row.statement))
    return found


def taken_by_peer(node: Node, rotation: OwnRotation) -> bool:
    """Whether the peer has taken this node's statement, whoever offered it (the command, or a running node's
    delivery worker, which may have been first)."""
    with node.engine.connect() as conn:
        state = conn.scalar(
            select(key_rotations.c.state).where(
                key_rotations.c.node_id == node.node_id,
                key_rotations.c.role == rotation.role.value,
                key_rotations.c.new_fingerprint == rotation.new_fingerprint,
            )
        )
    return state == DELIVERED


def mark_delivered(node: Node, rotation: UnsentRotation, held: bool) -> None:
    with node.engine.begin() as conn:
        changed = conn.execute(
            update(key_rotations)
            .where(key_rotations.c.id == rotation.id, key_rotations.c.state == UNSENT)
            .values(state=DELIVERED, settled_at=datetime.now(UTC))
        ).rowcount
        if changed:
            refs: dict[str, str | int | None] = {
                "peer": rotation.peer,
                "statement": rotation.id,
                "held": "yes" if held else None,
            }
            append_event(conn, EventType.KEY_ROTATION_DELIVERED, node.node_id, refs)


# ------------------------------------------------------------------------------------------------ the peer


def accept_rotation(node: Node, token: str) -> PeerRotation:
    """Verify a pinned peer's statement against its signing key in force and apply it (an emergency one: hold it).

    Nothing is stored unless the statement verifies; the statement this node already took answers as before."""
    token = token.strip()
    kid = rotation_signer(token)
    with node.engine.begin() as conn:
        if (known := _taken(node, conn, token)) is not None:
            return known
        try:
            verify_rotation(token, _signer(load_peers(node, conn), kid).pinned.keys)  # a stranger's stops here
        except RotationRefused:
            # On PostgreSQL each statement reads what is committed when it starts: a request offering the same
            # statement may have taken it, and retired its signer, since the check above (seen once in a CI run).
            if (known := _taken(node, conn, token)) is not None:
                return known
            raise
        # Then one statement judged at a time: on PostgreSQL two requests would otherwise judge against the same pins,
        # and both take one statement offered twice at once (the operator's command and the delivery worker), or each
        # take one of two statements by the same key, recording both (SQLite's writers are serialised already). What
        # follows reads the pins as the lock leaves them.
        conn.execute(select(peers.c.node_id).with_for_update())
        if (known := _taken(node, conn, token)) is not None:
            return known
        peer = _signer(load_peers(node, conn), kid)
        statement = verify_rotation(token, peer.pinned.keys)
        _check_addressing(node, peer, statement)
        _check_new_key(conn, peer, statement)
        if statement.emergency:
            _check_room(conn, peer.node_id)
            _record(conn, peer.node_id, statement, token, HELD)
            append_event(conn, EventType.PEER_KEY_ROTATION_HELD, peer.node_id, _refs(statement, peer.node_id))
        else:
            _record(conn, peer.node_id, statement, token, ACCEPTED, settled=datetime.now(UTC))
            _repin(conn, peer.node_id, statement)
            append_event(conn, EventType.PEER_KEY_ROTATED, peer.node_id, _refs(statement, peer.node_id))
    return _peer_rotation(peer.node_id, statement, held=statement.emergency)


def _taken(node: Node, conn: Connection, token: str) -> PeerRotation | None:
    """Exactly a statement this node took (verified then): the same answer, nothing changes. Its signer may be
    retired by now, since the statement itself retired it."""
    known = conn.execute(
        select(key_rotations).where(key_rotations.c.node_id != node.node_id, key_rotations.c.statement == token)
    ).first()
    return None if known is None else _as_peer_rotation(known)


def confirm_rotation(node: Node, fingerprint: str) -> PeerRotation:
    """The operator compared `fingerprint` with the one the peer's operator read out: apply the held emergency
    statement naming that new key."""
    fingerprint = fingerprint.strip()
    with node.engine.begin() as conn:
        held = conn.execute(
            select(key_rotations).where(key_rotations.c.state == HELD).order_by(key_rotations.c.id)
        ).all()
        if not held:
            raise NotFound(_("no emergency key rotation of a peer is waiting for confirmation"))
        row = next((r for r in held if r.new_fingerprint == fingerprint), None)
        if row is None:
            raise InvalidInput(
                _(
                    "no held emergency rotation names key {fingerprint}: the fingerprint read out does not match. "
                    "Do not accept; call the peer's operator on a known number"
                ).format(fingerprint=fingerprint)
            )
        peer = next(p for p in load_peers(node, conn) if p.node_id == row.node_id)
        # Verified again, against the keys in force now: another rotation may have been applied since it was held.
        statement = verify_rotation(row.statement, peer.pinned.keys)
        now = datetime.now(UTC)
        conn.execute(update(key_rotations).where(key_rotations.c.id == row.id).values(state=ACCEPTED, settled_at=now))
        conn.execute(
            update(key_rotations)
            .where(
                key_rotations.c.node_id == row.node_id,
                key_rotations.c.role == row.role,
                key_rotations.c.state == HELD,
            )
            .values(state=DISCARDED, settled_at=now)
        )
        _repin(conn, peer.node_id, statement)
        refs = _refs(statement, peer.node_id) | {"confirmed_by": OPERATOR}
        append_event(conn, EventType.PEER_KEY_ROTATED, OPERATOR, refs)
    return _peer_rotation(peer.node_id, statement, held=False)


def held_rotations(node: Node) -> list[PeerRotation]:
    with node.engine.connect() as conn:
        rows = conn.execute(select(key_rotations).where(key_rotations.c.state == HELD).order_by(key_rotations.c.id))
        return [_as_peer_rotation(row) for row in rows]


def _signer(pinned: list[PeerRecord], kid: str) -> PeerRecord:
    """The pinned peer whose signing key in force is `kid`; a retired key or a stranger's is refused."""
    for peer in pinned:
        if peer.pinned.keys.signing_fingerprint == kid:
            return peer
        if kid in peer.pinned.signing_fingerprints:
            raise RotationRefused(
                _(
                    "the key rotation statement is signed by {node_id}'s retired key {kid}; only its key in force "
                    "{current} may rotate a key"
                ).format(node_id=peer.node_id, kid=kid, current=peer.pinned.keys.signing_fingerprint)
            )
    raise UnknownSender(
        _(
            "no pinned peer has signing key {kid}: a key rotation statement must be signed by the key pinned here"
        ).format(kid=kid)
    )


def _check_addressing(node: Node, peer: PeerRecord, statement: RotationStatement) -> None:
    if statement.node_id != peer.node_id:
        raise RotationRefused(
            _("the statement rotates a key of {named}, but is signed by {node_id}'s key").format(
                named=statement.node_id, node_id=peer.node_id
            )
        )
    if statement.aud != node.node_id:
        raise RotationRefused(
            _("the statement is addressed to {aud!r}, not to this node ({node_id})").format(
                aud=statement.aud, node_id=node.node_id
            )
        )
    skew = timedelta(seconds=node.settings.clock_skew_s)
    if statement.issued_at > datetime.now(UTC) + skew:
        raise RotationRefused(
            _("the statement is dated {issued_at}, in the future").format(issued_at=statement.issued_at.isoformat())
        )


def _check_new_key(conn: Connection, peer: PeerRecord, statement: RotationStatement) -> None:
    """A key once pinned for the peer, even retired, is never pinned again: a rotation goes forward only."""
    earlier = set(peer.pinned.signing_fingerprints) | {peer.pinned.keys.encryption_fingerprint}
    earlier |= set(
        conn.execute(
            select(key_rotations.c.old_fingerprint).where(
                key_rotations.c.node_id == peer.node_id, key_rotations.c.state == ACCEPTED
            )
        ).scalars()
    )
    if statement.new_fingerprint in earlier:
        raise RotationRefused(
            _(
                "the statement's new {role} key {new} was pinned for {node_id} before; a retired key is never reused"
            ).format(role=statement.role, new=statement.new_fingerprint, node_id=peer.node_id)
        )


def _check_room(conn: Connection, peer_node_id: str) -> None:
    count = conn.execute(
        select(func.count())
        .select_from(key_rotations)
        .where(key_rotations.c.node_id == peer_node_id, key_rotations.c.state == HELD)
    ).scalar_one()
    if count >= MAX_HELD:
        raise RotationRefused(
            _(
                "{count} emergency rotations of {node_id} already wait for the operator; confirm one with "
                "`accord peer accept-rotation` first"
            ).format(count=count, node_id=peer_node_id)
        )


def _repin(conn: Connection, peer_node_id: str, statement: RotationStatement) -> None:
    column = "signing_fingerprint" if statement.role is KeyRole.SIGNING else "encryption_fingerprint"
    conn.execute(update(peers).where(peers.c.node_id == peer_node_id).values({column: statement.new_fingerprint}))


def _record(
    conn: Connection,
    node_id: str,
    statement: RotationStatement,
    token: str,
    state: str,
    settled: datetime | None = None,
) -> None:
    conn.execute(
        insert(key_rotations),
        [
            {
                "node_id": node_id,
                "role": statement.role.value,
                "old_fingerprint": statement.old_fingerprint,
                "new_fingerprint": statement.new_fingerprint,
                "new_key": json.dumps(statement.new_key.as_dict(private=False)),
                "statement": token,
                "issued_at": statement.issued_at,
                "overlap_until": statement.overlap_until,
                "emergency": statement.emergency,
                "state": state,
                "recorded_at": datetime.now(UTC),
                "settled_at": settled,
            }
        ],
    )


def _refs(statement: RotationStatement, peer: str | None = None) -> dict[str, str | int | None]:
    return {
        "peer": peer,
        "key": statement.role.value,
        "old": statement.old_fingerprint,
        "new": statement.new_fingerprint,
        "overlap_until": statement.overlap_until.isoformat(),
        "emergency": "yes" if statement.emergency else None,
    }


def _peer_rotation(peer: str, statement: RotationStatement, held: bool) -> PeerRotation:
    return PeerRotation(
        peer,
        statement.role,
        statement.old_fingerprint,
        statement.new_fingerprint,
        statement.overlap_until,
        statement.emergency,
        held,
    )


def _as_peer_rotation(row: Row[tuple[object, ...]]) -> PeerRotation:
    return PeerRotation(
        row.node_id,
        KeyRole(row.role),
        row.old_fingerprint,
        row.new_fingerprint,
        row.overlap_until,
        row.emergency,
        row.state == HELD,
    )


def _public(key: OKPKey) -> OKPKey:
    return OKPKey.import_key(key.as_dict(private=False))

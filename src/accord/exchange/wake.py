"""A node that starts tells its peers, so traffic they held for it leaves now rather than at the next backoff; the hello
and its signed answer carry the wire versions each node speaks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import and_, or_, select, update

from accord.crypto.errors import MalformedArtefact
from accord.crypto.versions import OWN_VERSIONS, VERSIONS_CLAIM, NoCommonVersion, WireVersions, read_versions
from accord.errors import AccordError
from accord.exchange.outbox import release_channel
from accord.exchange.transport import PeerClient, PeerUnreachable
from accord.i18n import _
from accord.ledger.alarms import AlarmKind, Recurrence, raise_alarm
from accord.ledger.notes import origin_for
from accord.node import Node
from accord.store.tables import messages, outbox
from accord.trust.peer_versions import PeerVersions, VersionSource, record_versions
from accord.trust.peers import PeerRecord, load_peers
from accord.trust.requests import sign_peer_request, verify_peer_request

HELLO_TYP = "accord-hello+jws"
log = structlog.get_logger(__name__)


def announce_when_listening(node: Node, stop: threading.Event, wait_s: float = 30.0) -> None:
    """Wait until this node answers on its own address (so the peer's retry finds it up), then announce."""
    own = f"http://{node.settings.host}:{node.settings.port}"
    deadline = time.monotonic() + wait_s
    with PeerClient(timeout_s=5.0, connect_timeout_s=2.0) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            if client.is_healthy(own):
                announce_start(node, client)
                return
            stop.wait(0.1)


def announce_start(node: Node, client: PeerClient) -> None:
    """Send each pinned peer a signed hello with the versions this node speaks; a peer that is down simply does not
    hear it. A peer of this release answers with its own signed hello, whose versions are recorded."""
    with node.engine.connect() as conn:
        peers = load_peers(node, conn)
    for peer in peers:
        try:
            answer = client.send_hello(peer, own_hello(node, peer))
        except PeerUnreachable as exc:
            log.info("peer not reachable at start", peer=peer.node_id, error=exc.detail)
            continue
        reply = answer.body.get("hello") if isinstance(answer.body, dict) else None
        if isinstance(reply, str):
            _record_reply(node, peer, reply)
        if not answer.ok:
            log.warning(
                "peer refused this node's hello",
                peer=peer.node_id,
                status=answer.status,
                problem=answer.problem_slug,
                detail=answer.detail,
            )


def own_hello(node: Node, peer: PeerRecord) -> str:
    """This node's signed hello to `peer`: who it is and the wire versions it speaks."""
    return sign_peer_request(node, peer, HELLO_TYP, **{VERSIONS_CLAIM: OWN_VERSIONS.claim()})


def _record_reply(node: Node, peer: PeerRecord, reply: str) -> None:
    """The peer's signed hello in answer to ours: trusted only if it verifies against the peer's pinned key."""
    try:
        answered = verify_peer_request(node, reply, HELLO_TYP)
        if answered.peer.node_id != peer.node_id:
            raise MalformedArtefact(
                _("the hello answering {peer} is signed by {other}").format(
                    peer=peer.node_id, other=answered.peer.node_id
                )
            )
        advertised = read_versions(answered.claims, "hello")
    except AccordError as exc:
        log.warning("peer's answering hello refused", peer=peer.node_id, problem=exc.slug, detail=exc.detail)
        return
    with node.engine.begin() as conn:
        record_versions(conn, peer.node_id, advertised, VersionSource.HELLO, datetime.now(UTC))
    _check_common(node, PeerVersions(peer.node_id, advertised))


class HelloWithoutCommonVersion(NoCommonVersion):
    """A hello from a peer that shares no version with this node; the answer carries this node's signed hello, so the
    peer's operator learns this node's versions from an artefact it can verify."""

    def __init__(self, problem: NoCommonVersion, hello: str) -> None:
        super().__init__(problem.kind, problem.ours, problem.theirs)
        self.hello = hello

    def extensions(self) -> dict[str, object]:
        return super().extensions() | {"hello": self.hello}


@dataclass(frozen=True, slots=True)
class HelloReply:
    peer: str  # the node id of the peer that said hello
    hello: str  # this node's signed hello in answer, with the versions it speaks


def accept_hello(node: Node, token: str) -> HelloReply:
    """Verify a peer's hello, record the versions it advertises and make everything waiting for that peer due now.

    Only the retry time changes, so a replayed hello within the freshness window costs one early retry at most.
    A peer that shares no version with this node is refused (409), with an alarm for the operator; what waits for it
    stays held.
    """
    request = verify_peer_request(node, token, HELLO_TYP)
    peer = request.peer
    advertised = read_versions(request.claims, "hello")
    now = datetime.now(UTC)
    with node.engine.begin() as conn:
        record_versions(conn, peer.node_id, advertised, VersionSource.HELLO, now)
    reply = own_hello(node, peer)
    refusal = _check_common(node, PeerVersions(peer.node_id, advertised))
    if refusal is not None:
        raise HelloWithoutCommonVersion(refusal, reply)
    waiting = and_(
        outbox.c.peer_node_id == peer.node_id,
        outbox.c.next_attempt_at > now,
        or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
    )
    with node.engine.begin() as conn:
        conn.execute(
            update(messages)
            .where(messages.c.id.in_(select(outbox.c.ref_id).where(waiting)))
            .values(next_attempt_at=now)
        )
        conn.execute(update(outbox).where(waiting).values(next_attempt_at=now))
        release_channel(conn, node.node_id, peer.node_id)
    node.outbox_signal.set()
    log.info("peer announced its start; its queue is due now", peer=peer.node_id, versions=_described(advertised))
    return HelloReply(peer.node_id, reply)


def _check_common(node: Node, versions: PeerVersions) -> NoCommonVersion | None:
    """None if this node and the peer share a version of each kind; else the refusal, logged and alarmed."""
    negotiated = versions.negotiated()
    if not isinstance(negotiated, NoCommonVersion):
        return None
    log.warning("peer shares no wire version with this node", peer=versions.peer_node_id, detail=negotiated.detail)
    raise_alarm(
        node.engine,
        node.node_id,
        origin_for(versions.peer_node_id),
        AlarmKind.NO_COMMON_VERSION,
        negotiated.detail,
        {"peer": versions.peer_node_id} | negotiated.extensions(),
        subject=f"{versions.peer_node_id} {versions.understood.describe()}"[:160],
        recurrence=Recurrence.AFTER_ACKNOWLEDGEMENT,
    )
    return negotiated


def _described(advertised: WireVersions | None) -> str:
    return "none advertised (version 1)" if advertised is None else advertised.describe()

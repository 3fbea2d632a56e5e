"""The cosigner's rules, in process on both backends, with real keys and real notes: a checkpoint request is
authenticated before anything in it is read; stale and replayed checkpoints are refused without an alarm; an alarm is
raised only on a contradiction the peer's own key signed, once per offending note."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import func, select

from accord.crypto.errors import BadSignature, MalformedArtefact
from accord.exchange.witnessing import checkpoint_request, countersign
from accord.ledger.alarms import UNACKNOWLEDGED, AlarmKind, list_alarms
from accord.ledger.checkpoints import CheckpointOutOfStep, InconsistentCheckpoint, StaleCheckpoint
from accord.ledger.events import EventType, append_events, event_row, tree_root
from accord.ledger.notes import CheckpointBody, SignedCheckpoint, sign_checkpoint
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import consistency_proof
from accord.node import Node
from accord.store.tables import checkpoints, ledger_alarms, ledger_head
from accord.trust.peers import load_peers
from accord.trust.requests import PeerNotAuthenticated
from tests.conftest import DatabaseFactory
from tests.integration.forgery import checkpoint_claims, forge_signed_request, sign_request
from tests.ledger.pairs import open_pinned_nodes

CA_LOG = "accord/ca-node-1"


@dataclass
class Pair:
    """Canada's node (the log) and India's (the cosigner under test), open in this process."""

    ca: Node
    india: Node

    def close(self) -> None:
        self.ca.close()
        self.india.close()


@pytest.fixture
def pair(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Pair]:
    ca, india = open_pinned_nodes(databases, tmp_path)
    made = Pair(ca, india)
    yield made
    made.close()


def grow(node: Node, count: int) -> int:
    """Append `count` events to the node's ledger; returns its new size."""
    with node.engine.begin() as conn:
        return append_events(
            conn, [event_row(EventType.MESSAGE_CREATED, "ca.rcmp", {"message": f"m-{i}"}) for i in range(count)]
        ).size


def genuine(pair: Pair, size: int, issued_at: int, root: bytes | None = None) -> SignedCheckpoint:
    """A checkpoint of Canada's ledger signed with Canada's key (its real root unless `root` is given)."""
    with pair.ca.engine.connect() as conn:
        real = tree_root(conn, size)
    return sign_checkpoint(CheckpointBody(CA_LOG, size, root or real, issued_at), pair.ca.keys.signing)


def proof(pair: Pair, old: int, new: int) -> list[bytes]:
    with pair.ca.engine.connect() as conn:
        return consistency_proof(StoredTree(conn), old, new)


def request(note: str, from_size: int = 0, hashes: Sequence[bytes] = (), *, key: OKPKey, **claims: Any) -> str:
    """A checkpoint request as Canada's node signs it (with `key`, and any claim overridden)."""
    return sign_request(checkpoint_claims(note, from_size, hashes, **claims), key)


def submit(pair: Pair, checkpoint: SignedCheckpoint, from_size: int = 0, hashes: Sequence[bytes] = ()) -> str:
    return countersign(pair.india, request(checkpoint.note, from_size, hashes, key=pair.ca.keys.signing))


@dataclass(frozen=True)
class State:
    alarms: int
    ledger: int
    witnessed: int


def state(node: Node) -> State:
    with node.engine.connect() as conn:
        return State(
            conn.scalar(select(func.count()).select_from(ledger_alarms)) or 0,
            int(conn.execute(select(ledger_head.c.size)).scalar_one()),
            conn.scalar(select(func.count()).select_from(checkpoints).where(checkpoints.c.origin == CA_LOG)) or 0,
        )


def alarm_kinds(node: Node) -> list[str]:
    with node.engine.connect() as conn:
        return [a.kind for a in list_alarms(conn, UNACKNOWLEDGED).alarms]


# ------------------------------------------------------------------------------------- before anything is read


def test_a_checkpoint_request_not_from_the_pinned_peer_is_refused_before_anything_is_read(pair: Pair) -> None:
    now = int(time.time())
    note = genuine(pair, 4, now).note  # a genuine note: what anyone holding an audit bundle has
    stranger = OKPKey.generate_key("Ed25519")
    before = state(pair.india)
    pinned_kid = pair.ca.keys.public.signing_fingerprint
    refusals = {
        "unknown-sender": request(note, key=stranger),
        "bad-signature": forge_signed_request(checkpoint_claims(note), stranger, pinned_kid),
        "audience": request(note, key=pair.ca.keys.signing, aud="in-node-9"),
        "issuer": request(note, key=pair.ca.keys.signing, iss="xx-node-9"),
        "stale": request(note, key=pair.ca.keys.signing, iat=now - 3600),
    }
    for reason, token in refusals.items():
        with pytest.raises(PeerNotAuthenticated) as refused:
            countersign(pair.india, token)
        assert (refused.value.status, refused.value.reason) == (401, reason)
    with pytest.raises(MalformedArtefact):
        countersign(pair.india, "not a token")
    assert state(pair.india) == before, "a refused request left an alarm, a leaf or a checkpoint behind"


def test_a_request_from_the_peer_in_the_wrong_shape_is_malformed_and_raises_no_alarm(pair: Pair) -> None:
    note = genuine(pair, 4, int(time.time())).note
    key = pair.ca.keys.signing
    before = state(pair.india)
    for claims in (
        {"checkpoint": 5},
        {"from_size": -1},
        {"from_size": True},
        {"consistency": "00"},
        {"consistency": ["zz"]},
        {"consistency": ["00" * 31]},
        {"consistency": ["00" * 32] * 129},
        {"checkpoint": "not a note"},
    ):
        with pytest.raises(MalformedArtefact):
            countersign(pair.india, request(note, key=key, **claims))
    assert state(pair.india) == before


def test_a_note_not_signed_by_the_peers_key_or_of_another_log_is_refused_without_an_alarm(pair: Pair) -> None:
    now = int(time.time())
    stranger = OKPKey.generate_key("Ed25519")
    forged = sign_checkpoint(CheckpointBody(CA_LOG, 4, b"\x01" * 32, now), stranger)
    other_log = sign_checkpoint(CheckpointBody("accord/in-node-1", 4, b"\x01" * 32, now), pair.ca.keys.signing)
    before = state(pair.india)
    with pytest.raises(BadSignature):
        submit(pair, forged)
    with pytest.raises(MalformedArtefact, match="expected 'accord/ca-node-1'"):
        submit(pair, other_log)
    assert state(pair.india) == before


# ------------------------------------------------------------------------------------- stale, replayed, the same


def test_the_same_checkpoint_again_gets_the_same_cosignature_and_stores_nothing(pair: Pair) -> None:
    first = genuine(pair, 4, int(time.time()))
    line = submit(pair, first)
    after_first = state(pair.india)

    again = submit(pair, first)

    assert again == line
    assert state(pair.india) == after_first == State(0, after_first.ledger, 1)


def test_a_replayed_older_genuine_checkpoint_is_refused_as_stale_without_an_alarm(pair: Pair) -> None:
    now = int(time.time())
    size = grow(pair.ca, 6)
    old_small = genuine(pair, 4, now - 100)  # never sent: overtaken before the round
    old_same_size = genuine(pair, size, now - 50)
    newest = genuine(pair, size, now)
    submit(pair, newest)
    before = state(pair.india)

    for replayed in (old_small, old_same_size):
        with pytest.raises(StaleCheckpoint):
            submit(pair, replayed, 0)
    smaller_same_second = genuine(pair, 4, now)
    with pytest.raises(StaleCheckpoint):
        submit(pair, smaller_same_second)

    assert state(pair.india) == before
    assert alarm_kinds(pair.india) == []


def test_a_proof_from_another_size_than_the_last_countersigned_is_out_of_step_not_an_alarm(pair: Pair) -> None:
    now = int(time.time())
    submit(pair, genuine(pair, 4, now))
    size = grow(pair.ca, 3)
    with pytest.raises(CheckpointOutOfStep) as out_of_step:
        submit(pair, genuine(pair, size, now + 1), 2, proof(pair, 2, size))
    assert out_of_step.value.last_seen_size == 4
    line = submit(pair, genuine(pair, size, now + 1), 4, proof(pair, 4, size))
    assert line.startswith("\u2014 accord/in-node-1 ")
    assert alarm_kinds(pair.india) == []


def test_a_genuine_note_with_a_forged_proof_in_a_strangers_request_raises_no_alarm(pair: Pair) -> None:
    now = int(time.time())
    submit(pair, genuine(pair, 4, now))
    size = grow(pair.ca, 3)
    extension = genuine(pair, size, now + 1)  # a genuine extension, as published in Canada's next audit bundle
    bogus = [b"\x07" * 32] * 3
    before = state(pair.india)

    with pytest.raises(PeerNotAuthenticated):
        countersign(pair.india, request(extension.note, 4, bogus, key=OKPKey.generate_key("Ed25519")))

    assert state(pair.india) == before
    assert submit(pair, extension, 4, proof(pair, 4, size)), "the genuine extension is countersigned after all"


# --------------------------------------------------------------------------------- signed contradictions: alarms


def test_a_newer_smaller_tree_signed_by_the_peer_is_a_truncation_alarm_raised_once(pair: Pair) -> None:
    now = int(time.time())
    size = grow(pair.ca, 6)
    submit(pair, genuine(pair, size, now))
    shrunk = genuine(pair, 4, now + 1)

    for _ in range(2):  # the peer presents it again next round: refused again, alarmed once
        with pytest.raises(InconsistentCheckpoint) as refused:
            submit(pair, shrunk)
        assert refused.value.kind == AlarmKind.LOG_TRUNCATED

    assert alarm_kinds(pair.india) == ["log-truncated"]
    with pair.india.engine.connect() as conn:
        [alarm] = list_alarms(conn).alarms
    assert alarm.origin == CA_LOG and "shrank" in alarm.detail
    evidence = alarm.as_json()["evidence"]
    assert evidence["note"] == shrunk.note and evidence["request"].count(".") == 2


@pytest.mark.parametrize("offset_s", [1, -1000], ids=["newer", "backdated"])
def test_two_roots_for_one_size_signed_by_the_peer_is_a_split_view_alarm(pair: Pair, offset_s: int) -> None:
    now = int(time.time())
    submit(pair, genuine(pair, 4, now))
    other_root = genuine(pair, 4, now + offset_s, root=b"\x03" * 32)
    before = state(pair.india)

    with pytest.raises(InconsistentCheckpoint) as refused:
        submit(pair, other_root)

    assert refused.value.kind == AlarmKind.SPLIT_VIEW
    assert alarm_kinds(pair.india) == ["split-view"]
    after = state(pair.india)
    assert (after.witnessed, after.ledger) == (before.witnessed, before.ledger + 1), "one leaf: the alarm itself"


def test_an_extension_whose_signed_proof_fails_is_a_history_rewritten_alarm(pair: Pair) -> None:
    now = int(time.time())
    submit(pair, genuine(pair, 4, now))
    size = grow(pair.ca, 3)
    rewritten = genuine(pair, size, now + 1, root=b"\x05" * 32)  # not the root the old tree extends to

    with pytest.raises(InconsistentCheckpoint) as refused:
        submit(pair, rewritten, 4, proof(pair, 4, size))

    assert refused.value.kind == AlarmKind.HISTORY_REWRITTEN
    assert alarm_kinds(pair.india) == ["history-rewritten"]


def test_the_sending_side_builds_a_request_the_cosigner_accepts(pair: Pair) -> None:
    checkpoint = genuine(pair, 4, int(time.time()))
    with pair.ca.engine.connect() as conn:
        [india] = load_peers(pair.ca, conn)
    line = countersign(pair.india, checkpoint_request(pair.ca, india, checkpoint.note, 0, []))
    assert line.startswith("\u2014 accord/in-node-1 ")

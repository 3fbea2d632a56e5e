"""A declared restore, in process on both backends, with real keys: Canada's ledger is cut back to an earlier size (as a
restore from a backup does) after India countersigned it further; Canada's recovery request declares the restored
head. India takes a head that extends what it countersigned at or below it, sets the lost checkpoints aside and judges
the next ones from that head; it refuses, and alarms on, a head that contradicts what it countersigned, refuses a
stranger's or a forged declaration and an old one replayed, and an undeclared rewrite still raises its alarm."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import delete, func, select, update
from uuid6 import uuid7

from accord.crypto.errors import VerificationFailed
from accord.exchange.recovery import RECOVERY_TYP, answer_recovery
from accord.exchange.witnessing import countersign
from accord.ledger.alarms import UNACKNOWLEDGED, AlarmKind, list_alarms
from accord.ledger.checkpoints import CheckpointOutOfStep, InconsistentCheckpoint, StaleCheckpoint, latest
from accord.ledger.events import EventType, append_events, event_row, tree_root
from accord.ledger.notes import CheckpointBody, SignedCheckpoint, sign_checkpoint
from accord.ledger.proofs import StoredTree
from accord.ledger.tree import consistency_proof
from accord.node import Node
from accord.store.tables import checkpoints, events, ledger_head, ledger_nodes
from accord.trust.requests import PeerNotAuthenticated
from tests.conftest import DatabaseFactory
from tests.integration.forgery import checkpoint_claims, sign_request
from tests.ledger.pairs import open_pinned_nodes

CA_LOG = "accord/ca-node-1"


@dataclass
class Pair:
    """Canada's node (the log, restored) and India's (the witness under test), open in this process."""

    ca: Node
    india: Node
    clock: int  # the `time` of the next checkpoint Canada signs: each one later than the last
    first: int = 0  # the size of the first checkpoint India countersigned
    lost: int = 0  # the size of the checkpoint India countersigned that Canada's restore lost
    restored: int = 0  # the size Canada was restored to, between the two


@pytest.fixture
def pair(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Pair]:
    ca, india = open_pinned_nodes(databases, tmp_path)
    yield Pair(ca, india, int(time.time()) - 600)
    ca.close()
    india.close()


def grow(pair: Pair, count: int, branch: str = "first") -> int:
    """Append `count` events to Canada's ledger; returns its new size."""
    rows = [event_row(EventType.MESSAGE_CREATED, "ca.rcmp", {"message": f"{branch}-{i}"}) for i in range(count)]
    with pair.ca.engine.begin() as conn:
        return append_events(conn, rows).size


def cut_back(pair: Pair, size: int) -> None:
    """Canada's ledger as a restore from a backup taken at `size` leaves leaves it."""
    with pair.ca.engine.begin() as conn:
        conn.execute(delete(events).where(events.c.id >= size))
        for level, index in conn.execute(select(ledger_nodes.c.level, ledger_nodes.c.idx)).all():
            if (index + 1) << level > size:
                conn.execute(delete(ledger_nodes).where(ledger_nodes.c.level == level, ledger_nodes.c.idx == index))
        conn.execute(update(ledger_head).values(size=size))


def head(pair: Pair, size: int | None = None, root: bytes | None = None, key: OKPKey | None = None) -> SignedCheckpoint:
    """Canada's checkpoint now (or of `size` leaves, or with another `root`), signed later than the last."""
    with pair.ca.engine.connect() as conn:
        size = size if size is not None else int(conn.execute(select(ledger_head.c.size)).scalar_one())
        real = tree_root(conn, size)
    pair.clock += 1
    return sign_checkpoint(CheckpointBody(CA_LOG, size, root or real, pair.clock), key or pair.ca.keys.signing)


def proof(pair: Pair, old: int, new: int) -> list[bytes]:
    with pair.ca.engine.connect() as conn:
        return consistency_proof(StoredTree(conn), old, new) if 0 < old < new else []


def countersigned(pair: Pair, from_size: int) -> SignedCheckpoint:
    """Canada's checkpoint now, countersigned by India (its proof from `from_size`)."""
    checkpoint = head(pair)
    claims = checkpoint_claims(checkpoint.note, from_size, proof(pair, from_size, checkpoint.body.size))
    countersign(pair.india, sign_request(claims, pair.ca.keys.signing))
    return checkpoint


def declaring(pair: Pair, declared: SignedCheckpoint, from_size: int, hashes: list[bytes] | None = None) -> str:
    """Canada's recovery request declaring `declared`, with its proof from `from_size`."""
    hashes = hashes if hashes is not None else proof(pair, from_size, declared.body.size)
    restored = {"checkpoint": declared.note, "from_size": from_size, "consistency": [h.hex() for h in hashes]}
    return sign_request(recovery_claims(pair, restored=restored), pair.ca.keys.signing, RECOVERY_TYP)


def recovery_claims(pair: Pair, **extra: Any) -> dict[str, Any]:
    """A recovery request's claims as Canada's node signs them."""
    signed = {"iss": pair.ca.node_id, "aud": pair.india.node_id, "iat": int(time.time()), "jti": str(uuid7())}
    return signed | {"holds_seq": 0, "sent_seq": 0} | extra


@dataclass(frozen=True)
class Witness:
    """What India holds of Canada's log: its leaves' count, alarms, checkpoints, and those set aside."""

    ledger: int
    alarms: tuple[str, ...]
    current: tuple[int, ...]
    set_aside: tuple[int, ...]


def witness(pair: Pair) -> Witness:
    with pair.india.engine.connect() as conn:
        rows = conn.execute(
            select(checkpoints.c.size, checkpoints.c.lost_in_restore)
            .where(checkpoints.c.origin == CA_LOG)
            .order_by(checkpoints.c.id)
        ).all()
        return Witness(
            int(conn.scalar(select(func.count()).select_from(events)) or 0),
            tuple(a.kind for a in list_alarms(conn, UNACKNOWLEDGED).alarms),
            tuple(r.size for r in rows if r.lost_in_restore is None),
            tuple(r.size for r in rows if r.lost_in_restore is not None),
        )


def restores_logged(pair: Pair) -> list[dict[str, Any]]:
    with pair.india.engine.connect() as conn:
        query = select(events.c.refs).where(events.c.type == EventType.PEER_LEDGER_RESTORED.value)
        return [json.loads(refs) for refs in conn.scalars(query.order_by(events.c.id))]


@pytest.fixture
def lost_branch(pair: Pair) -> Pair:
    """India countersigned two checkpoints of Canada's ledger; Canada was then restored to a size between them."""
    pair.first = grow(pair, 8)
    countersigned(pair, 0)
    pair.lost = grow(pair, 8)
    countersigned(pair, pair.first)
    pair.restored = pair.first + 4
    cut_back(pair, pair.restored)
    return pair


# ------------------------------------------------------------------------------------------------- a new epoch


def test_a_declared_restore_that_extends_what_was_countersigned_starts_a_new_epoch_of_the_log(
    lost_branch: Pair,
) -> None:
    pair = lost_branch
    declared = head(pair)
    answer_recovery(pair.india, declaring(pair, declared, pair.first))
    assert restores_logged(pair) == [
        {
            "peer": "ca-node-1",
            "origin": CA_LOG,
            "size": pair.restored,
            "root": declared.body.root.hex(),
            "from_size": pair.first,
            "lost": [{"size": pair.lost, "root": lost_root(pair, pair.lost)}],
        }
    ]
    assert witness(pair).set_aside == (pair.lost,), "the lost checkpoint is kept, set aside"
    grown = grow(pair, 9, "restored")  # past the lost checkpoint, its leaves no longer those India countersigned
    countersigned(pair, pair.restored)
    after = witness(pair)
    assert after.current == (pair.first, pair.restored, grown) and after.alarms == ()
    with pair.india.engine.connect() as conn:
        newest = latest(conn, CA_LOG, cosigned_only=True)
    assert newest is not None and newest.size == grown, "the witnessed head is the new epoch's"


def lost_root(pair: Pair, size: int) -> str:
    with pair.india.engine.connect() as conn:
        query = select(checkpoints.c.root).where(checkpoints.c.size == size, checkpoints.c.origin == CA_LOG)
        return bytes(conn.execute(query).scalars().one()).hex()


def test_a_rewrite_not_declared_still_raises_the_history_rewritten_alarm(lost_branch: Pair) -> None:
    pair = lost_branch
    grown = grow(pair, 9, "restored")
    checkpoint = head(pair)
    claims = checkpoint_claims(checkpoint.note, pair.lost, proof(pair, pair.lost, grown))
    with pytest.raises(InconsistentCheckpoint):
        countersign(pair.india, sign_request(claims, pair.ca.keys.signing))
    assert witness(pair).alarms == (AlarmKind.HISTORY_REWRITTEN.value,)
    assert restores_logged(pair) == [] and witness(pair).set_aside == ()


# ------------------------------------------------------------------------------------------------- the attacks


def test_a_declared_head_that_contradicts_a_checkpoint_countersigned_below_it_is_refused_with_an_alarm(
    lost_branch: Pair,
) -> None:
    pair = lost_branch
    before = witness(pair)
    forged = head(pair, root=bytes(32))  # Canada's key, but not the tree India countersigned the first leaves of
    with pytest.raises(InconsistentCheckpoint):
        answer_recovery(pair.india, declaring(pair, forged, pair.first))
    cut_back(pair, pair.first - 2)
    grow(pair, 6, "rewritten")  # the restored size again, but its last leaves under the first checkpoint differ
    with pytest.raises(InconsistentCheckpoint):
        answer_recovery(pair.india, declaring(pair, head(pair), pair.first))
    after = witness(pair)
    assert after.alarms == (AlarmKind.HISTORY_REWRITTEN.value,) * 2
    assert (after.current, after.set_aside) == (before.current, ()) and restores_logged(pair) == []
    assert after.ledger == before.ledger + 2, "only the two alarms were logged: no recovery was answered"


def test_a_declaration_from_a_stranger_or_with_a_head_the_peer_did_not_sign_is_refused_and_changes_nothing(
    lost_branch: Pair,
) -> None:
    pair = lost_branch
    before = witness(pair)
    stranger = OKPKey.generate_key("Ed25519")
    hashes = proof(pair, pair.first, pair.restored)
    restored = {"checkpoint": head(pair).note, "from_size": pair.first, "consistency": [h.hex() for h in hashes]}
    with pytest.raises(PeerNotAuthenticated):
        answer_recovery(pair.india, sign_request(recovery_claims(pair, restored=restored), stranger, RECOVERY_TYP))
    with pytest.raises(VerificationFailed):
        answer_recovery(pair.india, declaring(pair, head(pair, key=stranger), pair.first))
    assert witness(pair) == before and restores_logged(pair) == []


def test_a_declaration_whose_proof_starts_elsewhere_is_out_of_step_and_names_where_to_start(lost_branch: Pair) -> None:
    pair = lost_branch
    before = witness(pair)
    with pytest.raises(CheckpointOutOfStep) as refused:
        answer_recovery(pair.india, declaring(pair, head(pair), 0, []))
    assert refused.value.last_seen_size == pair.first
    assert witness(pair) == before


def test_an_old_declaration_replayed_after_newer_checkpoints_were_countersigned_does_not_roll_the_witness_back(
    lost_branch: Pair,
) -> None:
    pair = lost_branch
    declared = head(pair)
    answer_recovery(pair.india, declaring(pair, declared, pair.first))
    grown = grow(pair, 9, "restored")
    countersigned(pair, pair.restored)
    before = witness(pair)
    with pytest.raises(StaleCheckpoint):
        answer_recovery(pair.india, declaring(pair, declared, pair.first))  # a fresh request, the old declaration
    assert witness(pair) == before and len(restores_logged(pair)) == 1

    # A new declaration is judged against the current epoch: it must extend its head, not the lost branch.
    cut_back(pair, pair.restored + 2)
    answer_recovery(pair.india, declaring(pair, head(pair), pair.restored))
    assert witness(pair).set_aside == (pair.lost, grown)
    assert restores_logged(pair)[-1]["lost"] == [{"size": grown, "root": lost_root(pair, grown)}]
    with pytest.raises(InconsistentCheckpoint):
        answer_recovery(pair.india, declaring(pair, head(pair, root=bytes(32)), pair.restored + 2, []))

"""Key rotation statements offered to the peer by several requests at once, on both storage backends (PostgreSQL lets
requests read and insert side by side):
- the same statement (the operator's `accord keys rotate` delivers it while the node's delivery worker offers it
  again): every request gets the answer of the statement taken, and the peer records it and repins the key once;
- different statements signed by the same key in force (its holder, or whoever stole it, forking the rotation): one
  is taken, every other is refused as signed by a retired key, as it would be one after the other."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joserfc.jwk import OKPKey
from sqlalchemy import func, select

from accord.crypto.keys import KeyRole
from accord.crypto.rotation import RotationRefused, RotationStatement, sign_rotation
from accord.ledger.events import EventType
from accord.store.tables import events, key_rotations, peers
from accord.trust.rotation import PeerRotation, accept_rotation, rotate_own_key, unsent_rotations
from tests.conftest import DatabaseFactory
from tests.ledger.pairs import Ledger, open_pair

OFFERS = 8


def offered_at_once(offers: list[Callable[[], PeerRotation]]) -> tuple[list[PeerRotation], list[BaseException]]:
    """Each offer in a thread of its own, all released together: the answers, and what each that failed raised."""
    start = threading.Barrier(len(offers))
    answers: list[PeerRotation] = []
    failures: list[BaseException] = []

    def offer(make: Callable[[], PeerRotation]) -> None:
        start.wait()
        try:
            answers.append(make())
        except BaseException as exc:  # every failure is the test's finding
            failures.append(exc)

    threads = [threading.Thread(target=offer, args=(make,)) for make in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, failures


def recorded_at_india(ledger: Ledger) -> tuple[int, int, str]:
    """Rotations recorded, `peer.key_rotated` events, and the signing key pinned for Canada."""
    with ledger.india.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(key_rotations)).scalar_one(),
            conn.execute(
                select(func.count()).select_from(events).where(events.c.type == EventType.PEER_KEY_ROTATED.value)
            ).scalar_one(),
            conn.execute(select(peers.c.signing_fingerprint).where(peers.c.node_id == ledger.ca.node_id)).scalar_one(),
        )


def test_a_statement_offered_by_several_requests_at_once_is_taken_once_and_every_request_told_so(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    ledger = open_pair(tmp_path, databases.new_migrated_url("ca"), databases.new_migrated_url("in"))
    try:
        rotation = rotate_own_key(ledger.ca, KeyRole.SIGNING)
        [unsent] = unsent_rotations(ledger.ca)

        answers, failures = offered_at_once([lambda: accept_rotation(ledger.india, unsent.statement)] * OFFERS)

        assert failures == []
        assert {(answer.new_fingerprint, answer.held) for answer in answers} == {(rotation.new_fingerprint, False)}
        assert recorded_at_india(ledger) == (1, 1, rotation.new_fingerprint)
    finally:
        ledger.close()


def test_different_statements_by_the_key_in_force_offered_at_once_pin_one_key_and_the_others_are_refused(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    ledger = open_pair(tmp_path, databases.new_migrated_url("ca"), databases.new_migrated_url("in"))
    try:
        current = ledger.ca.keys.signing
        issued = datetime.now(UTC).replace(microsecond=0)
        tokens = [
            sign_rotation(
                RotationStatement(
                    node_id=ledger.ca.node_id,
                    aud=ledger.india.node_id,
                    role=KeyRole.SIGNING,
                    old_key=OKPKey.import_key(current.as_dict(private=False)),
                    new_key=OKPKey.import_key(OKPKey.generate_key("Ed25519").as_dict(private=False)),
                    issued_at=issued,
                    overlap_until=issued + timedelta(days=7),
                    emergency=False,
                ),
                current,
            )
            for _ in range(OFFERS)
        ]

        answers, failures = offered_at_once(
            [lambda token=token: accept_rotation(ledger.india, token) for token in tokens]
        )

        assert len(answers) == 1, failures
        assert len(failures) == OFFERS - 1
        assert all(isinstance(f, RotationRefused) and "retired key" in str(f) for f in failures), failures
        assert recorded_at_india(ledger) == (1, 1, answers[0].new_fingerprint)
    finally:
        ledger.close()

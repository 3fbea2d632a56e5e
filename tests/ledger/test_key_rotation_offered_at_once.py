"""A key rotation statement offered to the peer by several requests at once (the operator's `accord keys rotate`
delivers it while the node's delivery worker offers it again): every request gets the answer of the statement taken,
and the peer records it and repins the key once. On both storage backends, since PostgreSQL lets the requests read
and insert side by side."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from accord.crypto.keys import KeyRole
from accord.ledger.events import EventType
from accord.store.tables import events, key_rotations
from accord.trust.rotation import PeerRotation, accept_rotation, rotate_own_key, unsent_rotations
from tests.conftest import DatabaseFactory
from tests.ledger.pairs import open_pair

OFFERS = 8


def test_a_statement_offered_by_several_requests_at_once_is_taken_once_and_every_request_told_so(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    ledger = open_pair(tmp_path, databases.new_url("ca"), databases.new_url("in"))
    try:
        rotation = rotate_own_key(ledger.ca, KeyRole.SIGNING)
        [unsent] = unsent_rotations(ledger.ca)
        start = threading.Barrier(OFFERS)
        answers: list[PeerRotation] = []
        failures: list[BaseException] = []

        def offer() -> None:
            start.wait()
            try:
                answers.append(accept_rotation(ledger.india, unsent.statement))
            except BaseException as exc:  # every failure is the test's finding
                failures.append(exc)

        offers = [threading.Thread(target=offer) for _ in range(OFFERS)]
        for thread in offers:
            thread.start()
        for thread in offers:
            thread.join()

        assert failures == []
        assert {(answer.new_fingerprint, answer.held) for answer in answers} == {(rotation.new_fingerprint, False)}
        with ledger.india.engine.connect() as conn:
            recorded = conn.scalar(select(func.count()).select_from(key_rotations))
            repinned = conn.scalar(
                select(func.count()).select_from(events).where(events.c.type == EventType.PEER_KEY_ROTATED.value)
            )
        assert (recorded, repinned) == (1, 1)
    finally:
        ledger.close()

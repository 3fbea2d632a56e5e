"""Fault injection between two real node processes: kill -9 either side mid-burst, a long outage, priorities.

Every check reads both databases directly: exactly once at the receiver, a signed receipt for every message at
the sender, the channel's sequence numbers without gaps, and an empty outbox afterwards.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import func, select

from accord.store.tables import events, inbound_envelopes, messages, outbox
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PairTemplates, RunningNode, draft, wait_for
from tests.integration.test_web_sessions import sign_in
from tests.ledger_checks import assert_ledger_intact

# Thousands of messages through kill -9 and outages: minutes, not seconds (`-m "not slow"` leaves them out).
pytestmark = pytest.mark.slow

BURST = 1000
BATCH = 100
CHANNEL = "ca-node-1>in-node-1"

PairFactory = Callable[..., tuple[RunningNode, RunningNode]]


@pytest.fixture
def make_pair(templates: PairTemplates, databases: DatabaseFactory, tmp_path: Path) -> Iterator[PairFactory]:
    """A Canada–India pair with extra environment per node; started unless asked not to; always disposed."""
    made: list[RunningNode] = []

    def make(
        ca_env: dict[str, str] | None = None, in_env: dict[str, str] | None = None
    ) -> tuple[RunningNode, RunningNode]:
        ca, in_ = templates.copy(databases, tmp_path)
        made.extend((ca, in_))
        ca.extra_env.update(ca_env or {})
        in_.extra_env.update(in_env or {})
        for node in (ca, in_):  # both start at once: each finds the other when it comes up
            node.launch()
        for node in (ca, in_):
            node.wait_healthy()
        return ca, in_

    yield make
    for node in made:
        node.dispose()


def count(node: RunningNode, query: Any) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def received(node: RunningNode) -> int:
    return count(node, select(func.count()).select_from(inbound_envelopes))


def pending(node: RunningNode) -> int:
    return count(node, select(func.count()).select_from(outbox))


def send_batch(client: httpx.Client, label: str, size: int = BATCH, **overrides: Any) -> list[str]:
    response = client.post(
        "/api/v1/messages/batch",
        json={"messages": [draft(title=f"{label} #{n}", **overrides) for n in range(size)]},
    )
    assert response.status_code == 201, response.text
    queued = response.json()["messages"]
    assert {m["delivery"]["state"] for m in queued} == {"queued"}
    return [m["id"] for m in queued]


def wait_until_drained(ca: RunningNode, in_: RunningNode, expected: int, timeout_s: float = 180.0) -> None:
    """India has received `expected` envelopes and Canada's outbox is empty (every receipt is back)."""
    wait_for(lambda: received(in_) >= expected and pending(ca) == 0, timeout_s, 0.2)


def assert_each_delivered_exactly_once(ca: RunningNode, in_: RunningNode, ids: list[str]) -> None:
    """India stored each message once with its own sequence number; Canada holds India's receipt for each."""
    assert len(ids) == len(set(ids))
    with in_.engine.connect() as conn:
        stored = conn.execute(select(messages.c.id, messages.c.channel_seq)).all()
        envelopes = conn.execute(
            select(inbound_envelopes.c.ref_id, inbound_envelopes.c.seq, inbound_envelopes.c.receipt).where(
                inbound_envelopes.c.channel == CHANNEL
            )
        ).all()
    assert len(stored) == len(ids)
    assert {row.id for row in stored} == set(ids)
    assert len(envelopes) == len(ids)
    assert {row.ref_id for row in envelopes} == set(ids)
    assert sorted(row.seq for row in envelopes) == list(range(1, len(ids) + 1)), "sequence numbers have gaps"

    with ca.engine.connect() as conn:
        sent = conn.execute(
            select(messages.c.id, messages.c.state, messages.c.receipt, messages.c.channel_seq, messages.c.last_error)
        ).all()
        left = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
    assert left == 0, "Canada's outbox still holds rows"
    assert len(sent) == len(ids)
    not_delivered = [row for row in sent if row.state != "delivered" or row.receipt is None]
    assert not not_delivered, f"{len(not_delivered)} messages without a receipt, e.g. {not_delivered[0]}"
    assert all(row.last_error is None for row in sent)
    # The receipt Canada keeps is the one India signed when it stored the message, also after a duplicate POST.
    india_receipts = {row.ref_id: (row.seq, row.receipt) for row in envelopes}
    assert {row.id: (row.channel_seq, row.receipt) for row in sent} == india_receipts
    assert {row.id: row.channel_seq for row in stored} == {row.ref_id: row.seq for row in envelopes}
    # Neither kill -9 left the ledger with a hole, a half-written append or a hash that disagrees with its row.
    for node in (ca, in_):
        assert_ledger_intact(node.engine)
    with in_.engine.connect() as conn:
        received = conn.execute(select(func.count()).select_from(events).where(events.c.type == "envelope.received"))
        assert received.scalar_one() == len(ids), "one ledger entry per stored envelope"


def outgoing_rows(node: RunningNode) -> list[Any]:
    with node.engine.connect() as conn:
        return list(
            conn.execute(
                select(
                    messages.c.id,
                    messages.c.priority,
                    messages.c.state,
                    messages.c.attempts,
                    messages.c.last_error,
                    messages.c.delivered_at,
                )
            ).all()
        )


def test_receiver_killed_mid_burst_gets_every_message_exactly_once_and_sender_holds_every_receipt(
    make_pair: PairFactory,
) -> None:
    ca, in_ = make_pair()
    kill_after = 200
    ids: list[str] = []
    received_at_kill: int | None = None
    started = time.monotonic()
    with ca.client("ca.rcmp") as rcmp:
        for batch in range(BURST // BATCH):
            ids += send_batch(rcmp, f"burst {batch}")
            if received_at_kill is None and received(in_) >= kill_after:
                in_.kill9()
                received_at_kill = received(in_)
        if received_at_kill is None:
            wait_for(lambda: received(in_) >= kill_after, 120, 0.02)
            in_.kill9()
            received_at_kill = received(in_)
        assert kill_after <= received_at_kill < BURST, f"the kill came too late: {received_at_kill} received"

        # Canada notices the dead peer and keeps the rest waiting in its outbox.
        wait_for(lambda: count(ca, select(func.max(outbox.c.attempts))) >= 1, 30)
        assert pending(ca) >= BURST - received_at_kill
        in_.start()
        wait_until_drained(ca, in_, BURST)
    elapsed = time.monotonic() - started
    assert_each_delivered_exactly_once(ca, in_, ids)
    print(f"receiver kill -9 after {received_at_kill}: {BURST} delivered in {elapsed:.1f} s")


def test_sender_killed_mid_burst_resumes_and_every_message_arrives_exactly_once_with_a_receipt(
    make_pair: PairFactory,
) -> None:
    # The batch Canada had in flight when it died stays leased until the lease runs out; keep that short here.
    ca, in_ = make_pair(ca_env={"ACCORD_OUTBOX_LEASE_S": "2"})
    ids: list[str] = []
    started = time.monotonic()
    with ca.client("ca.rcmp") as rcmp:
        for batch in range(BURST // BATCH // 2):
            ids += send_batch(rcmp, f"before the crash {batch}")
    wait_for(lambda: received(in_) >= 1, 60, 0.01)
    ca.kill9()
    received_at_kill = received(in_)
    assert 1 <= received_at_kill < len(ids), f"the kill came too late: {received_at_kill} received"
    with ca.engine.connect() as conn:
        states = dict(conn.execute(select(messages.c.state, func.count()).group_by(messages.c.state)).all())
    assert states.get("delivered", 0) < len(ids), states

    ca.start()
    with ca.client("ca.rcmp") as rcmp:
        for batch in range(BURST // BATCH // 2):
            ids += send_batch(rcmp, f"after the restart {batch}")
        wait_until_drained(ca, in_, BURST)
    elapsed = time.monotonic() - started
    assert_each_delivered_exactly_once(ca, in_, ids)
    print(f"sender kill -9 after {received_at_kill} received ({states}): {BURST} delivered in {elapsed:.1f} s")


def test_messages_wait_visibly_while_the_peer_is_down_and_deliver_by_themselves_when_it_returns(
    make_pair: PairFactory,
) -> None:
    ca, in_ = make_pair()
    in_.stop()
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.operator") as operator:
        ids = send_batch(rcmp, "during the outage", size=20)

        def outbox_view() -> dict[str, dict[str, Any]]:
            listed = rcmp.get("/api/v1/messages", params={"box": "outbox", "limit": 100}).json()["messages"]
            return {m["id"]: m["delivery"] for m in listed}

        def channel() -> dict[str, Any]:
            [waiting] = operator.get("/api/v1/channels").json()["outbox"]
            return cast(dict[str, Any], waiting)

        # The whole batch is tried once; then the held channel is tried again and again with one envelope.
        wait_for(lambda: channel()["max_attempts"] >= 3, 30)
        first = outbox_view()
        assert set(first) == set(ids)
        for delivery in first.values():
            assert delivery["state"] in {"queued", "sent"}
            assert "peer unreachable" in delivery["last_error"]
            assert delivery["receipt"] is None
            assert delivery["next_attempt_at"] is not None
            assert delivery["attempts"] >= 1
        # The officer's page of a waiting message says why it waits and when it is tried next.
        web, _ = sign_in(ca, "ca.rcmp")
        page = web.get(f"/messages/{ids[-1]}")
        web.close()
        assert page.status_code == 200
        waiting_note = re.search(r"<span[^>]*data-waiting>([^<]*)</span>", page.text)
        assert waiting_note is not None and "Not delivered yet: peer unreachable" in waiting_note[1], page.text
        assert "Next try:" in waiting_note[1]
        # Each of the two delivery workers probes with the oldest envelope it can claim: the rest were tried once.
        assert sum(1 for d in first.values() if d["attempts"] > 1) <= 2, "the held channel was tried with full batches"
        with ca.engine.connect() as conn:
            rows = conn.execute(select(outbox.c.ref_id, outbox.c.attempts, outbox.c.last_error)).all()
        assert {row.ref_id for row in rows} == set(ids)
        assert all(row.attempts >= 1 and "peer unreachable" in row.last_error for row in rows)

        # Still retrying while India is away, and the operator sees the channel held and until when.
        tried = channel()["max_attempts"]
        wait_for(lambda: channel()["max_attempts"] > tried, 30)
        waiting = channel()
        assert waiting["peer"] == "in-node-1"
        assert waiting["pending"] == len(ids)
        assert waiting["max_attempts"] > 3
        assert waiting["held_until"] is not None
        assert "peer unreachable" in waiting["held_because"]
        assert received(in_) == 0

        in_.start()  # no other action: the outbox drains by itself
        wait_until_drained(ca, in_, len(ids), 60)
        delivered = outbox_view()
        assert {d["state"] for d in delivered.values()} == {"delivered"}
        assert all(d["last_error"] is None and d["receipt"] for d in delivered.values())
        assert operator.get("/api/v1/channels").json()["outbox"] == []
    assert_each_delivered_exactly_once(ca, in_, ids)


def test_messages_queued_while_the_peer_is_away_wait_with_the_held_channel_rather_than_each_batch_being_tried(
    make_pair: PairFactory,
) -> None:
    """Each attempt signs every envelope of its batch and logs each as sent: while India is away, batches queued after
    the channel was held wait with it (one retry of the channel at its backoff), and leave once India is back."""
    ca, in_ = make_pair(ca_env={"ACCORD_RETRY_BASE_S": "15", "ACCORD_RETRY_MAX_S": "60"})  # a first hold of 12–18 s
    in_.stop()
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.operator") as operator:
        first = send_batch(rcmp, "before the hold", size=5)

        def held_until() -> str | None:
            [waiting] = operator.get("/api/v1/channels").json()["outbox"]
            return cast(str | None, waiting["held_until"])

        wait_for(lambda: held_until() is not None, 30)
        held = held_until()
        later = [i for n in range(3) for i in send_batch(rcmp, f"while held #{n}", size=5)]
        listed = rcmp.get("/api/v1/messages", params={"box": "outbox", "limit": 100}).json()["messages"]
        shown = {m["id"]: m["delivery"] for m in listed}
        assert {shown[i]["next_attempt_at"] for i in later} == {held}, "the API shows when they will be tried"
        assert all("peer unreachable" in shown[i]["last_error"] for i in later), "and why they wait"
        assert {shown[i]["attempts"] for i in later} == {0}
        assert {shown[i]["attempts"] for i in first} == {1}
        time.sleep(1.0)  # delivery workers poll meanwhile, and are woken by each batch queued
        assert sent_events(ca, later) == 0, "a batch queued on a held channel was tried on its own"
        assert sent_events(ca, first) == len(first)

        in_.start()  # India's hello releases the channel: no waiting for the rest of the hold
        wait_until_drained(ca, in_, len(first) + len(later), 60)
        assert operator.get("/api/v1/channels").json()["outbox"] == []
    assert_each_delivered_exactly_once(ca, in_, first + later)
    assert sent_events(ca, later) == len(later), "each later message left once, with the channel"


def sent_events(node: RunningNode, ids: list[str]) -> int:
    with node.engine.connect() as conn:
        refs = conn.scalars(select(events.c.refs).where(events.c.type == "envelope.sent")).all()
    wanted = set(ids)
    return sum(1 for r in refs if json.loads(r).get("ref") in wanted)


def test_urgent_and_immediate_messages_overtake_routine_ones_queued_earlier_when_the_peer_returns(
    make_pair: PairFactory,
) -> None:
    # Small delivery batches, so the order in which the outbox drains is visible; one delivery worker and no urgent
    # lane, because with several the last batch of one priority and the first of the next may be in flight at once.
    ca, in_ = make_pair(
        ca_env={
            "ACCORD_OUTBOX_BATCH_SIZE": "10",
            "ACCORD_DELIVERY_WORKERS": "1",
            "ACCORD_URGENT_DELIVERY_LANE": "false",
        }
    )
    in_.stop()
    with ca.client("ca.rcmp") as rcmp:
        routine = send_batch(rcmp, "routine", size=60)
        wait_for(lambda: max(row.attempts for row in outgoing_rows(ca)) >= 2, 30)
        urgent = send_batch(rcmp, "urgent", size=10, priority="urgent")
        immediate = send_batch(rcmp, "immediate", size=10, priority="immediate")
        tried = max(row.attempts for row in outgoing_rows(ca))

        # The late high-priority messages wait with the held channel, and its next probe fails before India returns:
        # every message waits, visibly (those never tried show why the channel is held).
        def all_waiting() -> bool:
            listed = rcmp.get("/api/v1/messages", params={"box": "outbox", "limit": 100}).json()["messages"]
            return (
                len(listed) == 80
                and all(m["delivery"]["last_error"] and m["delivery"]["state"] in {"queued", "sent"} for m in listed)
                and max(row.attempts for row in outgoing_rows(ca)) > tried
            )

        wait_for(all_waiting, 30)
    in_.start()
    ids = routine + urgent + immediate
    wait_until_drained(ca, in_, len(ids), 60)
    assert_each_delivered_exactly_once(ca, in_, ids)

    with in_.engine.connect() as conn:
        arrival = dict(conn.execute(select(messages.c.id, messages.c.received_at)).all())
    delivered = {row.id: row.delivered_at for row in outgoing_rows(ca)}
    letter = {i: "I" for i in immediate} | {i: "U" for i in urgent} | {i: "r" for i in routine}
    for when in (arrival, delivered):
        seen = "".join(letter[i] for i in sorted(when, key=lambda i: (when[i], i)))
        assert max(when[i] for i in immediate) < min(when[i] for i in urgent), seen
        assert max(when[i] for i in urgent) < min(when[i] for i in routine), seen

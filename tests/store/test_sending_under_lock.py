"""Sending a batch, in process: drafts are built and decided on a read snapshot, and under the writer's lock only
what the database decides is read again. A message built ahead is stored as it is when the database still gives it
the same handling and attachments and its checks pass again; when what it reuses changed meanwhile it is built anew
from what the database now holds, and when a check now fails the whole batch is refused and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from accord.directory.officers import Officer
from accord.domain.drafts import MessageDraft
from accord.errors import InvalidInput
from accord.exchange import sending
from accord.node import Node
from accord.store.tables import messages
from tests.integration.nodes import draft


def ahead_then(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> list[str]:
    """Run `meanwhile` between the decisions taken ahead and the write transaction; the ids built ahead."""
    built: list[str] = []
    decide_ahead = sending._decide_ahead

    def then(*args: Any, **kwargs: Any) -> Any:
        ahead = decide_ahead(*args, **kwargs)
        built.extend(a.message.id for a in ahead if a is not None)
        meanwhile()
        return ahead

    monkeypatch.setattr(sending, "_decide_ahead", then)
    return built


def stored(node: Node) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def test_the_messages_built_ahead_are_the_ones_stored(
    canada: tuple[Node, Officer], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, officer = canada
    built = ahead_then(monkeypatch, lambda: None)
    queued = sending.send_messages(node, officer, [MessageDraft(**draft(title=f"Consignee {n}")) for n in range(3)])
    assert [q.message.id for q in queued] == built
    assert [q.state.value for q in queued] == ["queued"] * 3


def test_a_reused_message_that_failed_meanwhile_refuses_the_batch_and_nothing_is_stored(
    canada: tuple[Node, Officer], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, officer = canada
    [source] = sending.send_messages(node, officer, [MessageDraft(**draft())])
    before = stored(node)

    def delivery_fails_for_good() -> None:
        with node.engine.begin() as conn:
            conn.execute(update(messages).where(messages.c.id == source.message.id).values(state="failed"))

    ahead_then(monkeypatch, delivery_fails_for_good)
    batch = [MessageDraft(**draft(title="A fresh request")), MessageDraft(**draft(refers_to=source.message.id))]
    with pytest.raises(InvalidInput, match="never reached"):
        sending.send_messages(node, officer, batch)
    assert stored(node) == before


def test_a_message_whose_reused_handling_changed_meanwhile_is_built_anew_from_what_is_stored(
    canada: tuple[Node, Officer], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, officer = canada
    [source] = sending.send_messages(node, officer, [MessageDraft(**draft())])

    def stricter_meanwhile() -> None:
        with node.engine.begin() as conn:
            content = json.loads(
                conn.execute(select(messages.c.content).where(messages.c.id == source.message.id)).scalar_one()
            )
            content["handling"]["tlp"] = "AMBER+STRICT"
            conn.execute(update(messages).where(messages.c.id == source.message.id).values(content=json.dumps(content)))

    built = ahead_then(monkeypatch, stricter_meanwhile)
    [queued] = sending.send_messages(node, officer, [MessageDraft(**draft(refers_to=source.message.id))])
    assert queued.message.id not in built, "built again under the lock"
    assert queued.message.handling.tlp.value == "AMBER+STRICT"
    with node.engine.connect() as conn:
        kept = json.loads(
            conn.execute(select(messages.c.content).where(messages.c.id == queued.message.id)).scalar_one()
        )
    assert kept["handling"]["tlp"] == "AMBER+STRICT"

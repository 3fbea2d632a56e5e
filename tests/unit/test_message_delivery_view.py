"""What a message shows of its delivery while its channel is held: the hold is one row (`hold_channel`), and each
message still waiting for the held peer reads its next try and last error from it; nothing else does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from accord.exchange.mailbox import message_view
from accord.exchange.outbox import ChannelHold

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOLD = ChannelHold(NOW + timedelta(minutes=2), "peer unreachable: connection refused")


def row(**fields: Any) -> Any:
    base: dict[str, Any] = {
        "id": "m-1",
        "direction": "outgoing",
        "kind": "request",
        "case_id": "c-1",
        "sender_party": "CA",
        "sender_agency": "RCMP",
        "sender_officer": "ca.rcmp",
        "recipient_party": "IN",
        "recipient_agency": "NCB",
        "recipient_officer": None,
        "focus_area": "drugs",
        "priority": "routine",
        "title": "t",
        "created_at": NOW - timedelta(hours=1),
        "deadline": None,
        "answered_at": None,
        "in_reply_to": None,
        "refers_to": None,
        "amendment": None,
        "amended_by": None,
        "purged_at": None,
        "state": "queued",
        "state_reason": None,
        "channel_seq": 7,
        "attempts": 0,
        "last_error": None,
        "next_attempt_at": NOW - timedelta(minutes=30),
        "delivered_at": None,
        "received_at": None,
        "read_at": None,
        "receipt": None,
        "decision": None,
    }
    return SimpleNamespace(**(base | fields))


def delivery(shown: Any, holds: dict[str, ChannelHold]) -> tuple[str | None, datetime | None]:
    view = message_view(shown, NOW, holds)["delivery"]
    return view["last_error"], view["next_attempt_at"]


@pytest.mark.parametrize("state", ["queued", "sent"])
def test_a_message_waiting_for_a_held_channel_shows_the_channel_s_next_try_and_why(state: str) -> None:
    assert delivery(row(state=state), {"IN": HOLD}) == (HOLD.error, HOLD.until)
    tried = row(state=state, attempts=3, last_error="timed out", next_attempt_at=NOW + timedelta(minutes=1))
    assert delivery(tried, {"IN": HOLD}) == (HOLD.error, HOLD.until)


def test_a_later_try_of_its_own_is_not_brought_forward_by_the_hold() -> None:
    later = NOW + timedelta(minutes=5)
    assert delivery(row(next_attempt_at=later, last_error="x"), {"IN": HOLD}) == (HOLD.error, later)


def test_without_a_hold_a_message_shows_its_own_try() -> None:
    own = row(attempts=1, last_error="sequence-collision", next_attempt_at=NOW + timedelta(seconds=5))
    assert delivery(own, {}) == ("sequence-collision", NOW + timedelta(seconds=5))
    assert delivery(own, {"CA": HOLD}) == ("sequence-collision", NOW + timedelta(seconds=5)), "another party's channel"


@pytest.mark.parametrize("state", ["delivered", "read", "failed", "held", "refused"])
def test_a_message_no_longer_waiting_ignores_the_hold(state: str) -> None:
    assert delivery(row(state=state, last_error=None, next_attempt_at=None), {"IN": HOLD}) == (None, None)


def test_a_received_message_ignores_the_hold_of_the_channel_to_its_sender() -> None:
    incoming = row(direction="incoming", state="queued", sender_party="IN", recipient_party="CA")
    assert delivery(incoming, {"CA": HOLD, "IN": HOLD})[0] is None

"""The work on an arriving message that reads only the message and the pack: the neutrality screen on arrival, the
message as stored (canonical JSON) and the words it is found by. Done before the store's write transaction; for a
routine batch, in the screen workers (`accord.exchange.screen_workers`), while the node's own interpreter stores and
receipts other batches (measured during a backlog's drain: 45 % of the receiving node's interpreter time was this
work).

Only what verified reaches here: the envelopes are authenticated, and each message validated, by the node process
first. The results are those of `work_here`, message for message, in order, wherever the work was done."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accord.crypto.canonical import canonical_json
from accord.domain.messages import Message
from accord.exchange.disclosure import ArrivalScreen, screen_arriving
from accord.exchange.screen_workers import ScreenWorkers
from accord.store.engine import bulk_item
from accord.store.search import message_words


@dataclass(frozen=True, slots=True)
class ArrivalWork:
    screening: dict[str, Any] | None  # the neutrality screen on arrival (None: no pack, or not an opening message)
    content: str  # the message as stored
    words: str  # what search finds it by


Arriving = tuple[Message, dict[str, Any]]  # a message as validated, and its body as signed


def work_here(screen: ArrivalScreen | None, arriving: Sequence[Arriving]) -> list[ArrivalWork]:
    """The work on each message, in this process (each an item of bulk work: it gives way to urgent work)."""
    done = []
    for message, body in arriving:
        with bulk_item():
            content = canonical_json(body).decode()
            done.append(ArrivalWork(screen_arriving(screen, message), content, message_words(content)))
    return done


def arrival_work(
    workers: ScreenWorkers | None, screen: ArrivalScreen | None, arriving: Sequence[Arriving], *, urgent: bool
) -> list[ArrivalWork]:
    """The work on each message, in order: in the screen workers for a routine batch, else here."""
    if workers is None:
        return work_here(screen, arriving)
    # Bodies travel (plain JSON data pickles faster than models) and are validated again there, as here.
    bodies = [body for _, body in arriving]
    return workers.map(_work_bodies, screen, bodies, lambda: work_here(screen, arriving), urgent=urgent)


def _work_bodies(screen: ArrivalScreen | None, bodies: list[dict[str, Any]]) -> list[ArrivalWork]:
    return work_here(screen, [(Message.model_validate(body), body) for body in bodies])

"""How a node's delivery workers wait while idle: one looks for due rows every `outbox_poll_s`, the others only when
woken, by the process queueing (its signal) or by the worker that polls finding rows due (retries come due, rows
another process queued), so that an idle node does one round a poll, not one a worker, and a backlog found by
looking is still carried by every worker.

The rounds themselves (`deliver_once`) are the store's and the exchange's tests; here each round reports what a
scripted outbox holds."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any, cast

from accord.bootstrap import build_registry
from accord.exchange.delivery import DeliveryWorker
from accord.node import Node

POLL_S = 0.05


class ScriptedWorker(DeliveryWorker):
    """A worker whose rounds take rows from a shared count of rows due, `batch` at a time."""

    def __init__(self, node: Any, due: list[int], *, polls: bool, batch: int = 10) -> None:
        super().__init__(cast(Node, node), polls=polls)
        self.due, self.batch, self.rounds = due, batch, 0
        self.lock = threading.Lock()

    def deliver_once(self) -> int:
        with self.lock:
            self.rounds += 1
            taken = min(self.batch, self.due[0])
            self.due[0] -= taken
        if taken:
            time.sleep(0.01)  # carrying a batch
        return taken


def _node() -> Any:
    settings = SimpleNamespace(outbox_poll_s=POLL_S)
    signals = {"outbox_signal": threading.Event(), "urgent_signal": threading.Event()}
    return SimpleNamespace(settings=settings, registry=build_registry(), **signals)


def _running(*workers: DeliveryWorker) -> tuple[threading.Event, list[threading.Thread]]:
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    return stop, threads


def _stopped(stop: threading.Event, threads: list[threading.Thread], node: Any) -> None:
    stop.set()
    node.outbox_signal.set()
    for thread in threads:
        thread.join(timeout=10)


def test_an_idle_node_looks_once_a_poll_not_once_a_worker() -> None:
    node, due = _node(), [0]
    poller, sibling = ScriptedWorker(node, due, polls=True), ScriptedWorker(node, due, polls=False)
    stop, threads = _running(poller, sibling)
    time.sleep(20 * POLL_S)
    _stopped(stop, threads, node)
    assert poller.rounds >= 10
    assert sibling.rounds <= 2  # its first round, and the one that stopping it wakes


def test_rows_the_poller_finds_due_are_carried_by_its_siblings_too() -> None:
    node, due = _node(), [0]
    poller, sibling = ScriptedWorker(node, due, polls=True), ScriptedWorker(node, due, polls=False)
    stop, threads = _running(poller, sibling)
    time.sleep(3 * POLL_S)
    with poller.lock:
        due[0] = 400  # come due without a signal: retries, another process's rows
    deadline = time.monotonic() + 5
    while due[0] and time.monotonic() < deadline:
        time.sleep(0.01)
    _stopped(stop, threads, node)
    assert due[0] == 0
    assert sibling.rounds > 5  # it carried batches, woken by the poller, long before its own five-second look


def test_what_the_process_queues_wakes_every_worker_at_once() -> None:
    node, due = _node(), [0]
    poller, sibling = ScriptedWorker(node, due, polls=True), ScriptedWorker(node, due, polls=False)
    stop, threads = _running(poller, sibling)
    time.sleep(3 * POLL_S)
    before = sibling.rounds
    node.outbox_signal.set()  # as enqueue does
    time.sleep(POLL_S)
    _stopped(stop, threads, node)
    assert sibling.rounds > before


def test_the_urgent_lane_never_polls_often() -> None:
    lane = DeliveryWorker(cast(Node, _node()), urgent_only=True, polls=True)
    assert not lane.polls

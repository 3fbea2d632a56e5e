"""The work on arriving messages (the neutrality screen on arrival, the stored content, the search words) gives the
same results in the arrival workers as in the node process, message for message and in order, for every case of
both packs; urgent and small batches never wait for a worker, nor does a batch while the workers warm up; a worker
that dies costs its batch nothing."""

from __future__ import annotations

import os
import signal
import time

import pytest

from accord.datafiles import load_agreement
from accord.domain.messages import Message
from accord.domain.parties import Party
from accord.exchange.arrival_work import ArrivalWork, Arriving, _work_bodies, arrival_work, work_here
from accord.exchange.disclosure import ArrivalScreen
from accord.exchange.screen_workers import ScreenWorkers
from accord.policy.cases import build_message, load_cases
from accord.policy.pack import PackError, load_pack, shipped_pack_dir


def screen_of(party: Party) -> ArrivalScreen:
    pack = load_pack(shipped_pack_dir(party))
    return ArrivalScreen(pack.label, pack.manifest.screens.neutrality)


def case_messages(party: Party) -> list[Message]:
    """Every case of the party's pack, as a message: officers' phrasings in English, French, Hindi, Punjabi and
    romanised, with persons, protected grounds, conduct and none."""
    table = load_cases(shipped_pack_dir(party) / "cases.yaml")
    agreement = load_agreement()
    built = []
    for index, case in enumerate(table.cases):
        try:
            built.append(build_message(table, case, agreement, index)[0])
        except PackError:  # a case of a draft the pack refuses before any message is built
            continue
    return built


def arriving(messages: list[Message]) -> list[Arriving]:
    return [(m, m.model_dump(mode="json")) for m in messages]


def ready(workers: ScreenWorkers, screen: ArrivalScreen, batch: list[Arriving], timeout_s: float = 60.0) -> None:
    """Until the pool is up and warm (batches before are worked on here)."""
    deadline = time.monotonic() + timeout_s
    while workers._ready(_work_bodies, screen, [batch[0][1]]) is None:  # the test waits for the warm-up it causes
        assert time.monotonic() < deadline, "the arrival workers did not start"
        time.sleep(0.05)


@pytest.mark.parametrize("party", [Party.CA, Party.IN])
def test_the_workers_find_what_the_node_process_finds_for_every_case_of_the_pack(
    workers: ScreenWorkers, party: Party
) -> None:
    screen = screen_of(party)
    batch = arriving(case_messages(party))
    assert len(batch) > 200
    ready(workers, screen, batch)
    here = work_here(screen, batch)
    there = arrival_work(workers, screen, batch, urgent=False)
    assert there == here
    outcomes = {w.screening["outcome"] for w in here if w.screening is not None}
    assert {"clear", "held"} <= outcomes  # the cases screen both ways: the comparison is not of empty verdicts
    assert all(w.words and w.content for w in there)


def test_urgent_and_small_batches_and_a_batch_while_the_workers_warm_up_are_worked_on_here() -> None:
    screen = screen_of(Party.IN)
    batch = arriving(case_messages(Party.CA)[:40])
    pool = ScreenWorkers(2, parallel_from=10)
    try:
        assert arrival_work(pool, screen, batch, urgent=True) == work_here(screen, batch)
        assert arrival_work(pool, screen, batch[:9], urgent=False) == work_here(screen, batch[:9])
        assert pool._pool is None  # neither started the workers
        first = arrival_work(pool, screen, batch, urgent=False)  # starts them, does not wait for them
        assert first == work_here(screen, batch)
        assert pool._pool is not None
    finally:
        pool.close()
    none = ScreenWorkers(0, parallel_from=1)
    assert arrival_work(none, screen, batch, urgent=False) == work_here(screen, batch)
    assert none._pool is None  # none asked for


def test_a_worker_that_dies_costs_its_batch_nothing_and_the_next_batch_starts_them_again(
    workers: ScreenWorkers,
) -> None:
    screen = screen_of(Party.IN)
    batch = arriving(case_messages(Party.CA)[:60])
    expected: list[ArrivalWork] = work_here(screen, batch)
    ready(workers, screen, batch)
    pool = workers._pool
    assert pool is not None
    for pid in list(pool._processes):  # killed as an operator's kill -9 or the OOM killer would
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert arrival_work(workers, screen, batch, urgent=False) == expected
    ready(workers, screen, batch)
    assert workers._pool is not pool  # a new pool
    assert arrival_work(workers, screen, batch, urgent=False) == expected


@pytest.mark.parametrize("party", [Party.CA, Party.IN])
def test_the_workers_screen_requests_as_officers_write_them_as_the_node_process_does(
    workers: ScreenWorkers, party: Party
) -> None:
    """The workers start from a fork server that built the shipped screens before forking them: what they find in
    requests phrased as officers write them (French, Hindi, Punjabi, indirect, about victims and witnesses, a bare
    title) on messages of the pack's cases (persons of every role, optional fields left empty) is what the node
    process finds."""
    from tests.unit.test_language import _OFFICER_TEXTS

    screen = screen_of(party)
    bases = case_messages(party)[::7]
    messages = []
    for base in bases:
        for text in _OFFICER_TEXTS:
            title, _, body = text.partition("\n")
            messages.append(base.model_copy(update={"title": title, "body": body or base.body}))
    batch = arriving(messages)
    assert len(batch) > 100
    ready(workers, screen, batch)
    here = work_here(screen, batch)
    assert arrival_work(workers, screen, batch, urgent=False) == here
    outcomes = {w.screening["outcome"] for w in here if w.screening is not None}
    assert {"clear", "held"} <= outcomes

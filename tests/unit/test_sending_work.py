"""A bulk batch decided in the screen workers is decided as in the node process: for every send case of both packs,
with the evidence each states (assessments, the request answered, attachments' persons), the same verdict, reasons,
policies, findings, stored content and search words; and a pack pickled to a worker decides as the original."""

from __future__ import annotations

import pickle
from collections import defaultdict
from dataclasses import replace

import pytest

from accord.datafiles import load_agreement
from accord.domain.messages import Message
from accord.domain.parties import Party
from accord.exchange.screen_workers import ScreenWorkers
from accord.exchange.sending import _decided_here, decide_part
from accord.policy.cases import _evidence, build_message, load_cases
from accord.policy.engine import CedarPolicy, Principal
from accord.policy.pack import PackError, load_pack, shipped_pack_dir
from accord.policy.screens import Evidence


def engine_of(party: Party) -> CedarPolicy:
    return CedarPolicy(load_pack(shipped_pack_dir(party)), load_agreement())


def send_cases(party: Party, engine: CedarPolicy) -> dict[Principal, list[tuple[Message, Evidence]]]:
    """The pack's send cases as `accord policy test` builds them, by the officer who sends."""
    table = load_cases(shipped_pack_dir(party) / "cases.yaml")
    by_principal: dict[Principal, list[tuple[Message, Evidence]]] = defaultdict(list)
    for index, case in enumerate(table.cases):
        if case.action in {"read", "forward"}:
            continue
        try:
            message, principal = build_message(table, case, engine.agreement, index)
        except PackError:
            continue
        stated = case.evidence.evidence(message)
        evidence = replace(
            _evidence(engine.pack, table, case, message),
            answered_request=stated.answered_request,
            attachments=stated.attachments,
        )
        by_principal[principal].append((message, evidence))
    return by_principal


@pytest.mark.parametrize("party", [Party.CA, Party.IN])
def test_the_workers_decide_every_send_case_of_the_pack_as_the_node_process(
    workers: ScreenWorkers, party: Party
) -> None:
    engine = engine_of(party)
    cases = send_cases(party, engine)
    assert sum(map(len, cases.values())) > 150
    verdicts = set()
    for principal, pending in cases.items():
        here = _decided_here(engine, principal, pending)
        # Until the workers are warm a batch is decided here: wait for them, then compare what they decide.
        while workers._ready(decide_part, (engine, principal), pending[:1]) is None:
            pass
        there = workers.map(decide_part, (engine, principal), pending, lambda: [], urgent=False)
        assert there == here
        verdicts |= {decision.verdict.value for decision, *_ in here}
    assert verdicts == {"allow", "deny", "review"}  # the cases decide every way: the comparison is not of one verdict


def test_a_pack_pickled_decides_as_the_original() -> None:
    engine = engine_of(Party.CA)
    copy = pickle.loads(pickle.dumps(engine))
    assert copy.pack.label == engine.pack.label and copy.pack.cedar_text == engine.pack.cedar_text
    [(principal, pending)] = list(send_cases(Party.CA, engine).items())[:1]
    assert _decided_here(copy, principal, pending) == _decided_here(engine, principal, pending)

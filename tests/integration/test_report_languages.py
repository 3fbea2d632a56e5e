from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from accord.directory.officers import Role, create_officer
from accord.domain.parties import Party
from accord.reports.progress import build_report
from accord.sandbox import seed_traffic
from accord.workplan.periods import parse_period
from tests.integration.nodes import PASSWORD, RunningNode, open_local


def test_dump(shared_sqlite_pair: tuple[RunningNode, RunningNode]) -> None:
    opened = {}
    for node in shared_sqlite_pair:
        local = open_local(node)
        create_officer(local, f"sample.{node.party.value.lower()}", PASSWORD, "SAMPLE",
                       "PS" if node.party is Party.CA else "MHA", frozenset({Role.OFFICER}), is_sample=True)
        opened[node.party] = local
    try:
        seed_traffic(opened, 80, 90, rng_seed=7)
        today = datetime.now(UTC).date()
        report = build_report(opened[Party.CA], parse_period(f"{today - timedelta(days=120)}..{today}"), with_charts=False)
    finally:
        for local in opened.values():
            local.close()
    with open("/tmp/taskc/report.json", "w") as f:
        json.dump(report, f, indent=1, default=str)

"""Ledger alarms for operators, in process on both backends: raised once per subject, listed page by page with
filters, acknowledged with a note (logged in the ledger), counted while unacknowledged; and the same through
`accord audit alarms` and `accord audit ack`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from accord.bootstrap import init_node
from accord.cli.audit import audit_app
from accord.config import load_settings, write_node_file
from accord.directory.officers import Role, create_officer
from accord.domain.parties import Party
from accord.errors import Forbidden, InvalidInput
from accord.exchange.audit import acknowledge, unacknowledged_alarms
from accord.ledger.alarms import (
    UNACKNOWLEDGED,
    Alarm,
    AlarmAlreadyAcknowledged,
    AlarmFilter,
    AlarmKind,
    AlarmNotFound,
    Recurrence,
    count_alarms,
    list_alarms,
    raise_alarm,
)
from accord.node import Node
from accord.store.tables import events, ledger_alarms
from tests.conftest import DatabaseFactory
from tests.integration.nodes import PASSWORD


@pytest.fixture
def node(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Node]:
    write_node_file(tmp_path, "127.0.0.1", 9, None)
    opened = init_node(load_settings(tmp_path, database_url=databases.new_migrated_url("alarms")), Party.CA)
    yield opened
    opened.close()


def alarm(node: Node, kind: AlarmKind, n: int, **options: Any) -> Alarm | None:
    return raise_alarm(node.engine, node.node_id, f"accord/peer-{n % 2}", kind, f"alarm {n}", {"n": n}, **options)


def raise_many(node: Node, count: int) -> list[int]:
    kinds = (AlarmKind.SPLIT_VIEW, AlarmKind.LOG_TRUNCATED)
    raised = [alarm(node, kinds[n % 2], n) for n in range(count)]
    return [a.id for a in raised if a is not None]


def page_ids(node: Node, which: AlarmFilter = AlarmFilter(), after: int | None = None, limit: int = 50) -> Any:
    with node.engine.connect() as conn:
        page = list_alarms(conn, which, after=after, limit=limit)
    return [a.id for a in page.alarms], page.next_after


def test_alarms_are_listed_oldest_first_page_by_page_with_a_stable_cursor(node: Node) -> None:
    ids = raise_many(node, 7)

    first, cursor = page_ids(node, limit=3)
    raise_many(node, 1)  # raised meanwhile: it comes at the end, nothing is skipped or listed twice
    second, cursor2 = page_ids(node, after=cursor, limit=3)
    third, cursor3 = page_ids(node, after=cursor2, limit=3)

    assert (first, cursor) == (ids[:3], ids[2])
    assert (second, cursor2) == (ids[3:6], ids[5])
    assert third[:1] == ids[6:] and len(third) == 2 and cursor3 is None


def test_alarms_are_filtered_by_kind_origin_acknowledgement_and_time(node: Node) -> None:
    ids = raise_many(node, 6)
    acknowledge(node, ids[0], "checked with the peer's operator")
    with node.engine.begin() as conn:  # one alarm from yesterday
        conn.execute(
            update(ledger_alarms).where(ledger_alarms.c.id == ids[5]).values(at=datetime.now(UTC) - timedelta(days=1))
        )

    assert page_ids(node, AlarmFilter(kind="split-view"))[0] == ids[0::2]
    assert page_ids(node, AlarmFilter(origin="accord/peer-1"))[0] == ids[1::2]
    assert page_ids(node, AlarmFilter(acknowledged=True))[0] == ids[:1]
    assert page_ids(node, UNACKNOWLEDGED)[0] == ids[1:]
    assert page_ids(node, AlarmFilter(since=datetime.now(UTC) - timedelta(hours=1)))[0] == ids[:5]
    with node.engine.connect() as conn:
        assert (count_alarms(conn), count_alarms(conn, UNACKNOWLEDGED)) == (6, 5)


def test_an_acknowledgement_records_who_when_and_the_note_and_is_logged_in_the_ledger(node: Node) -> None:
    [alarm_id] = raise_many(node, 1)
    operator = create_officer(node, "ca.operator", PASSWORD, "Operator", "PS", frozenset({Role.OPERATOR}))
    officer = create_officer(node, "ca.rcmp", PASSWORD, "Constable", "RCMP", frozenset({Role.OFFICER}))

    with pytest.raises(Forbidden):
        acknowledge(node, alarm_id, "not mine to acknowledge", officer)
    with pytest.raises(InvalidInput):
        acknowledge(node, alarm_id, "   ", operator)
    done = acknowledge(node, alarm_id, "peer's database restored from backup; re-pinned", operator)

    assert done.acknowledgement is not None
    assert (done.acknowledgement.by, done.acknowledgement.note) == (
        "ca.operator",
        "peer's database restored from backup; re-pinned",
    )
    assert unacknowledged_alarms(node) == 0
    with pytest.raises(AlarmAlreadyAcknowledged):
        acknowledge(node, alarm_id, "again", operator)
    with pytest.raises(AlarmNotFound):
        acknowledge(node, alarm_id + 100, "no such alarm", operator)
    with node.engine.connect() as conn:
        logged = conn.execute(
            select(events.c.actor, events.c.refs, events.c.payload_sha256).where(
                events.c.type == "ledger.alarm_acknowledged"
            )
        ).all()
    assert [(row.actor, json.loads(row.refs)["alarm"]) for row in logged] == [(operator.id, alarm_id)]
    assert logged[0].payload_sha256 is not None, "the note's hash is in the leaf, not the note"


def test_an_alarm_about_the_same_subject_is_raised_once_or_again_once_acknowledged(node: Node) -> None:
    evidence = alarm(node, AlarmKind.SPLIT_VIEW, 0, subject="note-digest")
    assert alarm(node, AlarmKind.SPLIT_VIEW, 0, subject="note-digest") is None
    assert evidence is not None
    acknowledge(node, evidence.id, "seen")
    assert alarm(node, AlarmKind.SPLIT_VIEW, 0, subject="note-digest") is None, "evidence raises one alarm, ever"

    condition = {"subject": "ca-node-1>in-node-1", "recurrence": Recurrence.AFTER_ACKNOWLEDGEMENT}
    first = alarm(node, AlarmKind.SEQUENCE_COLLISION, 0, **condition)
    assert first is not None
    assert alarm(node, AlarmKind.SEQUENCE_COLLISION, 0, **condition) is None
    acknowledge(node, first.id, "re-sequenced")
    assert alarm(node, AlarmKind.SEQUENCE_COLLISION, 0, **condition) is not None, "the condition came back"


# ------------------------------------------------------------------------------------------------------ the CLI


def cli(node: Node, *args: str) -> Result:
    env = {"ACCORD_DATABASE_URL": node.settings.resolved_database_url, "COLUMNS": "200"}
    return CliRunner().invoke(audit_app, [*args, "--data", str(node.settings.data_dir)], env=env)


def test_the_cli_lists_open_alarms_by_page_and_kind_and_fails_until_each_is_acknowledged(node: Node) -> None:
    ids = raise_many(node, 5)

    listed = cli(node, "alarms", "--limit", "2")
    following = cli(node, "alarms", "--limit", "2", "--after", str(ids[1]))
    truncations = cli(node, "alarms", "--kind", "log-truncated")

    assert listed.exit_code == 1, listed.output
    assert "5 unacknowledged" in listed.stdout and "alarm 0" in listed.stdout and "alarm 2" not in listed.stdout
    assert f"more: --after {ids[1]}" in listed.stdout
    assert "alarm 2" in following.stdout and "alarm 3" in following.stdout and "alarm 1" not in following.stdout
    assert "alarm 1" in truncations.stdout and "alarm 3" in truncations.stdout and "alarm 0" not in truncations.stdout

    for alarm_id in ids[:-1]:
        assert cli(node, "ack", str(alarm_id), "--note", "false alarm: test traffic").exit_code == 0
    create_officer(node, "ca.operator", PASSWORD, "Operator", "PS", frozenset({Role.OPERATOR}))
    by_officer = cli(node, "ack", str(ids[-1]), "--note", "checked", "--officer", "ca.operator")
    assert by_officer.exit_code == 0, by_officer.output
    assert f"acknowledged alarm {ids[-1]}" in by_officer.stdout and "by ca.operator" in by_officer.stdout

    quiet = cli(node, "alarms")
    everything = cli(node, "alarms", "--all")
    again = cli(node, "ack", str(ids[0]), "--note", "twice")
    assert (quiet.exit_code, everything.exit_code) == (0, 0)
    assert "no ledger alarms to acknowledge" in quiet.stdout
    assert "false alarm: test traffic" in everything.stdout and "by operator" in everything.stdout
    assert again.exit_code == 1 and "acknowledged already" in again.stderr

"""An agency's holdings on both stores: every row of an import checked (its line and reason when refused), records
held already and repeated in the file refused, a dry run storing nothing, retention enforced; holdings encoded once
per matching key, and encoded again after a release changes the encoding; the matching keys' files; and `accord
match import` exiting 0, 1 or 2 as the file deserves."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from accord.bootstrap import init_node
from accord.cli import app
from accord.config import load_settings, write_node_file
from accord.directory.officers import Officer, Role, create_officer
from accord.domain.parties import Party
from accord.errors import ConfigurationError, Conflict, Forbidden, InvalidInput, NotFound
from accord.matching.encode import MatchingKey
from accord.matching.holdings import RecordType, encoded_persons, ensure_encoded
from accord.matching.imports import UnreadableHoldings, import_holdings, read_rows
from accord.matching.keys import (
    NoMatchingKey,
    current_key,
    export_key,
    generate_key,
    import_key,
    list_keys,
    retire_key,
    usable_key,
)
from accord.matching.retention import purge_expired_holdings
from accord.node import Node
from accord.store.tables import match_encodings, match_holdings
from tests.conftest import DatabaseFactory

PASSWORD = "correct horse battery"
SOON = (date.today() + timedelta(days=365)).isoformat()
PERSONS = f"""id,name,date_of_birth,sex,nationality,document_number,phone,retain_until
B-1,Gurpreet Kaur Sandhu,1998-04-03,F,IND,P1234567,+91 98140 12345,
B-2,हरप्रीत सिंह ढिल्लों,20/11/1987,M,IND,,,
B-3,ਮਨਪ੍ਰੀਤ ਕੌਰ ਗਿੱਲ,1995,F,IND,,,
B-4,,1990-01-01,,,,,
B-5,Bad Date,31/02/1990,,,,,
B-1,Someone Again,1990-01-01,,,,,
B-7,Past Retention,1990-01-01,,,,,{(date.today() - timedelta(days=1)).isoformat()}
B-8,Bad Phone,1990-01-01,,,,12,
B-9,Gu‍rpreet Mixed Scrਿpt,1990-01-01,,,,,
"""


@pytest.fixture
def node(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Node]:
    write_node_file(tmp_path, "127.0.0.1", 9, None)
    opened = init_node(load_settings(tmp_path, database_url=databases.new_migrated_url("holdings")), Party.IN)
    yield opened
    opened.close()


def _officer(node: Node, username: str = "boi", roles: frozenset[Role] = frozenset({Role.OFFICER})) -> Officer:
    return create_officer(node, username, PASSWORD, username, "BOI", roles)


def test_an_import_stores_the_good_rows_and_names_each_refused_line(node: Node) -> None:
    boi = _officer(node)
    rows = read_rows(PERSONS.encode(), "persons.csv")
    until = date.fromisoformat(SOON)
    unkept = import_holdings(node, boi, RecordType.PERSON, rows[:1], source="s", retain_until=None, dry_run=True)
    assert unkept.stored == 0 and "retain_until" in unkept.refused[0].reason  # no date to keep it until
    dry = import_holdings(node, boi, RecordType.PERSON, rows, source="watch list", retain_until=until, dry_run=True)
    assert dry.stored == 3 and dry.import_id is None
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(match_holdings)).scalar_one() == 0
    done = import_holdings(
        node, boi, RecordType.PERSON, rows, source="watch list", retain_until=date.fromisoformat(SOON)
    )
    assert done.stored == 3 and done.import_id is not None
    refused = {r.line: r.reason for r in done.refused}
    assert set(refused) == {5, 6, 7, 8, 9, 10}
    assert "name" in refused[5] and "31/02/1990" in refused[6] and "repeats line 2" in refused[7]
    assert "past" in refused[8] and "phone" in refused[9] and "mixes scripts" in refused[10]
    again = import_holdings(
        node, boi, RecordType.PERSON, rows[:1], source="again", retain_until=date.fromisoformat(SOON)
    )
    assert again.stored == 0 and "holds a person with id 'B-1' already" in again.refused[0].reason


def test_holdings_past_their_retention_date_are_purged_with_their_encodings(node: Node) -> None:
    boi = _officer(node)
    rows = read_rows(PERSONS.encode(), "persons.csv")[:3]
    import_holdings(node, boi, RecordType.PERSON, rows, source="s", retain_until=date.fromisoformat(SOON))
    with node.engine.begin() as conn:
        ensure_encoded(conn, "BOI", MatchingKey("k-1", b"k" * 32), date.today())
    assert purge_expired_holdings(node) == {}
    assert purge_expired_holdings(node, date.fromisoformat(SOON) + timedelta(days=1)) == {"BOI": 3}
    with node.engine.connect() as conn:
        for table in (match_holdings, match_encodings):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_unusable_files_and_roles_change_nothing(node: Node) -> None:
    for content in (b"\xff\xfe", b"name,date_of_birth\nX,1990\n", b"[1, 2]", b'{"id": "x"\n', b""):
        with pytest.raises(UnreadableHoldings):
            read_rows(content, "f")
    coordinator = _officer(node, "coord", frozenset({Role.COORDINATOR}))
    with pytest.raises(Forbidden):
        import_holdings(
            node,
            coordinator,
            RecordType.PHONE,
            [(2, {"id": "T-1", "number": "+91 98140 12345"})],
            source="s",
            retain_until=date.fromisoformat(SOON),
        )
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(match_holdings)).scalar_one() == 0


def test_holdings_are_encoded_once_per_key_and_again_after_an_encoding_change(node: Node) -> None:
    boi = _officer(node)
    rows = read_rows(PERSONS.encode(), "persons.csv")[:3]
    import_holdings(node, boi, RecordType.PERSON, rows, source="s", retain_until=date.fromisoformat(SOON))
    key = MatchingKey("k-1", b"k" * 32)
    with node.engine.begin() as conn:
        ensure_encoded(conn, "BOI", key, date.today())
        ids, encoded = encoded_persons(conn, "BOI", key, date.today())
        assert len(ids) == 3 and {e.key_id for e in encoded} == {"k-1"}
        conn.execute(update(match_encodings).values(encoding=json.dumps({"v": 0, "key_id": "k-1", "words": []})))
    with node.engine.begin() as conn:
        again_ids, again = encoded_persons(conn, "BOI", key, date.today())
    assert again_ids == ids and all(e.words for e in again)
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(match_encodings)).scalar_one() == 3


def test_matching_keys_live_in_owner_only_files_and_are_never_replaced(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ca", tmp_path / "in"
    with pytest.raises(NoMatchingKey):
        current_key(ours)
    generate_key(ours, "2026-12")
    path = ours / "keys" / "matching" / "2026-12.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    carried = tmp_path / "carried.json"
    export_key(ours, "2026-12", carried)
    assert stat.S_IMODE(carried.stat().st_mode) == 0o600
    import_key(theirs, carried)
    assert current_key(theirs).secret == current_key(ours).secret
    with pytest.raises(Conflict):
        generate_key(ours, "2026-12")
    other = tmp_path / "other.json"
    generate_key(tmp_path / "x", "2026-12")
    export_key(tmp_path / "x", "2026-12", other)
    with pytest.raises(Conflict):  # another secret under an id held already
        import_key(theirs, other)
    for bad in ("../evil", "", "a b"):
        with pytest.raises(InvalidInput):
            generate_key(ours, bad)
    with pytest.raises(NotFound):
        usable_key(theirs, "2027-01")
    retire_key(theirs, "2026-12")
    with pytest.raises(InvalidInput):
        usable_key(theirs, "2026-12")
    assert [k.retired_at is not None for k in list_keys(theirs)] == [True]
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError):
        current_key(ours)
    assert "kkkk" not in repr(MatchingKey("k", b"k" * 32))


def test_accord_match_import_exits_by_what_it_could_do(node: Node, tmp_path: Path) -> None:
    _officer(node)
    env = {"ACCORD_DATABASE_URL": node.settings.resolved_database_url}
    data = str(node.settings.data_dir)
    good, mixed, broken = tmp_path / "good.csv", tmp_path / "mixed.csv", tmp_path / "broken.csv"
    good.write_text("id,number\nT-1,+91 98140 12345\nT-2,416 555 0199\n", encoding="utf-8")
    mixed.write_text("id,number\nT-3,+91 98140 54321\nT-4,not a phone\n", encoding="utf-8")
    broken.write_bytes(b"\xff\xfe\x00")
    common = ["--data", data, "--officer", "boi", "--type", "phone", "--source", "CAFC reports", "--retain-until", SOON]
    runner = CliRunner()
    dry = runner.invoke(app, ["match", "import", str(good), *common, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would store 2" in dry.output
    assert runner.invoke(app, ["match", "import", str(good), *common], env=env).exit_code == 0
    partly = runner.invoke(app, ["match", "import", str(mixed), *common], env=env)
    assert partly.exit_code == 1 and "line 3 (T-4)" in partly.output
    assert runner.invoke(app, ["match", "import", str(broken), *common], env=env).exit_code == 2
    wrong_type = runner.invoke(app, ["match", "import", str(good), *common[:4], "--type", "vessel"], env=env)
    assert wrong_type.exit_code == 2 and "not a record type" in wrong_type.output
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(match_holdings)).scalar_one() == 3

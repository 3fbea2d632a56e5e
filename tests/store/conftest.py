"""Fixtures of the store's tests: a bare SQLite engine with a `log` table (writers and their order), and Canada's node
of a pair in process with an officer who sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from accord.directory.officers import Officer, Role, create_officer
from accord.node import Node
from accord.store.engine import make_engine
from tests.integration.nodes import PASSWORD
from tests.ledger.pairs import open_pair


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with made.begin() as conn:
        conn.execute(text("CREATE TABLE log (n INTEGER PRIMARY KEY, who TEXT)"))
    yield made
    made.dispose()


@pytest.fixture
def canada(tmp_path: Path) -> Iterator[tuple[Node, Officer]]:
    pair = open_pair(tmp_path, None, None)  # SQLite; the peer's address answers nothing, so sent messages wait
    try:
        yield pair.ca, create_officer(pair.ca, "ca.rcmp", PASSWORD, "Constable", "RCMP", frozenset({Role.OFFICER}))
    finally:
        pair.ca.close()
        pair.india.close()

"""A running Canada–India node pair per test, on each storage backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DatabaseFactory
from tests.integration.nodes import RunningNode, create_pair


@pytest.fixture
def pair(databases: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[RunningNode, RunningNode]]:
    ca, in_ = create_pair(tmp_path, databases.new_url("ca"), databases.new_url("in"))
    ca.start()
    in_.start()
    yield ca, in_
    ca.dispose()
    in_.dispose()

"""A running Canada–India node pair per test, on each storage backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, DatabaseFactory, postgres_reachable
from tests.integration.nodes import RunningNode, create_pair


@pytest.fixture
def pair(databases: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[RunningNode, RunningNode]]:
    ca, in_ = create_pair(tmp_path, databases.new_url("ca"), databases.new_url("in"))
    ca.start()
    in_.start()
    yield ca, in_
    ca.dispose()
    in_.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def shared_pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    """One running pair per module and backend, for tests that each touch their own part of the nodes' state."""
    backend = str(request.param)
    if backend == "postgresql":
        postgres_reachable()
    root = tmp_path_factory.mktemp(f"pair-{backend}")
    factory = DatabaseFactory(backend, root)
    ca, in_ = create_pair(root, factory.new_url("ca"), factory.new_url("in"))
    ca.start()
    in_.start()
    yield ca, in_
    ca.dispose()
    in_.dispose()
    factory.drop_all()

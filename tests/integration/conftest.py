"""A running Canada–India node pair per test, or per module, on each storage backend: copies of one initialised pair
per backend and test process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, DatabaseFactory, databases_for
from tests.integration.launcher import NodeLauncher
from tests.integration.nodes import PairTemplates, RunningNode, running_pair


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PairTemplates]:
    launcher = NodeLauncher()
    made = PairTemplates(tmp_path_factory.mktemp("templates"), launcher)
    yield made
    made.drop_all()
    launcher.close()


@pytest.fixture
def pair(
    templates: PairTemplates, databases: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[RunningNode, RunningNode]]:
    with running_pair(templates, databases, tmp_path) as started:
        yield started


@pytest.fixture(scope="module", params=BACKENDS)
def shared_pair(
    request: pytest.FixtureRequest, templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    """One running pair per module and backend, for tests that each touch their own part of the nodes' state."""
    backend = str(request.param)
    root = tmp_path_factory.mktemp(f"pair-{backend}")
    databases = databases_for(backend, root)
    with running_pair(templates, databases, root) as started:
        yield started
    databases.drop_all()

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
def templates(tmp_path_factory: pytest.TempPathFactory, launcher: NodeLauncher) -> Iterator[PairTemplates]:
    made = PairTemplates(tmp_path_factory.mktemp("templates"), launcher)
    yield made
    made.drop_all()


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
    yield from _module_pair(str(request.param), templates, tmp_path_factory)


# A module of legal rules (what a policy pack decides, holds or refuses), of a capability's rules (the work plan's
# proposals, precursor checks, cyber shares, graph queries), of who may call what (the authorization matrix) or of the
# wire protocol's versions decides the same whatever stores the messages, while the
# store, exchange, ledger, federation-fault, TAXII, bulk-import, report and network-entity modules run on both
# backends: such a module overrides `databases` or `shared_pair` with these and runs once, on SQLite.


@pytest.fixture
def sqlite_databases(tmp_path: Path) -> Iterator[DatabaseFactory]:
    factory = databases_for("sqlite", tmp_path)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="module")
def shared_sqlite_pair(
    templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    yield from _module_pair("sqlite", templates, tmp_path_factory)


def _module_pair(
    backend: str, templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    root = tmp_path_factory.mktemp(f"pair-{backend}")
    databases = databases_for(backend, root)
    with running_pair(templates, databases, root) as started:
        yield started
    databases.drop_all()

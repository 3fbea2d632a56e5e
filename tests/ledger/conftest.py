"""The audit tests' ledgers: a Canada–India pair per test on each backend, and one untampered set of files (SQLite)
per module for the tests that forge or damage files rather than databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.crypto.keys import NodeKeys
from accord.exchange.audit import export_trust_file, export_witnessed
from tests.conftest import DatabaseFactory
from tests.ledger.pairs import Ledger, cover_tail, fill, fingerprint, open_pair


@dataclass(frozen=True)
class CleanFiles:
    """What an oversight body holds for an honest pair: Canada's bundle (68 leaves, the last 5 not yet
    countersigned), the same after the next checkpoint round (every leaf covered), the trust file, and India's
    evidence of Canada's checkpoints it countersigned (sizes 23, 43, 63): India's own bundle and its witnessed-head
    file. Also what an insider at Canada holds: Canada's signing key."""

    bundle: Path
    covered: Path
    trust: Path
    india_bundle: Path
    witnessed_head: Path
    ca_keys: NodeKeys
    ca_fingerprint: str
    india_fingerprint: str


@pytest.fixture
def ledger(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Ledger]:
    pair = fill(open_pair(tmp_path, databases.new_migrated_url("ca"), databases.new_migrated_url("in")))
    yield pair
    pair.close()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> CleanFiles:
    pair = fill(open_pair(tmp_path_factory.mktemp("clean"), None, None))
    try:
        bundle, trust = pair.export("clean.json.gz"), pair.root / "clean.trust.json"
        india_bundle, witnessed_head = pair.export("india.json.gz", node=pair.india), pair.root / "india.head.json"
        export_trust_file(pair.ca, trust)
        export_witnessed(pair.india, witnessed_head)
        cover_tail(pair)
        covered = pair.export("covered.json.gz")
        return CleanFiles(
            bundle,
            covered,
            trust,
            india_bundle,
            witnessed_head,
            pair.ca.keys,
            fingerprint(pair.ca),
            fingerprint(pair.india),
        )
    finally:
        pair.close()


@pytest.fixture(scope="module")
def clean_bundle(clean: CleanFiles) -> Path:
    """Canada's untampered bundle, for the tests that damage the file rather than the database."""
    return clean.bundle

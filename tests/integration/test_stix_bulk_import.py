"""`accord cyber import` on a real node's data directory: thousands of indicators streamed from a bundle into a TAXII
collection and read back through the store; bad objects reported by position and reason, the good ones stored; what
goes to the partner shared in messages of at most 1,000 objects; and memory that does not grow with the file."""

from __future__ import annotations

import json
import subprocess
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.directory.officers import officer_by_username
from accord.focus.cyber.bulk import import_objects
from accord.focus.cyber.collections import load_collections
from accord.focus.cyber.store import ObjectFilters, query_objects
from accord.store.tables import messages, stix_objects
from tests.conftest import databases_for
from tests.integration.nodes import PairTemplates, RunningNode, open_local

# Thousands of objects through the validator and the store, in subprocesses (`-m "not slow"` leaves them out).
pytestmark = [pytest.mark.slow, pytest.mark.spread]

NATIONAL = "cyber-national"
TO_PARTNER = "cyber-to-partner"


def indicators(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """`count` distinct IPv4 indicators, each with its own id and address."""
    at = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for n in range(start, start + count):
        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        yield {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=uuid.uuid4().int ^ n, version=4)}",
            "created": at,
            "modified": at,
            "name": f"Bulk sample indicator {n} (SAMPLE)",
            "description": "Address seen scanning government networks; generated for the bulk import test.",
            "indicator_types": ["malicious-activity"],
            "pattern": f"[ipv4-addr:value = '{address}']",
            "pattern_type": "stix",
            "valid_from": at,
        }


def notes(count: int) -> Iterator[dict[str, Any]]:
    """`count` analyst notes of about 4 KB each: quick to check, so the memory test measures the import, not the
    validator under tracemalloc."""
    at = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    about = f"indicator--{uuid.uuid4()}"
    for n in range(count):
        yield {
            "type": "note",
            "spec_version": "2.1",
            "id": f"note--{uuid.uuid4()}",
            "created": at,
            "modified": at,
            "abstract": f"Analyst note {n} (SAMPLE)",
            "content": f"Note {n}: " + "the address was seen scanning government networks; " * 80,
            "object_refs": [about],
        }


def write_bundle(path: Path, objects: Iterator[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write(f'{{"type": "bundle", "id": "bundle--{uuid.uuid4()}", "objects": [')
        for n, stix in enumerate(objects):
            f.write((",\n" if n else "\n") + json.dumps(stix))
        f.write("\n]}\n")
    return path


@pytest.fixture
def canada(templates: PairTemplates, tmp_path: Path) -> Iterator[RunningNode]:
    """A Canada node's data directory and database (with its India peer pinned); not serving. On SQLite: what is
    checked here is the import's (positions, refusals, batches, progress); the store's own statements, the held
    objects' lookup among them, run on both backends in tests/store/test_stix_store.py."""
    databases = databases_for("sqlite", tmp_path)
    ca, in_ = templates.copy(databases, tmp_path)
    yield ca
    ca.dispose()
    in_.dispose()


def accord(node: RunningNode, *args: str) -> subprocess.CompletedProcess[str]:
    return node.run_accord(
        "cyber", "import", *args, "--data", str(node.data_dir), env=node.env() | {"COLUMNS": "200"}, timeout_s=300
    )


def held(node: RunningNode, alias: str) -> int:
    key = next(c.key for c in load_collections().collections if c.alias == alias)
    with node.engine.connect() as conn:
        count = select(func.count()).select_from(stix_objects).where(stix_objects.c.collection_id == key)
        return int(conn.execute(count).scalar_one())


def test_two_thousand_indicators_from_a_bundle_are_stored_and_read_back(canada: RunningNode, tmp_path: Path) -> None:
    objects = list(indicators(2_000))
    bundle = write_bundle(tmp_path / "indicators.json", iter(objects))
    done = accord(canada, str(bundle), "--officer", "ca.cccs", "--collection", NATIONAL, "--batch", "300")
    assert done.returncode == 0, done.stderr
    assert "2,000 objects read; stored 2,000, already held 0, failed 0" in done.stdout
    assert held(canada, NATIONAL) == 2_000

    collection = next(c for c in load_collections().collections if c.alias == NATIONAL)
    with canada.engine.connect() as conn:
        reader = officer_by_username(conn, "ca.cccs")
        assert reader is not None
        page = query_objects(conn, collection.key, reader, ObjectFilters(limit=2_000, ids=(objects[1234]["id"],)))
    assert [json.loads(entry.content) for entry in page.entries] == [objects[1234]]

    again = accord(canada, str(bundle), "--officer", "ca.cccs", "--collection", collection.key)
    assert again.returncode == 0, again.stderr
    assert "stored 0, already held 2,000, failed 0" in again.stdout
    assert held(canada, NATIONAL) == 2_000


def test_bad_objects_are_reported_by_position_and_the_good_ones_stored(canada: RunningNode, tmp_path: Path) -> None:
    good = list(indicators(50))
    objects: list[Any] = list(good)
    objects[10] = {**good[10], "pattern": "[ipv4-addr:value = "}
    objects[20] = {**good[20], "spec_version": "2.0"}
    objects[30] = "not an object"
    lines = tmp_path / "indicators.jsonl"
    lines.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")

    done = accord(canada, str(lines), "--officer", "ca.cccs", "--collection", NATIONAL, "--batch", "7")
    assert done.returncode == 1, done.stderr
    report = done.stdout.splitlines()
    assert report[0].startswith(f"object 11 ({good[10]['id']}): ")
    assert report[1] == f"object 21 ({good[20]['id']}): spec_version is '2.0'; this server holds STIX 2.1 objects only"
    assert report[2] == "object 31 (object #31 (no id)): not a JSON object"
    assert "50 objects read; stored 47, already held 0, failed 3" in report[3]
    assert held(canada, NATIONAL) == 47


def test_an_unusable_file_collection_or_officer_stores_nothing(canada: RunningNode, tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "two.json", indicators(2))
    not_json = tmp_path / "notes.txt"
    not_json.write_text("these are not STIX objects\n", encoding="utf-8")
    cases = {
        "cannot read": accord(canada, str(tmp_path / "missing.json"), "--officer", "ca.cccs", "--collection", NATIONAL),
        "expected a STIX bundle or JSON Lines": accord(
            canada, str(not_json), "--officer", "ca.cccs", "--collection", NATIONAL
        ),
        "no collection 'cyber-nowhere'": accord(
            canada, str(bundle), "--officer", "ca.cccs", "--collection", "cyber-nowhere"
        ),
        "ca.rcmp may not add objects to collection cyber-national": accord(
            canada, str(bundle), "--officer", "ca.rcmp", "--collection", NATIONAL
        ),
        "a from_partner": accord(canada, str(bundle), "--officer", "ca.cccs", "--collection", "cyber-from-partner"),
    }
    for expected, done in cases.items():
        assert done.returncode == 2, (expected, done.stdout, done.stderr)
        if expected != "a from_partner":
            assert expected in " ".join(done.stderr.split()), done.stderr
    assert held(canada, NATIONAL) == 0


def test_a_broken_file_stops_where_it_breaks_with_what_came_before_stored(canada: RunningNode, tmp_path: Path) -> None:
    lines = tmp_path / "broken.jsonl"
    lines.write_text(
        "".join(json.dumps(o) + "\n" for o in indicators(5)) + '{"type": "indicator", "id": \n', encoding="utf-8"
    )
    done = accord(canada, str(lines), "--officer", "ca.cccs", "--collection", NATIONAL)
    assert done.returncode == 1
    assert "object 6 (line 6) is not valid JSON" in done.stderr
    assert "5 objects read; stored 5" in done.stdout
    assert held(canada, NATIONAL) == 5


def test_an_import_into_a_to_partner_collection_is_shared_a_thousand_objects_a_message(
    canada: RunningNode, tmp_path: Path
) -> None:
    bundle = write_bundle(tmp_path / "share.json", indicators(2_300))
    with canada.engine.connect() as conn:
        before = int(conn.execute(select(func.count()).select_from(messages)).scalar_one())
    done = accord(canada, str(bundle), "--officer", "ca.cccs", "--collection", TO_PARTNER, "--batch", "700")
    assert done.returncode == 0, done.stderr
    assert "stored 2,300, already held 0, failed 0; shared in 3 message(s)" in done.stdout
    with canada.engine.connect() as conn:
        assert int(conn.execute(select(func.count()).select_from(messages)).scalar_one()) == before + 3


@pytest.fixture
def canada_on_sqlite(templates: PairTemplates, tmp_path: Path) -> Iterator[RunningNode]:
    databases = databases_for("sqlite", tmp_path)
    ca, in_ = templates.copy(databases, tmp_path)
    yield ca
    ca.dispose()
    in_.dispose()


def test_memory_stays_flat_however_large_the_file(canada_on_sqlite: RunningNode, tmp_path: Path) -> None:
    small = write_bundle(tmp_path / "small.json", notes(600))
    large = write_bundle(tmp_path / "large.json", notes(2_500))
    size = large.stat().st_size
    node = open_local(canada_on_sqlite)
    try:
        collection = next(c for c in load_collections().collections if c.alias == NATIONAL)
        with node.engine.connect() as conn:
            officer = officer_by_username(conn, "ca.cccs")
        assert officer is not None
        with small.open("rb") as stream:  # builds the validators and statement caches once
            import_objects(node, officer, collection, stream, total_bytes=small.stat().st_size)
        tracemalloc.start()
        try:
            with large.open("rb") as stream:
                report = import_objects(node, officer, collection, stream, total_bytes=size, batch_size=100)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        node.close()
    assert (report.stored, report.failed) == (2_500, 0)
    # The file read whole would take at least its size (as Python objects, several times it); a batch, a small part.
    assert peak < size / 4, f"peak {peak:,} bytes for a {size:,}-byte file"

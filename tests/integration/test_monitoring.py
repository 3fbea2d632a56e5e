"""Monitoring a running pair on each store: Prometheus scrapes /metrics with the scrape token or an operator's token
(nobody else), the outbox's depth shows a backlog while the peer is away and none once it is back, and /readyz says
ready until the database's schema or the database itself is gone."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, PG_ADMIN_DSN, databases_for
from tests.integration.nodes import PairTemplates, RunningNode, draft, running_pair, wait_for

SCRAPE_TOKEN = "scrape-0123456789abcdef0123456789abcdef"
PEER = "in-node-1"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module", params=BACKENDS)
def pair(
    request: pytest.FixtureRequest, templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    root = tmp_path_factory.mktemp(f"monitoring-{request.param}")
    token_file = root / "scrape-token"
    token_file.write_text(SCRAPE_TOKEN + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    databases = databases_for(str(request.param), root)
    with running_pair(templates, databases, root, env={"ACCORD_METRICS_TOKEN_FILE": str(token_file)}) as started:
        yield started
    databases.drop_all()


def scrape(node: RunningNode, token: str = SCRAPE_TOKEN) -> Samples:
    response = httpx.get(node.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30.0)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def routine_waiting(node: RunningNode) -> float:
    return value(scrape(node), "accord_outbox_envelopes", peer=PEER, kind="message", priority="routine")


def readiness(node: RunningNode) -> httpx.Response:
    return httpx.get(node.url + "/readyz", timeout=30.0)


def peer_status(node: RunningNode) -> dict[str, Any]:
    peers: list[dict[str, Any]] = readiness(node).json()["peers"]
    return next(p for p in peers if p["node"] == PEER)


def test_a_scrape_without_the_token_or_an_operators_is_refused_and_the_token_is_not_logged(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    canada, _india = pair
    for headers in ({}, {"Authorization": "Bearer not-the-scrape-token-0123456789"}):
        refused = httpx.get(canada.url + "/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "accord_" not in refused.text
    not_an_operator = httpx.get(canada.url + "/metrics", headers={"Authorization": f"Bearer {canada.token('ca.rcmp')}"})
    assert not_an_operator.status_code == 403
    as_operator = scrape(canada, canada.token("ca.operator"))
    assert [dict(labels)["node"] for name, labels in as_operator if name == "accord_node_info"] == ["ca-node-1"]
    log = (canada.data_dir / "node.log").read_text(errors="replace")
    assert "not-the-scrape-token" not in log and SCRAPE_TOKEN not in log


def test_the_outbox_shows_a_backlog_while_the_peer_is_away_and_drains_when_it_is_back(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    canada, india = pair
    before = scrape(canada)
    assert value(before, "accord_outbox_envelopes", peer=PEER, kind="message", priority="routine") == 0
    india.stop()
    try:
        with canada.client("ca.rcmp") as rcmp:
            for n in range(3):
                assert rcmp.post("/api/v1/messages", json=draft(title=f"While India is away #{n}")).status_code == 201
        assert routine_waiting(canada) == 3
        away = wait_for(lambda: peer_status(canada)["reachable"] is False and peer_status(canada))
        assert away["since"] is not None
        assert readiness(canada).status_code == 200, "a peer away does not make the node unready"
        assert value(scrape(canada), "accord_outbox_oldest_age_seconds", peer=PEER) > 0
    finally:
        india.start()
    wait_for(lambda: routine_waiting(canada) == 0, 60)
    after = scrape(canada)
    assert value(after, "accord_outbox_oldest_age_seconds", peer=PEER) == 0
    delivered = value(after, "accord_envelopes_delivered_total") - value(before, "accord_envelopes_delivered_total")
    assert delivered >= 3
    assert value(after, "accord_delivery_latency_seconds_count", peer=PEER) >= 3
    assert value(after, "accord_delivery_attempts_count", peer=PEER, outcome="delivered") >= 3
    assert value(after, "accord_policy_decisions_total", verdict="allow") >= 3
    assert value(after, "accord_ledger_size") > value(before, "accord_ledger_size")
    back = wait_for(lambda: peer_status(canada)["reachable"] is True and peer_status(canada))
    assert back["since"] > away["since"]


def test_the_node_is_ready_while_its_database_schema_is_current_and_not_while_it_is_behind(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    canada, _india = pair
    ready = readiness(canada)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["failed"] == []
    with canada.engine.begin() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    try:
        behind = readiness(canada)
    finally:
        with canada.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    assert behind.status_code == 503
    assert behind.json()["status"] == "not-ready" and behind.json()["failed"] == ["migrations"]
    assert "0014" not in behind.text and current not in behind.text, "an unauthenticated caller learns no revision"
    logged = [
        json.loads(line)
        for line in (canada.data_dir / "node.log").read_text(errors="replace").splitlines()
        if behind.headers["x-request-id"] in line
    ]
    assert [(line["event"], line.get("database")) for line in logged] == [
        ("not ready: the database schema differs", "0014")
    ]
    assert readiness(canada).status_code == 200


def test_every_metric_the_sample_dashboard_charts_is_one_the_node_exposes(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    dashboard = json.loads((Path(__file__).parents[2] / "docs" / "grafana" / "accord-node.json").read_text())
    charted = {
        name
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        for name in re.findall(r"\baccord_[a-z_]+", target["expr"])
    }
    response = httpx.get(pair[0].url + "/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}, timeout=30.0)
    # Families, not samples: a histogram no delivery has filled yet is declared all the same.
    exposed = {family.name for family in text_string_to_metric_families(response.text)}
    charted_families = {re.sub(r"_(bucket|sum|count|total)$", "", name) for name in charted}
    assert charted and charted_families <= exposed, charted_families - exposed
    assert {panel["gridPos"]["y"] for panel in dashboard["panels"]}, "a dashboard model places every panel"


def test_the_node_is_not_ready_once_its_database_is_gone(pair: tuple[RunningNode, RunningNode]) -> None:
    """Last in the module: the database does not come back."""
    canada, _india = pair
    url = make_url(canada.database_url)
    if url.get_backend_name() == "sqlite":
        os.rename(str(url.database), f"{url.database}.gone")
    else:
        import psycopg

        canada.engine.dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:  # as good as dropped, without the checkpoint
            conn.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false')
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (url.database,))
    gone = readiness(canada)
    assert gone.status_code == 503
    body = gone.json()
    assert body["failed"] == ["database", "migrations"]
    assert str(url.database) not in gone.text and "Error" not in gone.text

"""Sign-in throttling on every way in (API token, web sign-in, TAXII Basic) against a running node on each store, and
refusals of unauthenticated input counted instead of ledgered.

The node runs with thresholds of its own (not the defaults), so that every number a test sees comes from the
settings, and with a clock a test runs ahead, so that a back-off passes without waiting. Each test signs in as
officers of its own from source addresses of its own (`X-Forwarded-For`, which the node trusts from loopback only),
so that tests share the node but no failure count.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import argon2
import httpx
import pytest
from sqlalchemy import MetaData, String, func, select
from typer.testing import CliRunner, Result

from accord.cli import app
from accord.config import write_node_file
from accord.crypto.keys import NodeKeys
from accord.directory.officers import Role, create_officer, issue_token
from accord.directory.throttle import SignInAttempt, SignInThrottled
from accord.errors import AuthenticationFailed
from accord.exchange.transport import tls_context
from accord.store.tables import events, refusal_counts
from accord.trust.refusals import Endpoint
from tests.conftest import BACKENDS, databases_for
from tests.integration.forgery import CA_NODE, batch, claims_for, message, post_batch, seal
from tests.integration.nodes import PASSWORD, PairTemplates, RunningNode, free_port, open_local

FREE_FAILURES = 4
SOURCE_FREE_FAILURES = 12
BACKOFF_S = 60
BACKOFF_MAX_S = 600
LOCKOUT_FAILURES = 10
LOG_INTERVAL_S = 60
SETTINGS = {
    "ACCORD_SIGN_IN_FREE_FAILURES": str(FREE_FAILURES),
    "ACCORD_SIGN_IN_SOURCE_FREE_FAILURES": str(SOURCE_FREE_FAILURES),
    "ACCORD_SIGN_IN_BACKOFF_S": str(BACKOFF_S),
    "ACCORD_SIGN_IN_BACKOFF_MAX_S": str(BACKOFF_MAX_S),
    "ACCORD_SIGN_IN_LOCKOUT_FAILURES": str(LOCKOUT_FAILURES),
    "ACCORD_REFUSAL_LOG_INTERVAL_S": str(LOG_INTERVAL_S),
    # One window for the whole module (the clock runs weeks ahead): a log line counts what it suppressed per window.
    "ACCORD_REFUSAL_WINDOW_S": str(10**9),
}
MEDIA = "application/taxii+json;version=2.1"
PROBLEM_JSON = "application/problem+json"
WRONG = "not-the-password"
# Officers of this module: (username, agency, roles)
OFFICERS = [
    ("ca.t.api", "RCMP", ["officer"]),
    ("ca.t.web", "RCMP", ["officer"]),
    ("ca.t.taxii", "CCCS", ["officer", "analyst"]),
    ("ca.t.shared.1", "RCMP", ["officer"]),
    ("ca.t.shared.2", "CBSA", ["officer"]),
    ("ca.t.shared.3", "PS", ["officer"]),
    ("ca.t.colleague", "RCMP", ["officer"]),
    ("ca.t.lock", "RCMP", ["officer"]),
    ("ca.t.processes", "RCMP", ["officer"]),
    ("ca.t.hash", "RCMP", ["officer"]),
    ("ca.t.names", "RCMP", ["officer"]),
    ("ca.t.secret", "RCMP", ["officer"]),
]


@pytest.fixture(scope="module", params=BACKENDS)
def canada(
    request: pytest.FixtureRequest, templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningNode]:
    """Canada's node alone (no peer is needed to sign in), with this module's officers and thresholds."""
    backend = str(request.param)
    root = tmp_path_factory.mktemp(f"throttle-{backend}")
    databases = databases_for(backend, root)
    ca, india = templates.copy(databases, root)
    opened = open_local(ca)
    try:
        for username, agency, roles in OFFICERS:
            create_officer(opened, username, PASSWORD, username, agency, frozenset(Role(r) for r in roles))
    finally:
        opened.close()
    ca.extra_env.update(SETTINGS)
    ca.use_offset_clock()
    ca.start()
    try:
        yield ca
    finally:
        ca.dispose()
        india.dispose()
        databases.drop_all()


# --- the three ways in -----------------------------------------------------------------------------------------------


def api_sign_in(node: RunningNode, username: str, password: str, source: str) -> httpx.Response:
    return httpx.post(
        node.url + "/api/v1/token",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": source},
        timeout=30.0,
        verify=tls_context(),
    )


def web_sign_in(node: RunningNode, username: str, password: str, source: str) -> httpx.Response:
    with httpx.Client(
        base_url=node.url, headers={"X-Forwarded-For": source}, timeout=30.0, verify=tls_context()
    ) as client:
        form = client.get("/signin")
        token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
        assert token is not None
        return client.post(
            "/signin", data={"username": username, "password": password, "signin_token": token[1], "next": "/inbox"}
        )


def taxii_sign_in(node: RunningNode, username: str, password: str, source: str) -> httpx.Response:
    headers = {"Accept": MEDIA, "X-Forwarded-For": source}
    return httpx.get(
        node.url + "/taxii2/", headers=headers, auth=(username, password), timeout=30.0, verify=tls_context()
    )


def assert_api_throttled(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["type"] == "urn:accord:problem:sign-in-throttled" and body["status"] == 429
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= BACKOFF_MAX_S and body["retry_after"] == retry_after
    return retry_after


@dataclass(frozen=True)
class Ledger:
    last: int

    @classmethod
    def of(cls, node: RunningNode) -> Ledger:
        with node.engine.connect() as conn:
            return cls(conn.scalar(select(func.max(events.c.id))) or 0)

    def since(self, node: RunningNode) -> list[tuple[str, str, dict[str, Any]]]:
        """The leaves appended since, but checkpoints (the node's own round, whatever the test does)."""
        with node.engine.connect() as conn:
            rows = conn.execute(
                select(events.c.type, events.c.actor, events.c.refs)
                .where(events.c.id > self.last)
                .order_by(events.c.id)
            ).all()
        return [(r.type, r.actor, json.loads(r.refs)) for r in rows if not r.type.startswith("checkpoint")]


def test_thirty_wrong_passwords_then_the_right_one_get_429_with_retry_after_from_the_api(canada: RunningNode) -> None:
    source = "198.51.100.1"
    before = Ledger.of(canada)
    answers = [api_sign_in(canada, "ca.t.api", WRONG, source) for _ in range(30)]
    assert [a.status_code for a in answers[:FREE_FAILURES]] == [401] * FREE_FAILURES
    for answer in answers[FREE_FAILURES:]:
        assert_api_throttled(answer)
    assert assert_api_throttled(api_sign_in(canada, "ca.t.api", PASSWORD, source)) <= BACKOFF_S
    assert before.since(canada) == [], "a failed or throttled sign-in leaves no leaf"
    # From elsewhere the account is no freer: the back-off is the account's as well as the address's.
    assert_api_throttled(api_sign_in(canada, "ca.t.api", PASSWORD, "198.51.100.201"))


def test_thirty_wrong_passwords_then_the_right_one_get_429_with_the_wait_on_the_web_sign_in_page(
    canada: RunningNode,
) -> None:
    source = "198.51.100.2"
    answers = [web_sign_in(canada, "ca.t.web", WRONG, source) for _ in range(30)]
    assert [a.status_code for a in answers[:FREE_FAILURES]] == [401] * FREE_FAILURES
    assert all("Wrong username or password." in a.text for a in answers[:FREE_FAILURES])
    right = web_sign_in(canada, "ca.t.web", PASSWORD, source)
    for answer in [*answers[FREE_FAILURES:], right]:
        assert answer.status_code == 429, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        wait = int(answer.headers["Retry-After"])
        assert 0 < wait <= BACKOFF_S
        assert re.search(rf"Try again in {wait} seconds?\.", answer.text), answer.text
        assert "accord_session" not in answer.headers.get("set-cookie", "")


def test_thirty_wrong_passwords_then_the_right_one_get_a_taxii_429_with_retry_after(canada: RunningNode) -> None:
    source = "198.51.100.3"
    answers = [taxii_sign_in(canada, "ca.t.taxii", WRONG, source) for _ in range(30)]
    assert [a.status_code for a in answers[:FREE_FAILURES]] == [401] * FREE_FAILURES
    right = taxii_sign_in(canada, "ca.t.taxii", PASSWORD, source)
    for answer in [*answers[FREE_FAILURES:], right]:
        assert answer.status_code == 429, answer.text
        assert answer.headers["content-type"] == MEDIA
        body = answer.json()
        assert (body["http_status"], body["error_code"]) == ("429", "sign-in-throttled")
        assert 0 < int(answer.headers["Retry-After"]) <= BACKOFF_S


def test_a_source_failing_across_accounts_and_unknown_names_is_throttled_and_others_are_not(
    canada: RunningNode,
) -> None:
    """Below every account's own threshold, the failures from one address add up: a password-spraying source is
    slowed down, for every account it tries, while an officer elsewhere signs in as usual."""
    sprayer = "203.0.113.40"
    names = ["ca.t.shared.1", "ca.t.shared.2", "ca.t.shared.3", "nobody.1", "nobody.2", "nobody.3"]
    per_name = SOURCE_FREE_FAILURES // len(names)
    assert per_name < FREE_FAILURES
    for name in names:
        for _ in range(per_name):
            assert api_sign_in(canada, name, WRONG, sprayer).status_code == 401
    assert_api_throttled(api_sign_in(canada, "ca.t.colleague", PASSWORD, sprayer))
    assert_api_throttled(api_sign_in(canada, "nobody.4", WRONG, sprayer))
    assert web_sign_in(canada, "ca.t.colleague", PASSWORD, sprayer).status_code == 429
    assert api_sign_in(canada, "ca.t.colleague", PASSWORD, "203.0.113.41").status_code == 200
    assert api_sign_in(canada, "ca.t.shared.1", PASSWORD, "203.0.113.41").status_code == 200


def test_unknown_names_are_throttled_like_accounts_so_the_answers_tell_no_names_apart(canada: RunningNode) -> None:
    known = [api_sign_in(canada, "ca.t.names", WRONG, f"192.0.2.{n}").status_code for n in range(1, 8)]
    unknown = [api_sign_in(canada, "no.such.officer", WRONG, f"192.0.2.{n}").status_code for n in range(11, 18)]
    assert known == unknown
    assert 429 in known


def test_no_password_is_hashed_while_a_sign_in_is_throttled(
    canada: RunningNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted where the hash is computed: argon2's verify, called through, in a node opened in this process."""
    verified: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(self: argon2.PasswordHasher, stored: str | bytes, password: str | bytes) -> bool:
        verified.append("verify")
        return real_verify(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    node = open_local(canada)
    thresholds = {k.removeprefix("ACCORD_").lower(): v for k, v in SETTINGS.items()}
    node.settings = type(node.settings).model_validate(node.settings.model_dump() | thresholds)
    try:
        for username, source in (("ca.t.hash", "198.51.100.9"), ("no.such.officer.in.process", "198.51.100.10")):
            verified.clear()
            attempt = SignInAttempt(username, source, Endpoint.API_TOKEN)
            for _ in range(FREE_FAILURES):
                with pytest.raises(AuthenticationFailed):
                    issue_token(node, attempt, WRONG)
            assert len(verified) == FREE_FAILURES
            for password in [WRONG] * 26 + [PASSWORD]:
                with pytest.raises(SignInThrottled):
                    issue_token(node, attempt, password)
            assert len(verified) == FREE_FAILURES, "a throttled sign-in computed a hash"
    finally:
        node.close()


def test_failures_back_off_doubling_up_to_the_longest_wait_then_lock_the_account_until_an_operator_unlocks_it(
    canada: RunningNode,
) -> None:
    source = "198.51.100.5"
    before = Ledger.of(canada)
    waits: list[int] = []
    failures = 0
    while failures < LOCKOUT_FAILURES - 1:
        answer = api_sign_in(canada, "ca.t.lock", WRONG, source)
        if answer.status_code == 401:
            failures += 1
            continue
        waits.append(assert_api_throttled(answer))
        canada.run_clock_ahead(waits[-1] + 1)
    waits.append(assert_api_throttled(api_sign_in(canada, "ca.t.lock", WRONG, source)))
    assert waits == [60, 120, 240, 480, 600, 600], "the settings' first wait, doubling, up to the longest"
    canada.run_clock_ahead(waits[-1] + 1)
    # The failure that reaches the threshold locks the account; then even the right password is refused.
    locking = api_sign_in(canada, "ca.t.lock", WRONG, source)
    assert locking.status_code == 403 and locking.json()["type"] == "urn:accord:problem:sign-in-locked"
    canada.run_clock_ahead(30 * 24 * 3600)
    for way_in in (api_sign_in, web_sign_in, taxii_sign_in):
        assert way_in(canada, "ca.t.lock", PASSWORD, "198.51.100.6").status_code == 403
    officer_id = officer_id_of(canada, "ca.t.lock")
    assert before.since(canada) == [("officer.locked_out", "ca-node-1", {"officer": officer_id, "failures": 10})]

    with canada.client("ca.operator") as operator:
        locked = operator.get("/api/v1/channels").json()["locked_accounts"]
    assert [a["username"] for a in locked] == ["ca.t.lock"]
    listed = accord_cli(canada, "audit", "refusals")
    assert listed.exit_code == 1, listed.output
    assert "accord officer unlock ca.t.lock" in listed.stdout

    unlocked = accord_cli(canada, "officer", "unlock", "ca.t.lock")
    assert unlocked.exit_code == 0, unlocked.output
    assert "unlocked" in unlocked.stdout
    assert api_sign_in(canada, "ca.t.lock", PASSWORD, "198.51.100.6").status_code == 200
    logged = [leaf for leaf in before.since(canada) if leaf[0] == "officer.unlocked"]
    assert logged == [("officer.unlocked", "operator", {"officer": officer_id, "failures": 10, "locked": 1})]
    again = accord_cli(canada, "officer", "unlock", "ca.t.lock")
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    assert accord_cli(canada, "officer", "unlock", "no.such.officer").exit_code == 1


def test_two_api_processes_of_one_node_share_the_failure_counts(
    canada: RunningNode, templates: PairTemplates, tmp_path: Any
) -> None:
    """A second process serving the same node (its keys, its database): failures made through either count for
    both, so spreading guesses over the processes gains nothing."""
    second_dir = tmp_path / "second-process"
    shutil.copytree(canada.data_dir, second_dir)
    second = RunningNode(canada.party, second_dir, canada.database_url, free_port())
    write_node_file(second_dir, "127.0.0.1", second.port, None)
    second.launcher = canada.launcher
    second.extra_env.update(canada.extra_env | {"ACCORD_DELIVERY_WORKERS": "0"})
    second.start()
    try:
        source = "198.51.100.7"
        answers = [
            api_sign_in(node, "ca.t.processes", WRONG, source).status_code
            for node in [canada, second] * (FREE_FAILURES // 2)
        ]
        assert answers == [401] * FREE_FAILURES
        for node in (canada, second):
            assert_api_throttled(api_sign_in(node, "ca.t.processes", PASSWORD, source))
    finally:
        second.dispose()


# --- nothing typed is kept, nothing unauthenticated is ledgered -------------------------------------------------------


def text_columns_holding(node: RunningNode, needles: list[str]) -> list[str]:
    """Every text column of every table of the node's database that holds one of `needles`."""
    found = []
    reflected = MetaData()
    reflected.reflect(bind=node.engine)
    with node.engine.connect() as conn:
        for table in reflected.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String):
                    continue
                for needle in needles:
                    if conn.scalar(select(func.count()).select_from(table).where(column.contains(needle))):
                        found.append(f"{table.name}.{column.name} holds {needle!r}")
    return found


def test_a_failed_sign_in_leaves_no_leaf_and_no_typed_name_anywhere_in_the_database_or_the_log(
    canada: RunningNode,
) -> None:
    typed_name = "Tr0ub4dor-3-typed-in-the-name-field"  # a password typed where the name goes
    typed_password = "Zq81-wrong-guess-for-secret"
    before = Ledger.of(canada)
    for way_in in (api_sign_in, web_sign_in, taxii_sign_in):
        assert way_in(canada, typed_name, PASSWORD, "198.51.100.8").status_code == 401
        assert way_in(canada, "ca.t.secret", typed_password, "198.51.100.8").status_code == 401
    assert before.since(canada) == []
    assert text_columns_holding(canada, [typed_name, typed_password]) == []
    log = (canada.data_dir / "node.log").read_text(encoding="utf-8", errors="replace")
    assert typed_name not in log and typed_password not in log
    # What is kept: counts per account and source, and per way in, problem and source.
    with canada.engine.connect() as conn:
        counted = {
            (row.endpoint, row.problem): row.refusals
            for row in conn.execute(select(refusal_counts).where(refusal_counts.c.source == "198.51.100.8"))
        }
    assert counted == {
        ("/api/v1/token", "authentication-failed"): 2,
        ("/signin", "authentication-failed"): 2,
        ("/taxii2/", "authentication-failed"): 2,
    }


def log_lines(node: RunningNode, event: str, **fields: Any) -> list[dict[str, Any]]:
    lines = []
    for line in (node.data_dir / "node.log").read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == event and fields.items() <= entry.items():
            lines.append(entry)
    return lines


def test_anonymous_federation_garbage_leaves_no_leaf_but_counters_and_one_log_line_per_interval(
    canada: RunningNode,
) -> None:
    source = "203.0.113.66"
    before = Ledger.of(canada)
    url = canada.url + "/federation/v1/envelopes"
    headers = {"X-Forwarded-For": source, "Content-Type": "application/json"}
    # Batches without an upload token, and one whose token a stranger signed: refused before their bodies are read.
    for _ in range(5):
        assert httpx.post(url, content=b"{not json", headers=headers, timeout=30.0).status_code == 401
    stranger = NodeKeys.generate()
    sealed = seal(claims_for(message()), stranger, canada.keys.public)
    forged = post_batch(
        canada.url, batch(sealed, sealed, refs=["a", "b"]), stranger.signing, headers=headers, recipient=CA_NODE
    )
    assert forged.status_code == 401, forged.text
    assert forged.json()["reason"] == "unknown-sender"
    blob = httpx.post(canada.url + "/federation/v1/blobs", content=b"x" * 100, headers=headers, timeout=30.0)
    assert 400 <= blob.status_code < 500, blob.text
    assert before.since(canada) == [], "unauthenticated input grew the ledger"

    with canada.engine.connect() as conn:
        counted = {
            (row.endpoint, row.problem): row.refusals
            for row in conn.execute(select(refusal_counts).where(refusal_counts.c.source == source))
        }
    assert counted.pop(("/federation/v1/envelopes", "peer-not-authenticated")) == 6
    assert [endpoint for endpoint, _ in counted] == ["/federation/v1/blobs"]

    envelopes = {"endpoint": "/federation/v1/envelopes", "problem": "peer-not-authenticated"}
    [line] = log_lines(canada, "refused", source=source, **envelopes)
    assert (line["refusals"], line["suppressed"]) == (1, 0)
    canada.run_clock_ahead(LOG_INTERVAL_S + 1)
    assert httpx.post(url, content=b"{not json", headers=headers, timeout=30.0).status_code == 401
    _, second = log_lines(canada, "refused", source=source, **envelopes)
    assert (second["refusals"], second["suppressed"], second["window_total"]) == (1, 5, 7)

    with canada.client("ca.operator") as operator:
        shown = operator.get("/api/v1/channels").json()["refusals"]["counts"]
    assert {(c["endpoint"], c["problem"], c["refusals"]) for c in shown if c["source"] == source} >= {
        ("/federation/v1/envelopes", "peer-not-authenticated", 7),
    }
    listed = accord_cli(canada, "audit", "refusals")
    assert source in listed.stdout and "peer-not-authenticated" in listed.stdout, listed.output


# --- helpers ----------------------------------------------------------------------------------------------------------


def officer_id_of(node: RunningNode, username: str) -> str:
    from accord.store.tables import officers

    with node.engine.connect() as conn:
        found = conn.scalar(select(officers.c.id).where(officers.c.username == username))
    assert isinstance(found, str)
    return found


def accord_cli(node: RunningNode, *args: str) -> Result:
    env = {"ACCORD_DATABASE_URL": node.database_url, "COLUMNS": "250"}
    return CliRunner().invoke(app, [*args, "--data", str(node.data_dir)], env=env)

"""What a refused caller is told. Every answer carries its request id (`X-Request-Id`, and `request_id` in a problem,
`error_id` in a TAXII error message); a caller who has not authenticated gets the problem's type and title and a
generic detail naming the id, never what a parser or a codec said, which goes to the node's log under that id; an
authenticated officer, or the pinned peer once its batch token verified, keeps the precise detail."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from accord.crypto.keys import NodeKeys
from tests.conftest import DatabaseFactory
from tests.integration.forgery import CA_NODE, IN_NODE, batch, post_batch
from tests.integration.nodes import PASSWORD, PairTemplates, RunningNode, draft, running_pair, wait_for

PROBLEM_JSON = "application/problem+json"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# What parsers and codecs say, and what would name them.
LIBRARY_TEXT = ("Expecting", "JSONDecodeError", "joserfc", "Traceback", "compact JWS", "base64", "codec", "pydantic")


@pytest.fixture(scope="module")
def nodes(
    templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningNode, RunningNode]]:
    """The answers are shaped in the HTTP layer, the same on both stores: SQLite only."""
    root = tmp_path_factory.mktemp("errors")
    with running_pair(templates, DatabaseFactory("sqlite", root), root) as started:
        yield started


@pytest.fixture(scope="module")
def canada(nodes: tuple[RunningNode, RunningNode]) -> RunningNode:
    return nodes[0]


@pytest.fixture(scope="module")
def india_keys(nodes: tuple[RunningNode, RunningNode]) -> NodeKeys:
    """India's node keys: a test plays Canada's pinned peer with them."""
    return nodes[1].keys


def post_as_india(canada: RunningNode, india_keys: NodeKeys, payload: Any) -> httpx.Response:
    """A batch to Canada under an upload token India's pinned key signed."""
    return post_batch(canada.url, payload, india_keys.signing, sender=IN_NODE, recipient=CA_NODE, timeout=10)


def problem_of(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:accord:problem:{slug}", body
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def assert_generic(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    body = problem_of(response, status, slug)
    assert response.headers["x-request-id"] in body["detail"], body
    text = json.dumps(body)
    assert not [words for words in LIBRARY_TEXT if words in text], body
    assert "errors" not in body
    return body


def logged_under(node: RunningNode, request_id: str) -> list[dict[str, Any]]:
    lines = (node.data_dir / "node.log").read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if request_id in line and line.startswith("{")]


def test_every_answer_carries_its_own_request_id(canada: RunningNode) -> None:
    answers = [
        httpx.get(canada.url + "/healthz"),
        httpx.get(canada.url + "/signin"),
        httpx.get(canada.url + "/inbox", follow_redirects=False),
        httpx.get(canada.url + "/static/accord.css"),
        httpx.get(canada.url + "/api/v1/me"),
        httpx.get(canada.url + "/no/such/page"),
        httpx.get(canada.url + "/federation/v1/descriptor"),
        canada.client("ca.rcmp").get("/api/v1/messages"),
    ]
    ids = [answer.headers.get("x-request-id", "") for answer in answers]
    assert all(UUID.match(request_id) for request_id in ids), ids
    assert len(set(ids)) == len(ids)


def test_a_stranger_is_told_the_problem_and_the_request_id_and_the_log_has_the_rest(canada: RunningNode) -> None:
    garbled = httpx.post(canada.url + "/federation/v1/hello", content=b"not a token")
    body = assert_generic(garbled, 400, "malformed-artefact")
    assert body["title"] == "The artefact is not well formed"
    # A batch nobody signed is refused before its body is read, whatever the body.
    not_json = httpx.post(canada.url + "/federation/v1/envelopes", content=b'{"envelopes": [', timeout=10)
    assert assert_generic(not_json, 401, "peer-not-authenticated")["reason"] == "missing-token"
    anonymous_json = httpx.post(canada.url + "/api/v1/messages", content=b"{not json", timeout=10)
    assert anonymous_json.status_code in (401, 422)
    assert_generic(anonymous_json, anonymous_json.status_code, anonymous_json.json()["type"].rpartition(":")[2])
    for answer, said in ((garbled, "compact JWS"), (not_json, "upload token")):
        request_id = answer.headers["x-request-id"]
        lines = wait_for(lambda request_id=request_id: logged_under(canada, request_id), 10)
        assert any(said in line.get("detail", "") for line in lines), lines


def test_an_envelope_that_does_not_open_is_refused_as_to_a_stranger(canada: RunningNode, india_keys: NodeKeys) -> None:
    """Even in a batch the pinned peer signed: until an envelope opens, whoever made it is a stranger."""
    response = post_as_india(canada, india_keys, batch("a.b.c.d.e", refs=["x"]))
    body = assert_generic(response, 400, "undecryptable-envelope")
    [result] = body["results"]
    assert result["problem"]["type"] == "urn:accord:problem:undecryptable-envelope"
    assert response.headers["x-request-id"] in result["problem"]["detail"]
    assert not [words for words in LIBRARY_TEXT if words in json.dumps(result)], result


def test_the_pinned_peer_is_told_precisely_what_is_wrong_with_its_batch(
    canada: RunningNode, india_keys: NodeKeys
) -> None:
    body = problem_of(post_as_india(canada, india_keys, b'{"envelopes": ['), 400, "malformed-json")
    assert "cannot parse JSON" in body["detail"], body
    body = problem_of(post_as_india(canada, india_keys, {"envelopes": []}), 422, "invalid-input")
    assert "'envelopes'" in body["detail"], body


def test_a_signed_in_officer_keeps_the_precise_detail(canada: RunningNode) -> None:
    rcmp = canada.client("ca.rcmp")
    invalid = rcmp.post("/api/v1/messages", json=draft(recipient_agency="NOPE"))
    body = problem_of(invalid, 422, invalid.json()["type"].rpartition(":")[2])
    assert "NOPE" in body["detail"]
    not_json = rcmp.post("/api/v1/messages", content=b"{not json", headers={"Content-Type": "application/json"})
    body = problem_of(not_json, 422, "invalid-input")
    assert body["errors"] and "JSON" in body["detail"], body
    missing = rcmp.get("/api/v1/messages/01a20000-0000-7000-8000-000000000000")
    assert "01a20000-0000-7000-8000-000000000000" in problem_of(missing, 404, "not-found")["detail"]


# --- TAXII 2.1 error messages (§3.6.1) --------------------------------------------------------------------------------

TAXII_MEDIA = "application/taxii+json;version=2.1"


def taxii_error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A TAXII error message, not a problem: its own members and media type, the request id as its `error_id`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TAXII_MEDIA
    body: dict[str, Any] = response.json()
    assert (body["http_status"], body["error_code"]) == (str(status), code), body
    assert body["title"] and body["description"]
    assert body["error_id"] == response.headers["x-request-id"]
    return body


def assert_taxii_generic(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = taxii_error_of(response, status, code)
    assert response.headers["x-request-id"] in body["description"], body
    assert not [words for words in LIBRARY_TEXT if words in json.dumps(body)], body
    return body


def test_a_taxii_caller_who_has_not_authenticated_is_told_the_error_and_the_request_id(canada: RunningNode) -> None:
    accept = {"Accept": TAXII_MEDIA}
    anonymous = httpx.get(canada.url + "/taxii2/", headers=accept, timeout=10)
    assert_taxii_generic(anonymous, 401, "authentication-failed")
    assert anonymous.headers["www-authenticate"].startswith("Basic realm=")
    garbled = httpx.get(canada.url + "/taxii2/", headers=accept | {"Authorization": "Basic !!not-base64"}, timeout=10)
    assert_taxii_generic(garbled, 401, "authentication-failed")
    forged = httpx.get(canada.url + "/taxii2/", headers=accept | {"Authorization": "Bearer forged-0123"}, timeout=10)
    assert_taxii_generic(forged, 401, "authentication-failed")
    nowhere = httpx.get(canada.url + "/taxii2/no/such/root/", headers=accept, timeout=10)
    assert_taxii_generic(nowhere, 404, "http")
    for answer, said in ((anonymous, "HTTP Basic credentials"), (garbled, "not base64")):
        request_id = answer.headers["x-request-id"]
        lines = wait_for(lambda request_id=request_id: logged_under(canada, request_id), 10)
        assert any(said in line.get("detail", "") for line in lines), lines


def test_an_authenticated_taxii_caller_keeps_the_precise_description(canada: RunningNode) -> None:
    html = {"Accept": "text/html"}
    basic = httpx.get(canada.url + "/taxii2/", headers=html, auth=("ca.cccs", PASSWORD), timeout=10)
    assert "application/taxii+json" in taxii_error_of(basic, 406, "taxii-not-acceptable")["description"]
    bearer = {"Authorization": f"Bearer {canada.token('ca.cccs')}"}
    with_token = httpx.get(canada.url + "/taxii2/no/such/root/", headers=bearer | html, timeout=10)
    assert "request id" not in taxii_error_of(with_token, 404, "http")["description"]

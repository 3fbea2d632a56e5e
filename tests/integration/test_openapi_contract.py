"""The node's OpenAPI document against the node: schemathesis generates requests from the document for every operation
of the API and of the federation channel, valid ones and invalid ones, sends them to a running node and checks every
answer: no server error, a status and a media type the document declares for the operation, a body of the declared
schema (problems included), valid input accepted and invalid input refused, a 405 with `Allow` for a method the path
does not take. It runs as an officer who holds every role, over mail, shares, notifications and incidents of both
sides, and again without credentials.

Left out of the run, and why:
- TAXII 2.1 (/taxii2/): the OASIS standard is its interface, with its own media types and error messages; it is not in
  the document (tests/integration/test_taxii.py drives it with a TAXII client).
- The web UI: HTML pages, not in the document.
- The stateful phase: it needs links between operations, which the document does not declare.
Every operation of the document is run; where an answer depends on something the document cannot state, the
expectation is widened for that operation alone, with its reason (RULES_BEYOND_THE_SCHEMA)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accord.directory.officers import Role, create_officer
from tests.conftest import BACKENDS, databases_for
from tests.integration.nodes import PASSWORD, PairTemplates, RunningNode, draft, open_local, running_pair, wait_for
from tests.integration.test_cyber_sharing import campaign_bundle
from tests.integration.test_precursor_incidents import incident
from tests.integration.test_precursor_notifications import pen

# An officer of Canada's RCMP with every role, so that no route refuses the run for want of a role.
BROAD_OFFICER = "ca.contract"
# Minutes each: started first, and each on whichever worker is free.
pytestmark = [pytest.mark.slow, pytest.mark.spread]
# Requests per operation and phase: the coverage phase adds its own boundary and type cases on top. Both runs take
# about a minute and a half together on two shared cores.
MAX_EXAMPLES = 3
MAX_EXAMPLES_UNAUTHENTICATED = 1
SEED = 20261128  # the same requests every run: a failure here is reproduced by running the test again
HOOKS = Path(__file__).with_name("contract_hooks.py")

# What schemathesis expects of a schema-valid request by default: 2xx, 3xx, 401, 403, 404, 409, 429, 5xx (5xx is
# still a failure of `not_a_server_error`). Per operation, the statuses it may also answer a schema-valid request
# with, because the rule that refuses it is one JSON Schema cannot state, and why.
RULES_BEYOND_THE_SCHEMA: dict[str, tuple[tuple[int, ...], str]] = {
    "GET /api/v1/audit/events": ((422,), "a time window's `until` comes after its `since`"),
    "POST /api/v1/messages": (
        (422,),
        "a draft's fields depend on each other under the agreement: a PEN carries its notification and an incident "
        "its incident; TLP:RED names its recipients; caveat H3 states its restriction; the marking is one of the "
        "sending party's and within the channel's ceiling; attachments are uploaded first",
    ),
    "PUT /api/v1/me/time-zone": (
        (422,),
        "the zone is a name of the IANA time zone database, which the schema leaves out",
    ),
    "POST /api/v1/messages/batch": ((422,), "each draft of the batch follows the rules of POST /api/v1/messages"),
    "POST /api/v1/messages/evaluate": ((422,), "the draft follows the rules of POST /api/v1/messages"),
    "POST /api/v1/messages/{message_id}/reply": (
        (422,),
        "a reply follows the rules of POST /api/v1/messages, and the answer to a PEN states its decision's grounds",
    ),
    "POST /api/v1/messages/{message_id}/amendments": ((422,), "a correction gives the corrected title or body"),
    "POST /api/v1/assessments": (
        (422,),
        "an assessment rates every factor of the installed pack and no other, is not dated in the future nor past the "
        "pack's validity period, names mitigation measures for a mitigable risk, and describes each person by a name, "
        "an alias or an identifier",
    ),
    "POST /api/v1/reviews/{message_id}": (
        (422,),
        "a reviewer's conditions name the held message's own subjects, fields and attachments, and an assurance is "
        "recorded once given, so none is dated in the future",
    ),
    "POST /api/v1/reviews/{message_id}/preview": (
        (422,),
        "the conditions previewed follow the rules of POST /api/v1/reviews/{message_id}",
    ),
    "POST /api/v1/reviews/{message_id}/revisions": (
        (422,),
        "the conditions of a revision follow the rules of POST /api/v1/reviews/{message_id}",
    ),
    "POST /api/v1/messages/{message_id}/forward": (
        (422,),
        "only a message the officer's agency received is forwarded, to an agency of the agreement (and an officer of "
        "it at this node) other than the officer's own unless an officer is named",
    ),
    "POST /api/v1/cyber/shares": (
        (422,),
        "every object of the bundle is a valid STIX 2.1 object (the STIX specification, checked by its validator)",
    ),
    "POST /api/v1/cyber/shares/misp": ((422,), "the event converts to STIX 2.1 (the MISP core format)"),
    "POST /api/v1/precursors/import": (
        (422,),
        "the file's header names the import's columns and its rows are notifications or incidents (the columns and "
        "shapes of docs/precursors-import.md)",
    ),
    "POST /api/v1/networks/cases/{case_id}/share": (
        (422,),
        "a share names entities the case holds, and follows the rules of POST /api/v1/messages",
    ),
    "POST /api/v1/networks/judgements": ((422,), "a judgement is on two different entities"),
    "POST /api/v1/networks/cases/{case_id}/entities": (
        (422,),
        "each entity follows the FollowTheMoney model: a schema of the capability with its own properties and valid "
        "values, and relations naming entities of the request or of the case",
    ),
    "POST /api/v1/workplan/proposals": (
        (422,),
        "the changes make a valid objective or action: the agreement's focus areas and agencies, the workflow's "
        "transitions, dates after the plan's start",
    ),
    "GET /api/v1/workplan/indicators": (
        (422,),
        "a period's date range ends on or after its first day, within ten years",
    ),
    "GET /api/v1/reports/progress": ((422,), "a period's date range ends on or after its first day, within ten years"),
    "GET /api/v1/networks/cases/{case_id}/graph": (
        (422,),
        "the time window's `to` is not before its `from`, and a view holds at most 5,000 entities (a neighbourhood or "
        "filters narrow a larger case)",
    ),
    "GET /api/v1/networks/cases/{case_id}/analysis": ((422,), "the time window's `to` is not before its `from`"),
    "GET /api/v1/precursors/incidents": (
        (422,),
        "`until` is not before `since`, `substance` names a substance of this node's list (a name, synonym or "
        "CAS number, matched loosely), and `after` is a `next` this node answered, unchanged (a sealed cursor)",
    ),
    "GET /api/v1/messages": (
        (422,),
        "`after` is a `next` this node answered for the same order, unchanged (a sealed cursor), and a search has at "
        "most 16 words",
    ),
    "GET /api/v1/precursors/notifications": (
        (422,),
        "`after` is a `next` this node answered, unchanged (a sealed cursor)",
    ),
    "GET /api/v1/forwards": ((422,), "`after` is a `next` this node answered, unchanged (a sealed cursor)"),
    "POST /api/v1/matching/holdings/import": (
        (422,),
        "the file has a header (or is JSON) and each row is a record of the type: an id, the type's required fields, a "
        "possible date of birth, a name in one script per word, a usable identifier, a retention date not past",
    ),
    "POST /api/v1/matching/queries": (
        (422,),
        "each record has an id and the type's fields (a person's name with letters, a possible date of birth, a usable "
        "identifier), no record twice, in a focus area the agreement opens to hit/no-hit queries",
    ),
    "POST /api/v1/matching/queries/batch": ((422,), "the batch follows the rules of POST /api/v1/matching/queries"),
    "POST /api/v1/matching/queries/{query_id}/records/{row}/request": (
        (422,),
        "a follow-up names a hit, and its request follows the rules of POST /api/v1/messages",
    ),
    "POST /api/v1/matching/followups/{message_id}/release": (
        (422,),
        "a release answers a follow-up request from the partner, and its response follows the rules of POST "
        "/api/v1/messages",
    ),
    # The federation channel authenticates the peer by signature: a request the schema allows is still refused
    # unless the pinned peer signed it, and no signature can be generated from a schema.
    "POST /federation/v1/envelopes": (
        (400, 403, 422),
        "the batch's upload token is the pinned peer's signature over the body, and each envelope opens only if the "
        "pinned peer sealed it",
    ),
    "POST /federation/v1/blobs": ((400,), "the upload token is the pinned peer's signature over the body"),
    "POST /federation/v1/hello": ((400,), "the hello is signed by the pinned peer"),
    "POST /federation/v1/checkpoints": ((400,), "the checkpoint request is signed by the pinned peer"),
    "POST /federation/v1/ledger/inclusion": ((400,), "the inclusion request is signed by the pinned peer"),
    "POST /federation/v1/key-rotations": ((400,), "the rotation statement is signed by the pinned peer's key in force"),
    "POST /federation/v1/recovery": ((400,), "the recovery request is signed by the pinned peer"),
}
DEFAULT_ACCEPTED = ("2xx", "3xx", "401", "403", "404", "409", "429", "5xx")


@pytest.fixture(scope="module")
def contract_pair(templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A started pair on the first backend (the document and the answers do not depend on the store), with mail,
    a share, a notification and an incident between the two sides; Canada is the node under test."""
    root = tmp_path_factory.mktemp("contract")
    databases = databases_for(BACKENDS[0], root)
    with running_pair(templates, databases, root) as (ca, in_):
        local = open_local(ca)
        try:
            create_officer(local, BROAD_OFFICER, PASSWORD, "Every role", "RCMP", frozenset(Role))
        finally:
            local.close()
        _exchange_some_traffic(ca, in_)
        yield ca
    databases.drop_all()


def _exchange_some_traffic(ca: RunningNode, in_: RunningNode) -> None:
    sent = {
        ("ca.rcmp", "/api/v1/messages"): draft(),
        ("ca.ocs", "/api/v1/messages"): pen(),
        ("ca.cbsa", "/api/v1/messages"): incident(),
        ("ca.cccs", "/api/v1/cyber/shares"): {"bundle": campaign_bundle()},
    }
    for (username, path), body in sent.items():
        with ca.client(username) as client:
            response = client.post(path, json=body)
            assert response.status_code == 201, response.text
    with in_.client("in.ncb") as ncb:
        handling = {"classification": "Restricted", "tlp": "AMBER"}
        answer = draft(recipient_agency="RCMP", handling=handling, title="Consignee of a shipment to Canada")
        response = ncb.post("/api/v1/messages", json=answer)
        assert response.status_code == 201, response.text
    with ca.client(BROAD_OFFICER) as officer:
        wait_for(lambda: officer.get("/api/v1/messages", params={"box": "inbox"}).json()["messages"])


def _toml(value: object) -> str:
    return json.dumps(value)  # the strings, numbers and lists written here are the same in TOML


def _config(tmp_path: Path, token: str | None, max_examples: int) -> Path:
    lines = [
        f"seed = {SEED}",
        "workers = 1",
        f"hooks = {_toml(str(HOOKS))}",
        "[generation]",
        f"max-examples = {max_examples}",
        'database = "none"',
        "[phases.stateful]",
        "enabled = false",
    ]
    if token is not None:
        lines[3:3] = ["[headers]", f"Authorization = {_toml(f'Bearer {token}')}"]
    for operation, (statuses, _why) in RULES_BEYOND_THE_SCHEMA.items():
        accepted = [*DEFAULT_ACCEPTED, *(str(status) for status in statuses)]
        lines += [
            "[[operations]]",
            f"include-name = {_toml(operation)}",
            f"checks.positive_data_acceptance.expected-statuses = {_toml(accepted)}",
        ]
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_schemathesis(
    node: RunningNode, tmp_path: Path, token: str | None, max_examples: int, phases: str = "examples,coverage,fuzzing"
) -> str:
    """`st run` over the node's whole document with every check; its report, and a failure if anything failed."""
    config = _config(tmp_path, token, max_examples)
    argv = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", node.url + "/openapi.json"]
    argv += ["--checks", "all", "--phases", phases, "--output-truncate", "false"]
    started = time.monotonic()
    finished = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False)
    report = f"{finished.stdout}\n{finished.stderr}\n(ran {time.monotonic() - started:.0f} s)"
    assert finished.returncode == 0, report
    return report


def test_every_operation_keeps_the_document_as_an_officer_with_every_role(
    contract_pair: RunningNode, tmp_path: Path
) -> None:
    token = contract_pair.token(BROAD_OFFICER)
    report = run_schemathesis(contract_pair, tmp_path, token, MAX_EXAMPLES)
    assert "Tested: " in report


def test_every_operation_keeps_the_document_without_credentials(contract_pair: RunningNode, tmp_path: Path) -> None:
    # Without credentials an officer's operation stops at authentication whatever the body, and the public ones take
    # the coverage phase's boundary values in the run above: here they would add requests, not checks.
    report = run_schemathesis(contract_pair, tmp_path, None, MAX_EXAMPLES_UNAUTHENTICATED, "examples,fuzzing")
    assert "Tested: " in report


def test_every_operation_of_the_document_declares_its_answers_and_problems(contract_pair: RunningNode) -> None:
    """Each operation's JSON answer has a schema of its own (no untyped object), and it names the problem+json answers
    it can give, with the shared Problem schema."""
    document = httpx.get(contract_pair.url + "/openapi.json", timeout=10.0).json()
    problem = {"$ref": "#/components/schemas/Problem"}
    untyped = ({}, {"type": "object"}, {"type": "object", "additionalProperties": True})
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for code, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                assert not (code.startswith("2") and schema in untyped), (method, path, code, schema)
            refusals = {code: answer for code, answer in operation["responses"].items() if code.startswith("4")}
            if path.startswith("/api/v1/") and path != "/api/v1/token":
                assert "401" in refusals, (method, path)
            for code, answer in refusals.items():
                assert answer["content"] == {"application/problem+json": {"schema": problem}}, (method, path, code)
    assert not any(path.startswith("/taxii2") for path in document["paths"])

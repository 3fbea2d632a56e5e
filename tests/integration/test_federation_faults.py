"""A hostile or faulty peer calls India's POST /federation/v1/envelopes directly.

A batch carries an upload token over its exact body; one not signed by the pinned peer is refused (401) before its
body is read. A test about one envelope's fault therefore signs the batch with Canada's genuine key, so that the
envelope inside is what is judged; a test about a forger who signs the batch too sees the earlier refusal.
Every fault must be answered with RFC 9457 problem+json naming it and must store nothing (no message, no inbound
envelope). A refusal of an envelope the pinned peer signed leaves an `envelope.refused` event in the ledger; any other
(what fails to open, a replay, a request refused whole) leaves no leaf and is counted instead (`refusal_counts`), since
anyone can send it. One India node per storage backend serves the whole module; every test compares counts before and
after, so tests do not depend on each other. The sequence collision at
the end runs both nodes of a pair of its own: Canada's channel counter goes back and Canada re-sequences.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

from accord.cli import app
from accord.crypto.keys import NodeKeys
from accord.crypto.receipts import verify_receipt
from accord.domain.messages import Address
from accord.domain.parties import Party
from accord.exchange.uploads import UPLOAD_TOKEN_HEADER
from accord.store.tables import channel_counters, events, inbound_envelopes, messages, refusal_counts
from tests.conftest import BACKENDS, databases_for
from tests.integration.forgery import (
    batch,
    batch_token,
    claims_for,
    forge_signed,
    fresh_seq,
    message,
    post_batch,
    rewrite_jwe_header,
    seal,
    tamper_ciphertext,
)
from tests.integration.nodes import PairTemplates, RunningNode, draft, wait_for

ENVELOPES = "/federation/v1/envelopes"
ALARMS = "/api/v1/audit/alarms"
PROBLEM_JSON = "application/problem+json"
# Small enough to exceed cheaply, large enough for an envelope carrying a body just over max_body_bytes (64 KiB).
MAX_BATCH_BYTES = 512 * 1024


@dataclass
class Federation:
    ca: RunningNode  # not started: only its key files are used, to seal envelopes as Canada's node would
    india: RunningNode
    ca_keys: NodeKeys

    def post(self, payload: Any) -> httpx.Response:
        """A batch as Canada's node sends it: its upload token signed with Canada's pinned key."""
        return post_batch(self.india.url, payload, self.ca_keys.signing)

    def post_signed_by(self, payload: Any, signer: Any, **token: Any) -> httpx.Response:
        """A batch whose upload token `signer` signed (None: a batch without one)."""
        return post_batch(self.india.url, payload, signer, **token)

    def post_raw(self, content: bytes, content_type: str = "application/json") -> httpx.Response:
        """Bytes as they are, under an upload token Canada signed for them."""
        return post_batch(self.india.url, content, self.ca_keys.signing, headers={"Content-Type": content_type})

    def seal(self, claims: dict[str, Any]) -> str:
        return seal(claims, self.ca_keys, self.india.keys.public)


@pytest.fixture(scope="module", params=BACKENDS)
def federation(
    request: pytest.FixtureRequest, templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    backend = str(request.param)
    root = tmp_path_factory.mktemp(f"federation-{backend}")
    databases = databases_for(backend, root)
    ca, india = templates.copy(databases, root)
    india.extra_env["ACCORD_MAX_BATCH_BYTES"] = str(MAX_BATCH_BYTES)
    india.start()
    try:
        yield Federation(ca, india, ca.keys)
    finally:
        india.dispose()
        ca.dispose()
        databases.drop_all()


@dataclass(frozen=True)
class Snapshot:
    messages: int
    inbound: int
    last_event: int
    counted: dict[str, int]  # refusals counted at the envelopes endpoint, by problem


def snapshot(node: RunningNode) -> Snapshot:
    with node.engine.connect() as conn:
        counted = conn.execute(
            select(refusal_counts.c.problem, func.sum(refusal_counts.c.refusals))
            .where(refusal_counts.c.endpoint == ENVELOPES)
            .group_by(refusal_counts.c.problem)
        ).all()
        return Snapshot(
            messages=conn.scalar(select(func.count()).select_from(messages)) or 0,
            inbound=conn.scalar(select(func.count()).select_from(inbound_envelopes)) or 0,
            last_event=conn.scalar(select(func.max(events.c.id))) or 0,
            counted={problem: int(total) for problem, total in counted},
        )


def leaves_since(node: RunningNode, before: Snapshot) -> list[str]:
    """The types of the leaves appended since `before`, but the node's own checkpoints."""
    with node.engine.connect() as conn:
        types = conn.scalars(select(events.c.type).where(events.c.id > before.last_event).order_by(events.c.id))
        return [t for t in types if not t.startswith("checkpoint")]


def counted_since(node: RunningNode, before: Snapshot) -> dict[str, int]:
    """The refusals counted (not ledgered) since `before`, by problem."""
    after = snapshot(node).counted
    return {
        problem: n - before.counted.get(problem, 0)
        for problem, n in after.items()
        if n > before.counted.get(problem, 0)
    }


def refusals_since(node: RunningNode, before: Snapshot) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(events.c.refs, events.c.actor)
            .where(events.c.id > before.last_event, events.c.type == "envelope.refused")
            .order_by(events.c.id)
        ).all()
    return [json.loads(row.refs) for row in rows]


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:accord:problem:{slug}", body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_refused_and_nothing_stored(
    fed: Federation, before: Snapshot, response: httpx.Response, status: int, slug: str, *, signed: bool = False
) -> dict[str, Any]:
    """Refused with `slug`, nothing stored; logged in the ledger if the peer `signed` what was refused, otherwise
    counted and no leaf appended."""
    body = assert_problem(response, status, slug)
    after = snapshot(fed.india)
    assert (after.messages, after.inbound) == (before.messages, before.inbound), "a refused envelope was stored"
    if signed:
        assert [r["problem"] for r in refusals_since(fed.india, before)] == [slug], "the refusal was not logged"
        assert counted_since(fed.india, before) == {}
    else:
        assert leaves_since(fed.india, before) == [], "unauthenticated input grew the ledger"
        assert counted_since(fed.india, before) == {slug: 1}, "the refusal was not counted"
    return body


def assert_envelope_refused(
    fed: Federation, token: str, status: int, slug: str, ref: str = "suspect", *, signed: bool = False
) -> None:
    """POST one envelope; it must be refused with `slug`, its per-envelope result attached, nothing stored."""
    before = snapshot(fed.india)
    response = fed.post(batch(token, refs=[ref]))
    body = assert_refused_and_nothing_stored(fed, before, response, status, slug, signed=signed)
    assert body["instance"] == ENVELOPES
    [result] = body["results"]
    assert result["ref"] == ref
    assert result["outcome"] == "refused"
    assert "receipt" not in result
    assert result["problem"]["type"] == f"urn:accord:problem:{slug}"


def assert_batch_refused(fed: Federation, payload: Any, signer: Any, reason: str, **token: Any) -> None:
    """POST `payload` under an upload token `signer` signed (None: none); it must be refused at the door, 401 with
    `reason`: no envelope in it judged (no per-envelope results), nothing stored, no leaf, the refusal counted."""
    before = snapshot(fed.india)
    response = fed.post_signed_by(payload, signer, **token)
    body = assert_refused_and_nothing_stored(fed, before, response, 401, "peer-not-authenticated")
    assert body["reason"] == reason, body
    assert "results" not in body


# --- forged, unknown, replayed, tampered ------------------------------------------------------------------------


def test_signature_by_another_key_under_the_pinned_key_id_is_refused_as_bad_signature(federation: Federation) -> None:
    forger = NodeKeys.generate()
    pinned_kid = federation.ca_keys.public.signing_fingerprint
    token = forge_signed(
        claims_for(message()), signer=forger.signing, claimed_kid=pinned_kid, recipient=federation.india.keys.public
    )
    # The forger signs the batch as it signs the envelope: the batch is refused before its body is read.
    assert_batch_refused(federation, batch(token), forger.signing, "bad-signature", claimed_kid=pinned_kid)
    # Among batches the genuine peer sends (one it was handed, say), the envelope itself is judged.
    assert_envelope_refused(federation, token, 400, "bad-signature")


def test_envelope_from_an_unpinned_sender_key_is_refused_as_unknown_sender(federation: Federation) -> None:
    stranger = NodeKeys.generate()
    token = seal(claims_for(message()), stranger, federation.india.keys.public)
    assert_batch_refused(federation, batch(token), stranger.signing, "unknown-sender")
    assert_envelope_refused(federation, token, 403, "unknown-sender")


def test_a_batch_without_an_upload_token_is_refused_before_any_envelope_in_it_is_looked_at(
    federation: Federation,
) -> None:
    genuine = federation.seal(claims_for(message()))
    assert_batch_refused(federation, batch(genuine), None, "missing-token")
    assert_batch_refused(federation, b"{not json", None, "missing-token")


def test_pinned_key_claiming_another_issuer_is_refused_as_unknown_sender(federation: Federation) -> None:
    token = federation.seal(claims_for(message(), iss="xx-node-9"))
    assert_envelope_refused(federation, token, 403, "unknown-sender")


def test_replayed_envelope_is_refused_and_nothing_is_stored(federation: Federation) -> None:
    msg = message()
    token = federation.seal(claims_for(msg))
    before = snapshot(federation.india)

    first = federation.post(batch(token, refs=[msg.id]))
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/json")
    [accepted] = first.json()["results"]
    assert (accepted["ref"], accepted["outcome"]) == (msg.id, "accepted")
    receipt_claims = verify_receipt(accepted["receipt"], federation.india.keys.public, msg.id)
    assert receipt_claims.sender == "ca-node-1"

    stored = snapshot(federation.india)
    assert (stored.messages, stored.inbound) == (before.messages + 1, before.inbound + 1)

    replay = federation.post(batch(token, refs=[msg.id]))
    body = assert_refused_and_nothing_stored(federation, stored, replay, 409, "replayed-envelope")
    assert body["results"][0]["outcome"] == "refused"
    with federation.india.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(messages).where(messages.c.id == msg.id)) == 1


def test_the_same_message_resealed_is_answered_with_the_original_receipt_and_stored_once(
    federation: Federation,
) -> None:
    """A sender retrying after a lost answer seals again (new jti): that is a duplicate, not an attack."""
    msg, seq = message(), fresh_seq()
    first = federation.post(batch(federation.seal(claims_for(msg, seq=seq)), refs=[msg.id]))
    assert first.status_code == 200, first.text
    stored = snapshot(federation.india)
    again = federation.post(batch(federation.seal(claims_for(msg, seq=seq)), refs=[msg.id]))
    assert again.status_code == 200, again.text
    [result] = again.json()["results"]
    assert result["outcome"] == "duplicate"
    assert result["receipt"] == first.json()["results"][0]["receipt"]
    after = snapshot(federation.india)
    assert (after.messages, after.inbound) == (stored.messages, stored.inbound)


def test_tampered_ciphertext_is_refused_as_undecryptable(federation: Federation) -> None:
    token = tamper_ciphertext(federation.seal(claims_for(message())))
    assert_envelope_refused(federation, token, 400, "undecryptable-envelope")


def test_envelope_encrypted_to_another_nodes_key_is_refused_as_undecryptable(federation: Federation) -> None:
    token = seal(claims_for(message()), federation.ca_keys, NodeKeys.generate().public)
    assert_envelope_refused(federation, token, 400, "undecryptable-envelope")


@pytest.mark.parametrize(
    "change",
    [lambda h: h["epk"].update(crv="X25529"), lambda h: h.update(enc=["A256GCM"]), lambda h: h.update(crit=[1])],
    ids=["unknown-curve", "enc-list", "crit-int"],
)
def test_a_jwe_header_rewritten_on_the_wire_is_refused_as_undecryptable_not_a_crash(
    federation: Federation, change: Callable[[dict[str, Any]], Any]
) -> None:
    token = rewrite_jwe_header(federation.seal(claims_for(message())), change)
    assert_envelope_refused(federation, token, 400, "undecryptable-envelope")


def test_a_token_that_is_not_a_compact_jwe_is_refused_as_malformed(federation: Federation) -> None:
    assert_envelope_refused(federation, "not.a.jwe", 400, "malformed-artefact")


def test_envelope_addressed_to_another_node_is_refused(federation: Federation) -> None:
    token = federation.seal(claims_for(message(), aud="in-node-2"))
    assert_envelope_refused(federation, token, 400, "malformed-artefact")


# --- time --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset_s", [-3600, 3600], ids=["sealed-an-hour-ago", "dated-an-hour-ahead"])
def test_envelope_outside_the_time_window_is_refused_as_stale(federation: Federation, offset_s: int) -> None:
    claims = claims_for(message())
    claims["iat"] += offset_s
    assert_envelope_refused(federation, federation.seal(claims), 400, "stale-envelope")


# --- size ----------------------------------------------------------------------------------------------------------


def test_message_body_over_the_limit_is_refused_as_payload_too_large(federation: Federation) -> None:
    token = federation.seal(claims_for(message(body="x" * (64 * 1024 + 1))))
    assert len(token) < MAX_BATCH_BYTES
    assert_envelope_refused(federation, token, 413, "payload-too-large", signed=True)


def test_request_over_the_batch_limit_is_refused_with_413_whether_announced_declared_or_streamed(
    federation: Federation,
) -> None:
    """The peer's batch token may not announce more than the node takes; the Content-Length may not exceed what the
    token announces, nor may the body (streamed without a length, the node counts as it reads)."""
    oversized = json.dumps(batch("x" * (MAX_BATCH_BYTES + 1))).encode()

    before = snapshot(federation.india)
    announced = federation.post_raw(oversized)
    assert_refused_and_nothing_stored(federation, before, announced, 413, "payload-too-large")

    small = json.dumps(batch("a.b.c.d.e")).encode()
    token = batch_token(small, federation.ca_keys.signing)
    headers = {"Content-Type": "application/json", UPLOAD_TOKEN_HEADER: token}
    before = snapshot(federation.india)
    declared = httpx.post(federation.india.url + ENVELOPES, content=oversized, headers=headers, timeout=30.0)
    assert_refused_and_nothing_stored(federation, before, declared, 413, "payload-too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the node must count as it reads
        for start in range(0, len(oversized), 64 * 1024):
            yield oversized[start : start + 64 * 1024]

    headers[UPLOAD_TOKEN_HEADER] = batch_token(small, federation.ca_keys.signing)
    before = snapshot(federation.india)
    streamed = httpx.post(federation.india.url + ENVELOPES, content=chunks(), headers=headers, timeout=30.0)
    assert_refused_and_nothing_stored(federation, before, streamed, 413, "payload-too-large")

    # Without a token, the size is nobody's business: the stranger is refused before the body, as any other.
    assert_batch_refused(federation, oversized, None, "missing-token")


def test_a_batch_other_than_the_one_its_token_announces_is_refused_and_its_token_is_good_once(
    federation: Federation,
) -> None:
    msg = message()
    genuine = json.dumps(batch(federation.seal(claims_for(msg)), refs=[msg.id])).encode()
    swapped = genuine.replace(msg.id.encode(), message().id.encode())  # the same length, another ref
    assert len(swapped) == len(genuine) and swapped != genuine
    token = batch_token(genuine, federation.ca_keys.signing)
    headers = {"Content-Type": "application/json", UPLOAD_TOKEN_HEADER: token}

    before = snapshot(federation.india)
    mismatch = httpx.post(federation.india.url + ENVELOPES, content=swapped, headers=headers, timeout=30.0)
    assert_refused_and_nothing_stored(federation, before, mismatch, 400, "upload-mismatch")

    delivered = federation.post_raw(genuine)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["results"][0]["outcome"] == "accepted"
    before = snapshot(federation.india)
    again = httpx.post(federation.india.url + ENVELOPES, content=genuine, headers=headers, timeout=30.0)
    assert_refused_and_nothing_stored(federation, before, again, 409, "replayed-upload")


# --- malformed requests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"envelopes": [', b"\xff\xfe\x00garbage", b"[" * 100_000],
    ids=["broken", "truncated", "not-utf8", "nested-too-deep"],
)
def test_a_body_that_is_not_json_is_refused_with_400(federation: Federation, content: bytes) -> None:
    before = snapshot(federation.india)
    response = federation.post_raw(content)
    assert_refused_and_nothing_stored(federation, before, response, 400, "malformed-json")


def test_an_empty_batch_cannot_be_announced(federation: Federation) -> None:
    """An upload token announces a body of one byte or more: one for an empty body is malformed."""
    before = snapshot(federation.india)
    response = federation.post_raw(b"")
    assert_refused_and_nothing_stored(federation, before, response, 400, "malformed-artefact")


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "envelopes",
        {},
        {"envelopes": []},
        {"envelopes": "token"},
        {"envelopes": [{"ref": "a"}]},
        {"envelopes": [{"ref": "a", "token": 5}]},
        {"envelopes": ["a.b.c.d.e"]},
        {"envelopes": [{"token": "a.b.c.d.e"}] * 2001},
    ],
    ids=[
        "list",
        "string",
        "empty-object",
        "no-envelopes",
        "not-a-list",
        "no-token",
        "token-not-string",
        "bare",
        "2001",
    ],
)
def test_json_of_the_wrong_shape_is_refused_with_422(federation: Federation, payload: Any) -> None:
    before = snapshot(federation.india)
    response = federation.post(payload)
    assert_refused_and_nothing_stored(federation, before, response, 422, "invalid-input")


# --- content the agreement does not allow --------------------------------------------------------------------------


def test_message_to_an_agency_the_agreement_does_not_know_is_refused(federation: Federation) -> None:
    msg = message(recipient=Address(party=Party.IN, agency="XYZ"))
    assert_envelope_refused(federation, federation.seal(claims_for(msg)), 422, "unknown-agency", signed=True)


def test_message_in_a_focus_area_the_agreement_does_not_know_is_refused(federation: Federation) -> None:
    msg = message(focus_area="weather")
    assert_envelope_refused(federation, federation.seal(claims_for(msg)), 422, "unknown-focus-area", signed=True)


def test_envelope_whose_ref_does_not_name_its_message_is_refused(federation: Federation) -> None:
    token = federation.seal(claims_for(message(), ref=message().id))
    assert_envelope_refused(federation, token, 400, "malformed-artefact", signed=True)


def test_a_refused_envelope_presented_again_is_refused_again_but_logged_once(federation: Federation) -> None:
    """Whoever saw the peer's envelope on its way can present it again and again while it is fresh: the ledger
    records the refusal once, and the copies are counted."""
    token = federation.seal(claims_for(message(recipient=Address(party=Party.IN, agency="XYZ"))))
    before = snapshot(federation.india)
    for _ in range(3):
        assert_problem(federation.post(batch(token)), 422, "unknown-agency")
    assert [r["problem"] for r in refusals_since(federation.india, before)] == ["unknown-agency"]
    assert counted_since(federation.india, before) == {"unknown-agency": 2}


def test_envelope_reusing_a_channel_sequence_number_is_refused_as_a_collision_and_logged(
    federation: Federation,
) -> None:
    first_message = message()
    first = claims_for(first_message)
    assert federation.post(batch(federation.seal(first))).status_code == 200
    second = message()
    token = federation.seal(claims_for(second, seq=first["seq"]))
    before = snapshot(federation.india)

    response = federation.post(batch(token, refs=[second.id]))

    body = assert_refused_and_nothing_stored(federation, before, response, 409, "sequence-collision", signed=True)
    problem = body["results"][0]["problem"]
    assert (problem["seq"], problem["held_by"]) == (first["seq"], first_message.id)
    assert problem["channel"] == "ca-node-1>in-node-1" and problem["highest_seq"] >= first["seq"]
    with federation.india.engine.connect() as conn:
        logged = (
            conn.execute(
                select(events.c.refs).where(
                    events.c.id > before.last_event, events.c.type == "envelope.sequence_collision"
                )
            )
            .scalars()
            .all()
        )
    assert [json.loads(refs)["held_by"] for refs in logged] == [first_message.id], "the receiver logs the collision"


@pytest.mark.parametrize("seq", [0, -1, True, 1.5, "7"], ids=["zero", "negative", "true", "float", "string"])
def test_envelope_with_a_sequence_number_out_of_range_is_refused(federation: Federation, seq: Any) -> None:
    token = federation.seal(claims_for(message(), seq=seq))
    assert_envelope_refused(federation, token, 400, "malformed-artefact")


@pytest.mark.parametrize(
    ("message_fields", "claim_fields"),
    [
        ({"id": "m" * 37}, {}),
        ({"case_id": "c" * 37}, {}),
        ({"sender": Address(party=Party.CA, agency="RCMP", officer="o" * 129)}, {}),
        ({"recipient": Address(party=Party.IN, agency="NCB", officer="o" * 129)}, {}),
        ({"in_reply_to": "r" * 37, "kind": "response"}, {}),
        ({}, {"jti": "j" * 37}),
    ],
    ids=["message-id", "case-id", "sender-officer", "recipient-officer", "in-reply-to", "jti"],
)
def test_a_faulty_peer_sending_identifiers_longer_than_the_store_holds_is_refused_not_crashed(
    federation: Federation, message_fields: dict[str, Any], claim_fields: dict[str, Any]
) -> None:
    """The peer's signature proves who sent it, not that it fits: both backends must refuse it the same way."""
    msg = message(**message_fields)
    token = federation.seal(claims_for(msg, **claim_fields))
    before = snapshot(federation.india)
    response = federation.post(batch(token, refs=[msg.id]))
    assert response.status_code in (400, 422), response.text
    assert_refused_and_nothing_stored(
        federation, before, response, response.status_code, response.json()["type"].rsplit(":", 1)[-1], signed=True
    )


def test_message_body_at_the_limit_is_accepted(federation: Federation) -> None:
    msg = message(body="x" * (64 * 1024))
    response = federation.post(batch(federation.seal(claims_for(msg)), refs=[msg.id]))
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["outcome"] == "accepted"
    verify_receipt(result["receipt"], federation.india.keys.public, msg.id)


def test_a_ref_that_cannot_be_encoded_is_refused_not_crashed(federation: Federation) -> None:
    before = snapshot(federation.india)
    response = federation.post_raw(b'{"envelopes": [{"ref": "\\ud800", "token": "a.b.c.d.e"}]}')
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    after = snapshot(federation.india)
    assert (after.messages, after.inbound) == (before.messages, before.inbound)
    assert leaves_since(federation.india, before) == []
    assert sum(counted_since(federation.india, before).values()) == 1


def test_concurrent_replays_store_the_envelope_once_and_refuse_the_rest(federation: Federation) -> None:
    msg = message()
    payload = batch(federation.seal(claims_for(msg)), refs=[msg.id])
    before = snapshot(federation.india)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: federation.post(payload), range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7, [r.text for r in responses if r.status_code not in (200, 409)]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "replayed-envelope")
    after = snapshot(federation.india)
    assert (after.messages, after.inbound) == (before.messages + 1, before.inbound + 1)


# --- batches -------------------------------------------------------------------------------------------------------


def test_batch_mixing_a_valid_and_a_forged_envelope_stores_only_the_valid_one(federation: Federation) -> None:
    valid, forged = message(), message()
    valid_token = federation.seal(claims_for(valid))
    forged_token = forge_signed(
        claims_for(forged),
        signer=NodeKeys.generate().signing,
        claimed_kid=federation.ca_keys.public.signing_fingerprint,
        recipient=federation.india.keys.public,
    )
    before = snapshot(federation.india)

    response = federation.post(batch(valid_token, forged_token, refs=[valid.id, forged.id]))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    ok, refused = response.json()["results"]
    assert (ok["ref"], ok["outcome"]) == (valid.id, "accepted")
    verify_receipt(ok["receipt"], federation.india.keys.public, valid.id)
    assert (refused["ref"], refused["outcome"]) == (forged.id, "refused")
    assert "receipt" not in refused
    assert refused["problem"]["type"] == "urn:accord:problem:bad-signature"
    assert refused["problem"]["status"] == 400
    after = snapshot(federation.india)
    assert (after.messages, after.inbound) == (before.messages + 1, before.inbound + 1)
    with federation.india.engine.connect() as conn:
        stored = set(conn.scalars(select(messages.c.id).where(messages.c.id.in_([valid.id, forged.id]))))
    assert stored == {valid.id}
    assert refusals_since(federation.india, before) == [], "what no pinned key signed is not ledgered"
    assert counted_since(federation.india, before) == {"bad-signature": 1}


# --- the start-up hello ------------------------------------------------------------------------------------------


def _hello(claims: dict[str, Any], key: Any) -> str:
    from accord.crypto.signing import sign_claims
    from accord.exchange.wake import HELLO_TYP

    return sign_claims(claims, key, HELLO_TYP)


def _post_hello(fed: Federation, token: str | bytes) -> httpx.Response:
    return httpx.post(fed.india.url + "/federation/v1/hello", content=token, timeout=10.0)


def test_a_hello_from_the_pinned_peer_is_accepted(federation: Federation) -> None:
    claims = {"iss": "ca-node-1", "aud": "in-node-1", "iat": int(time.time()), "jti": "hello-1"}
    response = _post_hello(federation, _hello(claims, federation.ca_keys.signing))
    assert response.status_code == 200, response.text
    assert response.json()["peer"] == "ca-node-1"


def test_a_hello_signed_by_an_unpinned_key_is_refused(federation: Federation) -> None:
    stranger = NodeKeys.generate()
    claims = {"iss": "ca-node-1", "aud": "in-node-1", "iat": int(time.time()), "jti": "hello-2"}
    refused = assert_problem(_post_hello(federation, _hello(claims, stranger.signing)), 401, "peer-not-authenticated")
    assert refused["reason"] == "unknown-sender"


def test_a_stale_or_misaddressed_or_garbled_hello_is_refused(federation: Federation) -> None:
    key = federation.ca_keys.signing
    stale = {"iss": "ca-node-1", "aud": "in-node-1", "iat": int(time.time()) - 3600, "jti": "hello-3"}
    assert assert_problem(_post_hello(federation, _hello(stale, key)), 401, "peer-not-authenticated")["reason"] == (
        "stale"
    )
    elsewhere = {"iss": "ca-node-1", "aud": "in-node-9", "iat": int(time.time()), "jti": "hello-4"}
    assert assert_problem(_post_hello(federation, _hello(elsewhere, key)), 401, "peer-not-authenticated")["reason"] == (
        "audience"
    )
    assert_problem(_post_hello(federation, b"not a token"), 400, "malformed-artefact")
    assert _post_hello(federation, b"\xff\xfe").status_code == 400


# --- a sequence collision, end to end ----------------------------------------------------------------------------

CHANNEL = "ca-node-1>in-node-1"
COLLISION_ALARMS = {"kind": "sequence-collision"}


def collisions_logged(node: RunningNode) -> int:
    with node.engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(events).where(events.c.type == "envelope.sequence_collision"))
            or 0
        )


def accord_cli(node: RunningNode, *args: str) -> Result:
    env = {"ACCORD_DATABASE_URL": node.database_url, "COLUMNS": "200"}
    return CliRunner().invoke(app, [*args, "--data", str(node.data_dir)], env=env)


def test_a_channel_counter_gone_back_makes_a_collision_that_raises_an_alarm_until_re_sequenced(
    pair: tuple[RunningNode, RunningNode],
) -> None:
    ca, india = pair
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.operator") as operator:

        def delivery(message_id: str) -> dict[str, Any]:
            found: dict[str, Any] = rcmp.get(f"/api/v1/messages/{message_id}").json()["delivery"]
            return found

        first = rcmp.post("/api/v1/messages", json=draft(title="Before the restore")).json()
        wait_for(lambda: delivery(first["id"])["state"] == "delivered")
        with ca.engine.begin() as conn:  # the channel counter goes back, as a database restored from a backup has it
            conn.execute(
                update(channel_counters)
                .where(channel_counters.c.channel == CHANNEL)
                .values(next_seq=first["channel_seq"])
            )
        second = rcmp.post("/api/v1/messages", json=draft(title="After the restore")).json()
        assert second["channel_seq"] == first["channel_seq"]

        wait_for(lambda: collisions_logged(india) >= 2, 30)  # refused and logged by India on each retry
        [alarm] = wait_for(lambda: operator.get(ALARMS, params=COLLISION_ALARMS).json()["alarms"], 30)
        assert "accord node resequence --peer in-node-1" in alarm["detail"]
        assert alarm["evidence"]["peer_highest_seq"] >= first["channel_seq"]
        assert alarm["evidence"]["collisions"][0] == {
            "ref": second["id"],
            "seq": second["channel_seq"],
            "held_by": first["id"],
        }
        waiting = delivery(second["id"])
        assert waiting["state"] == "sent", "a collision is not a final refusal: the message waits, retried"
        assert "sequence-collision" in waiting["last_error"]
        wait_for(lambda: collisions_logged(india) >= 4, 30)
        assert len(operator.get(ALARMS, params=COLLISION_ALARMS).json()["alarms"]) == 1, "one open alarm per channel"
        with india.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(messages).where(messages.c.id == second["id"])) == 0

        resequenced = accord_cli(ca, "node", "resequence", "--peer", "in-node-1")
        assert resequenced.exit_code == 0, resequenced.output
        assert "1 waiting envelopes re-sequenced" in resequenced.stdout

        delivered = wait_for(lambda: (d := delivery(second["id"]))["state"] == "delivered" and d, 30)
        assert delivered["channel_seq"] > first["channel_seq"]
        with ca.engine.connect() as conn:
            [logged] = conn.execute(select(events.c.refs).where(events.c.type == "channel.resequenced")).scalars()
        assert json.loads(logged)["first"] == delivered["channel_seq"]
        third = rcmp.post("/api/v1/messages", json=draft(title="Business as usual")).json()
        assert third["channel_seq"] == delivered["channel_seq"] + 1
        wait_for(lambda: delivery(third["id"])["state"] == "delivered")

    assert accord_cli(ca, "audit", "alarms").exit_code == 1
    acknowledged = accord_cli(ca, "audit", "ack", str(alarm["id"]), "--note", "restored from backup; re-sequenced")
    assert acknowledged.exit_code == 0, acknowledged.output
    assert accord_cli(ca, "audit", "alarms").exit_code == 0

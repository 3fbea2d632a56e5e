"""The federation channel the peer node calls: envelopes in batches, attachments, this node's descriptor."""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.requests import ClientDisconnect

from accord.crypto.errors import MalformedArtefact, ReplayedEnvelope, StaleEnvelope, VerificationFailed
from accord.errors import AccordError, InvalidInput
from accord.exchange.inbox import Outcome, accept_blob, accept_envelopes, record_request_refusal
from accord.exchange.receipt_proofs import answer_inclusion_request
from accord.exchange.uploads import (
    INCOMING_DIR,
    UPLOAD_TOKEN_HEADER,
    IncomingBody,
    UploadMismatch,
    UploadsBusy,
    UploadSlots,
    check_declared_length,
    verify_blob_upload,
)
from accord.exchange.wake import accept_hello
from accord.exchange.witnessing import countersign
from accord.http.dependencies import NodeDep, read_capped_body
from accord.http.problems import PROBLEM_MEDIA_TYPE, problem_body, request_id_of
from accord.http.sources import request_source
from accord.logs import LineBudget
from accord.trust.peers import export_descriptor
from accord.trust.refusals import Endpoint

router = APIRouter(prefix="/federation/v1", tags=["federation"])
log = structlog.get_logger("accord.federation")
_refusal_lines = LineBudget()  # envelopes that do not open are counted (trust.refusals); their details logged sparingly

MAX_ENVELOPES_PER_BATCH = 2000
MAX_REF_LENGTH = 64


class MalformedJson(AccordError):
    status = 400
    slug = "malformed-json"
    title = "The body is not JSON"


def _parse_batch(raw: bytes) -> list[tuple[str | None, str]]:
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedJson(f"cannot parse JSON: {exc}") from exc
    envelopes = payload.get("envelopes") if isinstance(payload, dict) else None
    if not isinstance(envelopes, list) or not envelopes or len(envelopes) > MAX_ENVELOPES_PER_BATCH:
        raise InvalidInput(
            f"the body is {{'envelopes': [{{'ref': …, 'token': …}}, …]}} with 1 to {MAX_ENVELOPES_PER_BATCH} items"
        )
    batch: list[tuple[str | None, str]] = []
    for entry in envelopes:
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            raise InvalidInput("every envelope entry needs a string 'token'")
        ref = entry.get("ref")
        if isinstance(ref, str) and (len(ref) > MAX_REF_LENGTH or not _encodable(ref)):
            raise InvalidInput(f"an envelope's 'ref' is a Unicode string of at most {MAX_REF_LENGTH} characters")
        batch.append((ref if isinstance(ref, str) else None, entry["token"]))
    return batch


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates: JSON can carry them, UTF-8 and the database cannot
        return False
    return True


@router.post("/envelopes")
async def receive_envelopes(node: NodeDep, request: Request) -> JSONResponse:
    """Verify and store each envelope; answer a signed receipt or a problem per envelope.

    If every envelope is refused the response is the first refusal's problem+json, with all results attached.
    A request refused as a whole (too large, not JSON, wrong shape) is counted like an envelope that fails to open.
    """
    try:
        raw = await read_capped_body(request, node.settings.max_batch_bytes)
        parsed = _parse_batch(raw)
    except AccordError as problem:
        await run_in_threadpool(
            record_request_refusal, node, problem, endpoint=Endpoint.ENVELOPES, source=request_source(request)
        )
        raise
    results = await run_in_threadpool(accept_envelopes, node, parsed, source=request_source(request))
    request_id = request_id_of(request)
    views: list[dict[str, Any]] = []
    for result in results:
        view: dict[str, Any] = {"ref": result.ref, "outcome": result.outcome}
        if result.receipt:
            view["receipt"] = result.receipt
        if result.problem:
            view["problem"] = _envelope_problem(result.ref, result.problem, request_id)
        views.append(view)
    refused = [r for r in results if r.outcome == Outcome.REFUSED]
    if refused and len(refused) == len(results):
        first = refused[0].problem
        assert first is not None
        body = _envelope_problem(refused[0].ref, first, request_id, request.url.path) | {"results": views}
        return JSONResponse(body, status_code=first.status, media_type=PROBLEM_MEDIA_TYPE)
    return JSONResponse({"results": views})


def _envelope_problem(
    ref: str | None, problem: AccordError, request_id: str | None, instance: str | None = None
) -> dict[str, Any]:
    """A refusal made while the envelope was decrypted and its signature checked is answered as to a stranger (until
    the envelope verifies, its sender is one), with the details in the log; a later one, as to the peer."""
    precise = not isinstance(problem, VerificationFailed) or isinstance(problem, (StaleEnvelope, ReplayedEnvelope))
    if not precise and (left_out := _refusal_lines.spend(problem.slug)) is not None:
        log.info("envelope refused", ref=ref, problem=problem.slug, detail=problem.detail, similar_not_logged=left_out)
    return problem_body(problem, instance, precise=precise, request_id=request_id)


SMALL_REQUEST_BYTES = 16 * 1024


async def _compact_token(request: Request, limit: int, what: str) -> str:
    raw = await read_capped_body(request, limit)
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise MalformedArtefact(f"the body must be {what}") from exc


@router.post("/blobs")
async def receive_blob(node: NodeDep, request: Request) -> dict[str, Any]:
    """A sealed attachment from the peer, authenticated before its body is read (see `accord.exchange.uploads`):
    the upload token verified, the declared length compared, a slot taken; then the body streamed to a file against
    the token's size and hash, and only a matching body opened and stored."""
    slots: UploadSlots = request.app.state.upload_slots
    try:
        upload = await run_in_threadpool(verify_blob_upload, node, request.headers.get(UPLOAD_TOKEN_HEADER))
        check_declared_length(upload, request.headers.get("content-length"))
        slots.admit(upload)
    except UploadsBusy:
        raise  # not a refusal of the peer: it sends again later
    except AccordError as problem:
        await run_in_threadpool(
            record_request_refusal, node, problem, endpoint=Endpoint.BLOBS, source=request_source(request)
        )
        raise
    try:
        with IncomingBody(node.settings.data_dir / INCOMING_DIR, upload) as body:
            try:
                async for chunk in request.stream():
                    await run_in_threadpool(body.write, chunk)  # disk I/O off the event loop
                received = body.finish()
            except ClientDisconnect as exc:
                raise UploadMismatch("the sender closed the connection before the body ended") from exc
            except AccordError as problem:
                await run_in_threadpool(
                    record_request_refusal, node, problem, endpoint=Endpoint.BLOBS, source=request_source(request)
                )
                raise
            blob = await run_in_threadpool(accept_blob, node, upload, received, source=request_source(request))
    finally:
        slots.release()
    return {"sha256": blob.sha256, "size": blob.size, "stored": True}


@router.post("/hello")
async def receive_hello(node: NodeDep, request: Request) -> dict[str, Any]:
    """A peer announces it has started: whatever waits for it is retried now."""
    token = await _compact_token(request, SMALL_REQUEST_BYTES, "a compact JWS")
    peer = await run_in_threadpool(accept_hello, node, token)
    return {"peer": peer, "queue": "due now"}


# A note (4 KiB at most) and a consistency proof (128 hashes at most) in JWS claims, base64url-encoded once.
CHECKPOINT_REQUEST_BYTES = 32 * 1024


@router.post("/checkpoints")
async def receive_checkpoint(node: NodeDep, request: Request) -> dict[str, Any]:
    """The peer's signed tree head in a signed request (`accord-checkpoint+jws`): the request is authenticated first,
    then the checkpoint is judged against the last one countersigned here, and countersigned."""
    token = await _compact_token(request, CHECKPOINT_REQUEST_BYTES, "a compact JWS")
    line = await run_in_threadpool(countersign, node, token)
    return {"cosignature": line}


@router.post("/ledger/inclusion")
async def inclusion(node: NodeDep, request: Request) -> dict[str, Any]:
    """A pinned peer's signed demand for the proof that a leaf of this node's ledger is in a tree head."""
    token = await _compact_token(request, SMALL_REQUEST_BYTES, "a compact JWS")
    return await run_in_threadpool(answer_inclusion_request, node, token)


@router.get("/descriptor", response_class=PlainTextResponse)
def descriptor(node: NodeDep) -> str:
    return export_descriptor(node)

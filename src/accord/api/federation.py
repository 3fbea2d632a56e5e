"""The federation channel the peer node calls: envelopes in batches, attachments, this node's descriptor."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.requests import ClientDisconnect

from accord.api.schemas.federation import (
    BlobStored,
    Cosignature,
    EnvelopeResults,
    HelloAnswer,
    InclusionProof,
    RotationTaken,
)
from accord.crypto.errors import MalformedArtefact, ReplayedEnvelope, StaleEnvelope, VerificationFailed
from accord.errors import AccordError, InvalidInput
from accord.exchange.inbox import Outcome, accept_batch, accept_blob, accept_envelopes, record_request_refusal
from accord.exchange.receipt_proofs import answer_inclusion_request
from accord.exchange.recovery import answer_recovery
from accord.exchange.uploads import (
    INCOMING_DIR,
    UPLOAD_TOKEN_HEADER,
    AnnouncedUpload,
    BufferedBody,
    IncomingBody,
    UploadKind,
    UploadMismatch,
    UploadsBusy,
    UploadSlots,
    check_declared_length,
    verify_upload,
)
from accord.exchange.wake import accept_hello
from accord.exchange.witnessing import countersign
from accord.http.dependencies import NodeDep, ScreenWorkersDep, read_capped_body
from accord.http.openapi import problems, request_body
from accord.http.problems import PROBLEM_MEDIA_TYPE, problem_body, request_id_of
from accord.http.sources import request_source
from accord.i18n import N_, _
from accord.logs import LineBudget
from accord.node import Node
from accord.trust.peers import export_descriptor
from accord.trust.refusals import Endpoint
from accord.trust.rotation import accept_rotation

router = APIRouter(prefix="/federation/v1", tags=["federation"])
log = structlog.get_logger("accord.federation")
_refusal_lines = LineBudget()  # envelopes that do not open are counted (trust.refusals); their details logged sparingly

MAX_ENVELOPES_PER_BATCH = 2000
MAX_REF_LENGTH = 64


class MalformedJson(AccordError):
    status = 400
    slug = "malformed-json"
    title = N_("The body is not JSON")


def _parse_batch(raw: bytes) -> list[tuple[str | None, str]] | str:
    """The envelopes of a version-1 batch, (ref, token) each; or the sealed batch of version 2 (`{"batch": JWE}`)."""
    try:
        payload = orjson.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedJson(_("cannot parse JSON: {exc}").format(exc=exc)) from exc
    if isinstance(payload, dict) and "batch" in payload and "envelopes" not in payload:
        sealed = payload["batch"]
        if not isinstance(sealed, str):
            raise InvalidInput(_("a version-2 body is {{'batch': JWE}}, the batch sealed as one compact JWE"))
        return sealed
    envelopes = payload.get("envelopes") if isinstance(payload, dict) else None
    if not isinstance(envelopes, list) or not envelopes or len(envelopes) > MAX_ENVELOPES_PER_BATCH:
        raise InvalidInput(
            _(
                "the body is {{'envelopes': [{{'ref': …, 'token': …}}, …]}} with 1 to {MAX_ENVELOPES_PER_BATCH} items"
            ).format(MAX_ENVELOPES_PER_BATCH=MAX_ENVELOPES_PER_BATCH)
        )
    batch: list[tuple[str | None, str]] = []
    for entry in envelopes:
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            raise InvalidInput(_("every envelope entry needs a string 'token'"))
        ref = entry.get("ref")
        if isinstance(ref, str) and (len(ref) > MAX_REF_LENGTH or not _encodable(ref)):
            raise InvalidInput(
                _("an envelope's 'ref' is a Unicode string of at most {MAX_REF_LENGTH} characters").format(
                    MAX_REF_LENGTH=MAX_REF_LENGTH
                )
            )
        batch.append((ref if isinstance(ref, str) else None, entry["token"]))
    return batch


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # lone surrogates: JSON can carry them, UTF-8 and the database cannot
        return False
    return True


# RFC 7515 §7.1: the JWS Compact Serialization, three base64url parts.
COMPACT_JWS_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
# RFC 7515 §9.2.1: a JWS in the compact serialization is sent as application/jose.
JOSE_MEDIA_TYPE = "application/jose"
_ENVELOPE_BATCH = {
    "type": "object",
    "properties": {
        "batch": {"type": "string", "description": "version 2: the batch sealed as one compact JWE"},
        "envelopes": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ENVELOPES_PER_BATCH,
            "items": {
                "type": "object",
                "required": ["token"],
                "properties": {
                    "ref": {"type": "string", "maxLength": MAX_REF_LENGTH, "description": "the sender's reference"},
                    "token": {"type": "string", "description": "the sealed envelope (compact JWE)"},
                },
            },
        },
    },
}


def _announced_upload(what: str) -> dict[str, Any]:
    """The header of a body authenticated before it is read: the sender's signed upload token."""
    return {
        "parameters": [
            {
                "name": UPLOAD_TOKEN_HEADER,
                "in": "header",
                "required": True,
                "description": f"the sender's signed upload token (compact JWS): {what}",
                "schema": {"type": "string", "pattern": COMPACT_JWS_PATTERN},
            }
        ]
    }


def _signed_request(what: str) -> dict[str, Any]:
    return request_body({JOSE_MEDIA_TYPE: {"schema": {"type": "string", "pattern": COMPACT_JWS_PATTERN}}}, what)


# A request refused as a whole: 400 (not JSON, a malformed artefact, not the body announced), 401 (no valid upload
# token of the pinned peer), 413 (too large), 422 (not a batch), 503 (as many batches arriving as the node takes); when
# every envelope is refused, the first refusal's status (403 unknown sender, 409 replayed).
@router.post(
    "/envelopes",
    response_model=EnvelopeResults,
    responses=problems(400, 401, 403, 409, 413, 422, 503),
    openapi_extra=request_body({"application/json": {"schema": _ENVELOPE_BATCH}}, "sealed envelopes, 1 to 2000")
    | _announced_upload("the batch's size and SHA-256 (accord-envelope-batch+jws)"),
)
async def receive_envelopes(node: NodeDep, request: Request, workers: ScreenWorkersDep) -> JSONResponse:
    """Verify and store each envelope; answer a signed receipt or a problem per envelope.

    The batch is authenticated before its body is read (see `accord.exchange.uploads`): its upload token
    (`accord-envelope-batch+jws`) verified against the pinned key, the declared length compared, a slot taken; then
    the body read against the token's size and hash. Each envelope is then judged on its own, as if it came alone.
    A version-2 body (`{"batch": JWE}`) is one JWE around the JWS of each envelope: results come in their order, and
    the envelopes stored share one signed receipt, each result carrying it with that envelope's inclusion proof.
    If every envelope is refused the response is the first refusal's problem+json, with all results attached.
    A request refused as a whole (no valid token, too large, not the body announced, not JSON, wrong shape) is counted
    like an envelope that fails to open.
    """
    slots: UploadSlots = request.app.state.batch_slots
    batch = await _admit_upload(node, request, UploadKind.ENVELOPE_BATCH, slots, Endpoint.ENVELOPES)
    try:
        try:
            parsed = _parse_batch(await _read_batch(request, batch))
            if isinstance(parsed, str):  # a batch that does not decrypt is refused as a whole, like a bad body
                results = await run_in_threadpool(
                    accept_batch, node, parsed, source=request_source(request), workers=workers
                )
        except AccordError as problem:
            await run_in_threadpool(
                record_request_refusal, node, problem, endpoint=Endpoint.ENVELOPES, source=request_source(request)
            )
            raise
        if not isinstance(parsed, str):
            results = await run_in_threadpool(
                accept_envelopes, node, parsed, source=request_source(request), workers=workers
            )
    finally:
        slots.release()
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


async def _admit_upload(
    node: Node, request: Request, kind: UploadKind, slots: UploadSlots, endpoint: Endpoint
) -> AnnouncedUpload:
    """The upload the request's token announces, once the token verified, the declared length matched and a slot was
    taken (release it when done); nothing of the body is read. A refusal but a busy node is counted."""
    try:
        upload = await run_in_threadpool(verify_upload, node, kind, request.headers.get(UPLOAD_TOKEN_HEADER))
        check_declared_length(upload, request.headers.get("content-length"))
        slots.admit(upload)
    except UploadsBusy:
        raise  # not a refusal of the peer: it sends again later
    except AccordError as problem:
        await run_in_threadpool(
            record_request_refusal, node, problem, endpoint=endpoint, source=request_source(request)
        )
        raise
    return upload


async def _read_batch(request: Request, batch: AnnouncedUpload) -> bytes:
    """The body of an admitted batch, read no further than announced, and only if it is the body announced."""
    body = BufferedBody(batch)
    try:
        async for chunk in request.stream():
            body.write(chunk)
    except ClientDisconnect as exc:
        raise UploadMismatch(_("the sender closed the connection before the body ended")) from exc
    return body.finish()


SMALL_REQUEST_BYTES = 16 * 1024


async def _compact_token(request: Request, limit: int, what: str) -> str:
    raw = await read_capped_body(request, limit)
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise MalformedArtefact(_("the body must be {what}").format(what=what)) from exc


@router.post(
    "/blobs",
    responses=problems(400, 401, 403, 409, 413, 503),
    openapi_extra=request_body(
        {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        f"a sealed attachment, announced by the signed upload token in the {UPLOAD_TOKEN_HEADER} header",
    )
    | _announced_upload("the attachment's size and SHA-256"),
)
async def receive_blob(node: NodeDep, request: Request) -> BlobStored:
    """A sealed attachment from the peer, authenticated before its body is read (see `accord.exchange.uploads`):
    the upload token verified, the declared length compared, a slot taken; then the body streamed to a file against
    the token's size and hash, and only a matching body opened and stored."""
    slots: UploadSlots = request.app.state.upload_slots
    upload = await _admit_upload(node, request, UploadKind.SEALED_BLOB, slots, Endpoint.BLOBS)
    try:
        with IncomingBody(node.settings.data_dir / INCOMING_DIR, upload) as body:
            try:
                async for chunk in request.stream():
                    await run_in_threadpool(body.write, chunk)  # disk I/O off the event loop
                received = body.finish()
            except ClientDisconnect as exc:
                raise UploadMismatch(_("the sender closed the connection before the body ended")) from exc
            except AccordError as problem:
                await run_in_threadpool(
                    record_request_refusal, node, problem, endpoint=Endpoint.BLOBS, source=request_source(request)
                )
                raise
            blob = await run_in_threadpool(accept_blob, node, upload, received, source=request_source(request))
    finally:
        slots.release()
    return BlobStored(sha256=blob.sha256, size=blob.size, stored=True)


PEER_REQUEST_PROBLEMS = (400, 401, 413)


@router.post(
    "/hello",
    responses=problems(*PEER_REQUEST_PROBLEMS, 409),
    openapi_extra=_signed_request("the peer's signed hello (compact JWS)"),
)
async def receive_hello(node: NodeDep, request: Request) -> HelloAnswer:
    """A peer announces it has started and the wire versions it speaks: whatever waits for it is retried now, and the
    answer carries this node's signed hello with its own versions. A peer sharing no version is refused (409,
    `no-common-version`, naming both sides' versions, with this node's signed hello)."""
    token = await _compact_token(request, SMALL_REQUEST_BYTES, "a compact JWS")
    reply = await run_in_threadpool(accept_hello, node, token)
    return HelloAnswer(peer=reply.peer, queue="due now", hello=reply.hello)


@router.post(
    "/key-rotations",
    response_model=RotationTaken,
    responses=problems(*PEER_REQUEST_PROBLEMS, 403, 409)
    | {202: {"model": RotationTaken, "description": "an emergency rotation, held for the operator's confirmation"}},
    openapi_extra=_signed_request("the peer's key rotation statement (accord-key-rotation+jws)"),
)
async def receive_key_rotation(node: NodeDep, request: Request) -> JSONResponse:
    """A pinned peer replaces one of its keys: the statement must be signed by the peer's signing key in force here
    (never a key it carries) and replace the key in force; then the new key is pinned and the old one kept. An
    emergency statement is held (202) until this node's operator confirms the new fingerprint out of band."""
    token = await _compact_token(request, SMALL_REQUEST_BYTES, "a compact JWS")
    taken = await run_in_threadpool(accept_rotation, node, token)
    answer = RotationTaken(
        peer=taken.peer,
        key=taken.role.value,
        new_fingerprint=taken.new_fingerprint,
        outcome="held" if taken.held else "applied",
    )
    return JSONResponse(answer.model_dump(mode="json"), status_code=202 if taken.held else 200)


# A note (4 KiB at most) and a consistency proof (128 hashes at most) in JWS claims, base64url-encoded once.
CHECKPOINT_REQUEST_BYTES = 32 * 1024


@router.post(
    "/checkpoints",
    responses=problems(*PEER_REQUEST_PROBLEMS, 409),
    openapi_extra=_signed_request("the peer's checkpoint in a signed request (accord-checkpoint+jws)"),
)
async def receive_checkpoint(node: NodeDep, request: Request) -> Cosignature:
    """The peer's signed tree head in a signed request (`accord-checkpoint+jws`): the request is authenticated first,
    then the checkpoint is judged against the last one countersigned here, and countersigned."""
    token = await _compact_token(request, CHECKPOINT_REQUEST_BYTES, "a compact JWS")
    line = await run_in_threadpool(countersign, node, token)
    return Cosignature(cosignature=line)


@router.post(
    "/ledger/inclusion",
    responses=problems(*PEER_REQUEST_PROBLEMS, 404, 422),
    openapi_extra=_signed_request("the peer's signed inclusion request (compact JWS): a leaf index and a tree size"),
)
async def inclusion(node: NodeDep, request: Request) -> InclusionProof:
    """A pinned peer's signed demand for the proof that a leaf of this node's ledger is in a tree head."""
    token = await _compact_token(request, SMALL_REQUEST_BYTES, "a compact JWS")
    return InclusionProof.model_validate(await run_in_threadpool(answer_inclusion_request, node, token))


@router.post(
    "/recovery",
    responses=problems(*PEER_REQUEST_PROBLEMS, 409),
    openapi_extra=_signed_request(
        "the peer's signed recovery request (accord-recovery+jws): the peer was restored from a backup, names the "
        "last sequence number it holds of each channel and declares its restored ledger's head"
    ),
)
async def recovery(node: NodeDep, request: Request) -> dict[str, str]:
    """A pinned peer restored from a backup asks what it lacks: what was delivered to it after the last number it
    holds is queued again, the declared head of its restored ledger is judged against the checkpoints countersigned here
    (409 if it contradicts them), and the signed answer (`accord-recovery-answer+jws`) carries its ledger's latest
    checkpoint countersigned here, the countersignature on the declared head, and what it had sent after its backup,
    with this node's receipts."""
    token = await _compact_token(request, SMALL_REQUEST_BYTES, "a compact JWS")
    return {"answer": await run_in_threadpool(answer_recovery, node, token)}


@router.get(
    "/descriptor",
    response_class=PlainTextResponse,
    responses={200: {"description": "this node's descriptor: its id, URL and public keys, to pin as a peer"}},
)
def descriptor(node: NodeDep) -> str:
    return export_descriptor(node)

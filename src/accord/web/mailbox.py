"""The officer's mail: inbox and outbox (with their live rows), compose with its attachments and the policy check
before sending, a message with its case thread, and the reply to a request.

Each page calls the same services as the API's /api/v1/messages, as the signed-in officer, so need-to-know, roles and
policy apply unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from accord.directory.officers import Officer
from accord.domain.drafts import AttachmentDraft, HandlingDraft, MessageDraft, ReplyDraft
from accord.domain.handling import Caveat, Handling, Tlp
from accord.domain.messages import (
    OPENING_KINDS,
    Assurance,
    AssuranceKind,
    DeliveryState,
    MessageKind,
    Priority,
    Purpose,
    Subject,
    SubjectKind,
    SubjectRole,
)
from accord.domain.notifications import PenAnswer, PenDecision
from accord.domain.replies import AnswerStart, answer_start
from accord.domain.search import SearchQuery, highlight
from accord.errors import AccordError, InvalidInput, validation_text
from accord.exchange.attachments import read_message_attachment, store_blob
from accord.exchange.mailbox import (
    Box,
    MailboxFilter,
    MailboxSort,
    case_thread,
    counts_by_focus_area,
    list_messages,
    mailbox_order,
    open_message,
    search_query,
)
from accord.exchange.sending import evaluate_draft, reply_draft, send_messages
from accord.http.attachments import attachment_response
from accord.http.dependencies import NodeDep
from accord.i18n import _
from accord.node import Node
from accord.policy.installed import InstalledPolicy
from accord.policy.offences import offence_taxonomy
from accord.web._pages import Pager, page, page_limit, page_position, pager, redirect
from accord.web.labels import LABELS
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
WEB_PAGE_SIZE = 50
SUBJECT_ROWS = 3
IDENTIFIER_ROWS = 2  # per subject; the API takes any number
ASSURANCE_ROWS = 2


# ---- inbox and outbox


_BOX_PARAMS = ("q", "focus_area", "kind", "priority", "state", "overdue", "sort", "limit", "after")


@dataclass(frozen=True, slots=True)
class Listing:
    """A page of a box as the page and its live rows show it."""

    rows: list[dict[str, Any]]
    search: SearchQuery | None
    pager: Pager


def _choice(enum: Callable[[str], T], wanted: str | None, refusal: str) -> T | None:
    """`wanted` as a value of `enum`; `refusal` (with `{wanted}`) says why not."""
    try:
        return enum(wanted) if wanted else None
    except ValueError as exc:
        raise InvalidInput(refusal.format(wanted=wanted)) from exc


def _mailbox(request: Request, node: Node, officer: Officer, box: str, params: dict[str, str | None]) -> Listing:
    sort = _choice(MailboxSort, params.get("sort"), _("{wanted!r} is not a sort order")) or MailboxSort.CREATED
    order = mailbox_order(sort)
    typed = (params.get("q") or "").strip()
    flt = MailboxFilter(
        box=box,
        focus_area=params.get("focus_area") or None,
        state=_choice(DeliveryState, params.get("state"), _("{wanted!r} is not a delivery state")),
        overdue={"yes": True, "no": False}.get(params.get("overdue") or ""),
        limit=page_limit(request, WEB_PAGE_SIZE),
        after=page_position(node, order, request),
        kind=_choice(MessageKind, params.get("kind"), _("{wanted!r} is not a message kind")),
        priority=_choice(Priority, params.get("priority"), _("{wanted!r} is not a priority")),
        q=typed or None,
        sort=sort,
    )
    page = list_messages(node, officer, flt)
    search = search_query(typed) if typed else None
    if search is not None:
        for row in page.items:
            row["title_segments"] = highlight(row["title"], search)
    return Listing(page.items, search, pager(request, node, order, page.next, path=f"/{box}"))


def _box_params(request: Request) -> dict[str, str | None]:
    return {k: request.query_params.get(k) for k in _BOX_PARAMS}


def _box_context(request: Request, node: Node, officer: Officer, box: str) -> dict[str, Any]:
    params = _box_params(request)
    listing = _mailbox(request, node, officer, box, params)
    return {
        "labels": LABELS,
        "box": box,
        "rows": listing.rows,
        "listing": listing,
        "params": params,
        "counts": counts_by_focus_area(node, officer),
        "focus_areas": node.agreement.focus_areas,
        "query": request.url.query,
    }


@router.get("/inbox")
@router.get("/outbox")
def mailbox(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    box = Box.INBOX if request.url.path == "/inbox" else Box.OUTBOX
    return page(
        request,
        "mailbox.html.j2",
        officer,
        priorities=[p.value for p in Priority],
        kinds=[k.value for k in MessageKind],
        **_box_context(request, node, officer, box),
    )


@router.get("/inbox/rows")
@router.get("/outbox/rows")
def mailbox_rows(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    box = Box.INBOX if request.url.path.startswith("/inbox") else Box.OUTBOX
    return page(request, "_mailbox_rows.html.j2", officer, live=True, **_box_context(request, node, officer, box))


# ---- compose


def _compose_context(node: Node) -> dict[str, Any]:
    other = node.party.other
    return {
        "labels": LABELS,
        "agencies": [a for a in node.agreement.agencies if a.party is other],
        "focus_areas": node.agreement.focus_areas,
        "priorities": [p.value for p in Priority],
        "classifications": list(node.agreement.classification_mapping[node.party]),
        "tlps": [t.value for t in Tlp],
        "caveats": [c.value for c in Caveat],
        "kinds": [k.value for k in (MessageKind.REQUEST, MessageKind.SHARE, MessageKind.ALERT)],
        "purposes": [p.value for p in Purpose],
        "subject_kinds": [k.value for k in SubjectKind],
        "subject_roles": [r.value for r in SubjectRole],
        "subject_rows": range(SUBJECT_ROWS),
        "identifier_suffixes": [_identifier_suffix(k) for k in range(IDENTIFIER_ROWS)],
        "offences": [o.display for o in offence_taxonomy().offences],
        "protected_grounds": _protected_grounds(node),
        "assurance_kinds": [k.value for k in AssuranceKind],
        "assurance_rows": range(ASSURANCE_ROWS),
        "other_party": node.agreement.party_name(other),
    }


@router.get("/compose")
def compose_form(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    return page(request, "compose.html.j2", officer, form={}, **_compose_context(node))


def _identifier_suffix(row: int) -> str:
    """Form field names: the first identifier of subject n is subject_id_scheme_n, the next subject_id_scheme_n_1."""
    return "" if row == 0 else f"_{row}"


def _protected_grounds(node: Node) -> tuple[str, ...]:
    """The grounds the installed pack's neutrality screen knows, for the officer to declare."""
    pack = node.policy.pack if isinstance(node.policy, InstalledPolicy) else None
    return pack.manifest.screens.neutrality.protected_grounds if pack is not None else ()


def _offence_code(typed: str) -> str | None:
    """What the officer picked from the list ("0101 Intentional homicide"), typed as a code, or as a label."""
    typed = typed.strip()
    if not typed:
        return None
    code = typed.split()[0]
    if code.isdigit():
        return code
    for offence in offence_taxonomy().offences:
        if offence.label.casefold() == typed.casefold():
            return offence.code
    raise InvalidInput(
        _(
            "offence: {typed!r} is not in the offence list; pick one of the list (e.g. 0101 Intentional homicide)"
        ).format(typed=typed)
    )


def _subject_from_form(form: dict[str, Any], n: int) -> dict[str, Any] | None:
    name = (form.get(f"subject_name_{n}") or "").strip()
    identifiers = []
    for suffix in (_identifier_suffix(k) for k in range(IDENTIFIER_ROWS)):
        scheme = (form.get(f"subject_id_scheme_{n}{suffix}") or "").strip()
        value = (form.get(f"subject_id_value_{n}{suffix}") or "").strip()
        if value:
            identifiers.append({"scheme": scheme or "other", "value": value})
    if not (name or identifiers):
        return None
    subject: dict[str, Any] = {"kind": form.get(f"subject_kind_{n}") or "person", "name": name or None}
    for field in ("role", "date_of_birth", "nationality"):
        given = (form.get(f"subject_{field}_{n}") or "").strip()
        if given:
            subject[field] = given.upper() if field == "nationality" else given
    if identifiers:
        subject["identifiers"] = identifiers
    return subject


def _assurances_from_form(form: dict[str, Any]) -> list[dict[str, Any]]:
    assurances = []
    for n in range(ASSURANCE_ROWS):
        given = {
            key: (form.get(f"assurance_{key}_{n}") or "").strip()
            for key in ("kind", "reference", "issued_on", "issuing_authority")
        }
        if any(given.values()):
            assurances.append(given)
    return assurances


def _draft_from_form(form: dict[str, Any], attachments: list[AttachmentDraft]) -> MessageDraft:
    subjects = [s for s in (_subject_from_form(form, n) for n in range(SUBJECT_ROWS)) if s is not None]
    caveats = form.get("caveats") or []
    try:
        return MessageDraft(
            kind=MessageKind(form.get("kind") or "request"),
            recipient_agency=form.get("recipient_agency") or "",
            focus_area=form.get("focus_area") or "",
            priority=Priority(form.get("priority") or "routine"),
            handling=HandlingDraft(
                classification=form.get("classification") or "",
                tlp=Tlp(form.get("tlp") or "AMBER"),
                caveats=tuple(Caveat(c) for c in caveats),
                restrictions=form.get("restrictions") or None,
                named_recipients=tuple(n.strip() for n in (form.get("named_recipients") or "").split(",") if n.strip()),
            ),
            legal_basis=form.get("legal_basis") or None,
            title=form.get("title") or "",
            body=form.get("body") or "",
            subjects=tuple(Subject.model_validate(subject) for subject in subjects),
            attachments=tuple(attachments),
            purpose=Purpose(form.get("purpose") or "intelligence"),
            offence=_offence_code(form.get("offence") or ""),
            grounds=tuple(form.get("grounds") or ()),
            assurances=tuple(Assurance.model_validate(a) for a in _assurances_from_form(form)),
        )
    except ValidationError as exc:
        raise InvalidInput(validation_text(exc)) from exc
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


async def _form_dict(request: Request) -> tuple[dict[str, Any], list[UploadFile]]:
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["caveats"] = [v for v in form.getlist("caveats") if isinstance(v, str)]
    values["grounds"] = [v for v in form.getlist("grounds") if isinstance(v, str)]
    files = [f for f in form.getlist("attachment") if not isinstance(f, str) and f.filename]
    return values, files


async def _store_uploads(node: Node, officer: Officer, files: list[UploadFile]) -> list[AttachmentDraft]:
    attachments = []
    for upload in files:
        data = await upload.read()
        blob = await run_in_threadpool(
            store_blob,
            node,
            data,
            upload.content_type or "application/octet-stream",
            "local",
            officer.id,
            officer.agency,
        )
        attachments.append(AttachmentDraft(sha256=blob.sha256, name=upload.filename or "attachment"))
    return attachments


@router.post("/compose/check", dependencies=[CsrfChecked])
async def compose_check(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    values, files = await _form_dict(request)
    try:
        # The attachment is stored (by content, as the send will store it again) so the check reads what the send
        # would: a list of persons in it is held here as it would be there.
        draft = _draft_from_form(values, await _store_uploads(node, officer, files))
        decision = await run_in_threadpool(evaluate_draft, node, officer, draft)
    except AccordError as problem:
        return page(request, "_decision.html.j2", officer, decision=None, problem=problem.detail)
    return page(request, "_decision.html.j2", officer, decision=decision.shown(), problem=None)


@router.post("/compose", dependencies=[CsrfChecked])
async def compose_send(request: Request, node: NodeDep, officer: WebOfficerDep) -> Response:
    values, files = await _form_dict(request)
    try:
        draft = _draft_from_form(values, await _store_uploads(node, officer, files))
        [queued] = await run_in_threadpool(send_messages, node, officer, [draft])
    except AccordError as problem:
        return page(
            request, "compose.html.j2", officer, 422, form=values, error=problem.detail, **_compose_context(node)
        )
    return redirect(f"/messages/{queued.message.id}?sent=1")


# ---- a message and its case


@router.get("/messages/{message_id}")
def messagepage(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> HTMLResponse:
    message = open_message(node, officer, message_id)
    thread = case_thread(node, officer, message["case_id"])
    can_reply = (
        message["direction"] == "incoming"
        and message["recipient"]["agency"] == officer.agency
        and message["kind"] in {k.value for k in OPENING_KINDS}
    )
    answer = _answer_start(node, message) if can_reply else None
    return page(
        request,
        "message.html.j2",
        officer,
        labels=LABELS,
        message=message,
        offence_label=offence_taxonomy().display(message["offence"]) if message.get("offence") else None,
        thread=thread,
        can_reply=can_reply,
        answer=answer,
        sent=request.query_params.get("sent"),
    )


def _answer_start(node: Node, message: dict[str, Any]) -> AnswerStart | None:
    """The answer form's title, handling and choices, from the message opened (None: no marking of ours reaches
    its level; the answer is refused with the reason when sent)."""
    try:
        return answer_start(
            message["title"],
            Handling.model_validate(message["handling"]),
            node.agreement.classification_mapping[node.party],
            answered_officer=message["sender"]["officer"],
        )
    except ValueError:
        return None


@router.get("/messages/{message_id}/attachments/{sha256}")
def attachment(node: NodeDep, officer: WebOfficerDep, message_id: str, sha256: str, download: bool = False) -> Response:
    """An attachment of a message the officer may read: shown in the browser where that is safe, or downloaded."""
    opened = read_message_attachment(node, officer, message_id, sha256)
    return attachment_response(opened.data, opened.media_type, opened.name, inline=not download)


@router.get("/cases/{case_id}/thread")
def thread_rows(request: Request, node: NodeDep, officer: WebOfficerDep, case_id: str) -> HTMLResponse:
    current = request.query_params.get("current", "")
    thread = case_thread(node, officer, case_id)
    return page(request, "_thread.html.j2", officer, labels=LABELS, thread=thread, current=current)


@router.post("/messages/{message_id}/reply", dependencies=[CsrfChecked])
async def reply(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    message_id: str,
    body: Annotated[str, Form()],
    title: Annotated[str, Form()] = "",
    classification: Annotated[str, Form()] = "",
    tlp: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "",
    pen_decision: Annotated[str, Form()] = "",
    pen_grounds: Annotated[str, Form()] = "",
) -> Response:
    # The form chooses the marking and the TLP (none: the inherited handling); the caveats and restriction of the
    # message answered come with it in reply_draft.
    try:
        chosen = HandlingDraft(classification=classification, tlp=Tlp(tlp)) if classification and tlp else None
        draft = ReplyDraft(
            handling=chosen,
            legal_basis=legal_basis or None,
            title=title or None,
            body=body,
            pen_answer=PenAnswer(decision=PenDecision(pen_decision), grounds=pen_grounds or None)
            if pen_decision
            else None,
        )
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(_("the answer is not complete: {exc}").format(exc=exc)) from exc
    full = await run_in_threadpool(reply_draft, node, officer, message_id, draft)
    [queued] = await run_in_threadpool(send_messages, node, officer, [full])
    return redirect(f"/messages/{queued.message.id}?sent=1")

"""The pages: sign-in, inbox/outbox, compose, case view, review queue, work plan, directory, audit.

Each page calls the same services as the REST API, as the signed-in officer, so need-to-know, roles and policy apply
unchanged; every form post carries the session's CSRF token.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from accord.api.workplan import report_response
from accord.directory.officers import Officer, Role, issue_token, revoke_token
from accord.domain.drafts import AttachmentDraft, HandlingDraft, MessageDraft, ReplyDraft
from accord.domain.handling import Caveat, Tlp
from accord.domain.messages import OPENING_KINDS, DeliveryState, MessageKind, Priority, Purpose, Subject, SubjectKind
from accord.domain.notifications import PenAnswer, PenDecision
from accord.domain.workplan import ALLOWED_TRANSITIONS, ActionStatus
from accord.errors import AccordError, Forbidden, InvalidInput, validation_text
from accord.exchange.attachments import store_blob
from accord.exchange.audit import AUDIT_ROLES, export_audit_bundle, ledger_status, require_audit_role
from accord.exchange.mailbox import Box, MailboxFilter, case_thread, counts_by_focus_area, list_messages, open_message
from accord.exchange.receipt_proofs import prove_message
from accord.exchange.review import ReviewDecision, decide, held_queue
from accord.exchange.sending import evaluate_draft, reply_draft, send_messages
from accord.http.dependencies import NodeDep
from accord.ledger.bundle import Verdict
from accord.ledger.verify import verify_bundle
from accord.node import Node
from accord.reports import charts
from accord.reports.render import ReportFormat, format_hours
from accord.store.tables import officers
from accord.web.security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    CsrfChecked,
    WebOfficerDep,
    new_signin_token,
)
from accord.workplan.indicators import measure, requests_per_area
from accord.workplan.periods import Period, parse_period
from accord.workplan.plan import plan_view
from accord.workplan.proposals import DecisionDraft, ProposalDraft, accept, list_proposals, propose, reject

router = APIRouter(include_in_schema=False)
_environment = Environment(
    loader=PackageLoader("accord.web", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)
_PRIORITY_ORDER = {p.value: p.outbox_rank for p in Priority}
SUBJECT_ROWS = 3


def _when(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _time_left(deadline: datetime | None) -> str:
    if deadline is None:
        return ""
    seconds = (deadline - datetime.now(UTC)).total_seconds()
    hours = abs(seconds) / 3600
    text = f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"
    return f"{text} left" if seconds >= 0 else f"{text} overdue"


_environment.filters.update(when=_when, time_left=_time_left, hours=format_hours)
_STATUS_ORDER = [ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED, ActionStatus.DONE, ActionStatus.CANCELLED]


def page(request: Request, name: str, officer: Officer | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with what every page needs: who is signed in, what their roles open, the CSRF token."""
    node = request.app.state.node
    base = {
        "officer": officer,
        "csrf": getattr(request.state, "csrf", ""),
        "node": {"id": node.node_id, "party": node.party.value, "name": node.agreement.parties[node.party]},
        "path": request.url.path,
        "roles": {r.value for r in officer.roles} if officer else set(),
        "can_audit": bool(officer and officer.roles & AUDIT_ROLES),
        "can_review": bool(officer and officer.roles & {Role.LEGAL, Role.DEPUTY_HEAD}),
        "can_coordinate": bool(officer and Role.COORDINATOR in officer.roles),
    }
    return templates.TemplateResponse(request, name, base | context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/inbox"


def current_quarter() -> Period:
    now = datetime.now(UTC)
    return parse_period(f"{now.year}-Q{(now.month - 1) // 3 + 1}")


# ---- sign-in


@router.get("/")
def home() -> RedirectResponse:
    return redirect("/inbox")


@router.get("/signin")
def signin_form(request: Request, next: str | None = None, error: str | None = None) -> HTMLResponse:
    token = new_signin_token()
    response = page(request, "signin.html.j2", None, signin_token=token, next=_safe_next(next), error=error)
    response.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict", max_age=1800)
    return response


@router.post("/signin")
async def signin(
    request: Request,
    node: NodeDep,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    signin_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/inbox",
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE)
    if not expected or signin_token != expected:
        raise Forbidden("the sign-in form expired or did not come from this site; reload it and try again")
    try:
        issued = await run_in_threadpool(issue_token, node, username, password, node.settings.web_idle_timeout_s)
    except AccordError:
        token = new_signin_token()
        refused = page(
            request,
            "signin.html.j2",
            None,
            401,
            signin_token=token,
            next=_safe_next(next),
            error="Wrong username or password.",
            username=username,
        )
        refused.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict", max_age=1800)
        return refused
    response = redirect(_safe_next(next))
    secure = node.settings.resolved_public_url.startswith("https://")
    response.set_cookie(SESSION_COOKIE, issued.access_token, httponly=True, samesite="strict", secure=secure, path="/")
    response.delete_cookie(SIGNIN_COOKIE)
    return response


@router.post("/signout", dependencies=[CsrfChecked])
def signout(request: Request, node: NodeDep, officer: WebOfficerDep) -> Response:
    with node.engine.begin() as conn:
        revoke_token(conn, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- inbox and outbox


def _mailbox(node: Any, officer: Officer, box: str, params: dict[str, str | None]) -> list[dict[str, Any]]:
    overdue = {"yes": True, "no": False}.get(params.get("overdue") or "")
    wanted = params.get("state")
    try:
        state = DeliveryState(wanted) if wanted else None
    except ValueError as exc:
        raise InvalidInput(f"{wanted!r} is not a delivery state") from exc
    flt = MailboxFilter(box=box, focus_area=params.get("focus_area") or None, state=state, overdue=overdue, limit=200)
    rows = list_messages(node, officer, flt)
    if params.get("priority"):
        rows = [r for r in rows if r["priority"] == params["priority"]]
    sort = params.get("sort") or "created"
    keys = {
        "created": lambda r: r["created_at"],
        "deadline": lambda r: r["deadline"] or datetime.max.replace(tzinfo=UTC),
        "priority": lambda r: (_PRIORITY_ORDER[r["priority"]], r["created_at"]),
        "focus": lambda r: (r["focus_area"], r["created_at"]),
    }
    rows.sort(key=keys.get(sort, keys["created"]), reverse=sort == "created")
    return rows


def _box_params(request: Request) -> dict[str, str | None]:
    return {k: request.query_params.get(k) for k in ("focus_area", "priority", "state", "overdue", "sort")}


@router.get("/inbox")
@router.get("/outbox")
def mailbox(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    box = Box.INBOX if request.url.path == "/inbox" else Box.OUTBOX
    params = _box_params(request)
    rows = _mailbox(node, officer, box, params)
    counts = counts_by_focus_area(node, officer)
    return page(
        request,
        "mailbox.html.j2",
        officer,
        box=box,
        rows=rows,
        params=params,
        counts=counts,
        focus_areas=node.agreement.focus_areas,
        priorities=[p.value for p in Priority],
        query=request.url.query,
    )


@router.get("/inbox/rows")
@router.get("/outbox/rows")
def mailbox_rows(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    box = Box.INBOX if request.url.path.startswith("/inbox") else Box.OUTBOX
    params = _box_params(request)
    rows = _mailbox(node, officer, box, params)
    return page(
        request,
        "_mailbox_rows.html.j2",
        officer,
        box=box,
        rows=rows,
        query=request.url.query,
        params=params,
        counts=counts_by_focus_area(node, officer),
        focus_areas=node.agreement.focus_areas,
        live=True,
    )


# ---- compose


def _compose_context(node: Any) -> dict[str, Any]:
    other = node.party.other
    return {
        "agencies": [a for a in node.agreement.agencies if a.party is other],
        "focus_areas": node.agreement.focus_areas,
        "priorities": [p.value for p in Priority],
        "classifications": list(node.agreement.classification_mapping[node.party]),
        "tlps": [t.value for t in Tlp],
        "caveats": [c.value for c in Caveat],
        "kinds": [k.value for k in (MessageKind.REQUEST, MessageKind.SHARE, MessageKind.ALERT)],
        "purposes": [p.value for p in Purpose],
        "subject_kinds": [k.value for k in SubjectKind],
        "subject_rows": range(SUBJECT_ROWS),
        "other_party": node.agreement.parties[other],
    }


@router.get("/compose")
def compose_form(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    return page(request, "compose.html.j2", officer, form={}, **_compose_context(node))


def _draft_from_form(form: dict[str, Any], attachments: list[AttachmentDraft]) -> MessageDraft:
    subjects = []
    for n in range(SUBJECT_ROWS):
        name = (form.get(f"subject_name_{n}") or "").strip()
        scheme = (form.get(f"subject_id_scheme_{n}") or "").strip()
        value = (form.get(f"subject_id_value_{n}") or "").strip()
        if not (name or value):
            continue
        subject: dict[str, Any] = {"kind": form.get(f"subject_kind_{n}") or "person", "name": name or None}
        if value:
            subject["identifiers"] = [{"scheme": scheme or "other", "value": value}]
        subjects.append(subject)
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
            offence=form.get("offence") or None,
        )
    except ValidationError as exc:
        raise InvalidInput(validation_text(exc)) from exc
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


async def _form_dict(request: Request) -> tuple[dict[str, Any], list[UploadFile]]:
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["caveats"] = [v for v in form.getlist("caveats") if isinstance(v, str)]
    files = [f for f in form.getlist("attachment") if not isinstance(f, str) and f.filename]
    return values, files


@router.post("/compose/check", dependencies=[CsrfChecked])
async def compose_check(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    values, _ = await _form_dict(request)
    try:
        draft = _draft_from_form(values, [])
        decision = await run_in_threadpool(evaluate_draft, node, officer, draft)
    except AccordError as problem:
        return page(request, "_decision.html.j2", officer, decision=None, problem=problem.detail)
    return page(request, "_decision.html.j2", officer, decision=decision.as_json(), problem=None)


@router.post("/compose", dependencies=[CsrfChecked])
async def compose_send(request: Request, node: NodeDep, officer: WebOfficerDep) -> Response:
    values, files = await _form_dict(request)
    try:
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
        draft = _draft_from_form(values, attachments)
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
    return page(
        request,
        "message.html.j2",
        officer,
        message=message,
        thread=thread,
        can_reply=can_reply,
        classifications=list(node.agreement.classification_mapping[node.party]),
        tlps=[t.value for t in Tlp],
        sent=request.query_params.get("sent"),
    )


@router.get("/cases/{case_id}/thread")
def thread_rows(request: Request, node: NodeDep, officer: WebOfficerDep, case_id: str) -> HTMLResponse:
    current = request.query_params.get("current", "")
    return page(request, "_thread.html.j2", officer, thread=case_thread(node, officer, case_id), current=current)


@router.post("/messages/{message_id}/reply", dependencies=[CsrfChecked])
async def reply(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    message_id: str,
    title: Annotated[str, Form()],
    body: Annotated[str, Form()],
    classification: Annotated[str, Form()],
    tlp: Annotated[str, Form()] = "AMBER",
    legal_basis: Annotated[str, Form()] = "",
    pen_decision: Annotated[str, Form()] = "",
    pen_grounds: Annotated[str, Form()] = "",
) -> Response:
    try:
        draft = ReplyDraft(
            handling=HandlingDraft(classification=classification, tlp=Tlp(tlp)),
            legal_basis=legal_basis or None,
            title=title,
            body=body,
            pen_answer=PenAnswer(decision=PenDecision(pen_decision), grounds=pen_grounds or None)
            if pen_decision
            else None,
        )
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(f"the answer is not complete: {exc}") from exc
    full = await run_in_threadpool(reply_draft, node, officer, message_id, draft)
    [queued] = await run_in_threadpool(send_messages, node, officer, [full])
    return redirect(f"/messages/{queued.message.id}?sent=1")


# ---- review queue


@router.get("/reviews")
def reviews(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    items = held_queue(node, officer)
    return page(request, "reviews.html.j2", officer, items=items, done=request.query_params.get("done"))


@router.post("/reviews/{message_id}", dependencies=[CsrfChecked])
def review_decision(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    message_id: str,
    action: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        decision = ReviewDecision(action=action, reason=reason)
    except ValidationError as exc:
        raise InvalidInput("a decision is approve, refuse or escalate, with a reason of at least 3 characters") from exc
    result = decide(node, officer, message_id, decision)
    return redirect(f"/reviews?done={result['action']}")


# ---- work plan


@router.get("/workplan")
def workplan(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    period = current_quarter()
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        plan = plan_view(conn, node.agreement)
        exchange, indicators = measure(conn, node.registry, node.agreement, period, now)
    chart = charts.overview_chart(
        requests_per_area(exchange, node.agreement),
        [p.value for p in node.agreement.parties],
        f"Requests per focus area, {period.label}",
    )
    areas = [(None, "Cross-cutting")] + [(a.code, a.name) for a in node.agreement.focus_areas]
    pending = list_proposals(node, "pending")
    return page(
        request,
        "workplan.html.j2",
        officer,
        plan=plan,
        areas=areas,
        indicators=indicators,
        chart=chart,
        period=period,
        pending=pending,
        today=now.date().isoformat(),
        transitions={s.value: [t.value for t in _STATUS_ORDER if t in ALLOWED_TRANSITIONS[s]] for s in ActionStatus},
        done=request.query_params.get("done"),
    )


@router.post("/workplan/propose", dependencies=[CsrfChecked])
def workplan_propose(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    item: Annotated[str, Form()],
    base_version: Annotated[int, Form()],
    status: Annotated[str, Form()],
    reason: Annotated[str, Form()],
) -> Response:
    try:
        draft = ProposalDraft(item=item, base_version=base_version, changes={"status": status}, reason=reason)
    except ValidationError as exc:
        raise InvalidInput("a proposal needs the new status and a reason") from exc
    propose(node, officer, draft)
    return redirect("/workplan?done=proposed")


@router.post("/workplan/proposals/{proposal_id}/{verdict}", dependencies=[CsrfChecked])
def workplan_decide(
    request: Request,
    node: NodeDep,
    officer: WebOfficerDep,
    proposal_id: str,
    verdict: str,
    reason: Annotated[str, Form()] = "",
) -> Response:
    if verdict == "accept":
        accept(node, officer, proposal_id, DecisionDraft(reason=reason))
    elif verdict == "reject":
        reject(node, officer, proposal_id, DecisionDraft(reason=reason))
    else:
        raise InvalidInput("a proposal is accepted or rejected")
    return redirect(f"/workplan?done={verdict}ed")


@router.get("/workplan/report")
async def workplan_report(node: NodeDep, officer: WebOfficerDep, period: str = "", format: str = "pdf") -> Response:
    chosen = parse_period(period) if period else current_quarter()
    try:
        wanted = ReportFormat(format)
    except ValueError as exc:
        raise InvalidInput("the report comes as html, pdf or json") from exc
    return await report_response(node, chosen, wanted, "attachment")


# ---- directory and audit


@router.get("/directory")
def directory(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    with node.engine.connect() as conn:
        people = conn.execute(
            select(officers.c.display_name, officers.c.agency, officers.c.roles, officers.c.is_sample)
            .where(officers.c.active.is_(True))
            .order_by(officers.c.agency, officers.c.display_name)
        ).all()
    parties = [
        (p.value, name, [a for a in node.agreement.agencies if a.party is p])
        for p, name in node.agreement.parties.items()
    ]
    return page(request, "directory.html.j2", officer, parties=parties, people=people)


def _audit_page(request: Request, node: Node, officer: Officer, verdict: Verdict | None) -> HTMLResponse:
    status = ledger_status(node, checkpoints=20, alarms=20)
    return page(
        request, "audit.html.j2", officer, checkpoints=status.checkpoints, alarms=status.alarms, verdict=verdict
    )


@router.get("/audit")
def audit(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    require_audit_role(officer)
    return _audit_page(request, node, officer, None)


@router.post("/audit/verify", dependencies=[CsrfChecked])
async def audit_verify(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    """Export this node's audit bundle and verify it exactly as an oversight body would, offline."""
    require_audit_role(officer)
    with tempfile.TemporaryDirectory(prefix="accord-verify-") as folder:
        bundle = Path(folder) / "bundle.json.gz"
        await run_in_threadpool(export_audit_bundle, node, bundle)
        verdict = await run_in_threadpool(verify_bundle, bundle)
    return _audit_page(request, node, officer, verdict)


@router.get("/audit/messages/{message_id}/proof")
async def message_proof(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> HTMLResponse:
    """Each ledger entry about the message, on both sides, with its inclusion proof against a countersigned head."""
    require_audit_role(officer)
    proof = await run_in_threadpool(prove_message, node, message_id)
    return page(request, "proof.html.j2", officer, message_id=message_id, proof=proof)


__all__ = ["CSRF_FIELD", "router"]

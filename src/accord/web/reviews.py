"""The legal review queue: the disclosures the policy held, most pressing first, each with its message, the rules that
refuse or hold it and what would make it lawful; the reviewer records assurances, caveats and redactions, sees a
preview of exactly what will leave (re-rendered as they edit), and approves, refuses or escalates.

It calls the same services as the API's /api/v1/reviews, as the signed-in officer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from accord.directory.officers import Officer
from accord.domain.handling import Caveat
from accord.domain.messages import AssuranceKind
from accord.errors import AccordError, InvalidInput, validation_text
from accord.exchange.redaction import REMOVABLE_FIELDS, ReviewConditions
from accord.exchange.review import HeldItem, ReviewDecision, decide, held_queue, preview_release
from accord.http.dependencies import NodeDep
from accord.i18n import _
from accord.node import Node
from accord.policy.findings import describe_findings
from accord.policy.installed import shown_decision
from accord.web._pages import page, redirect
from accord.web.labels import LABELS, subject_field
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)
ASSURANCE_FIELDS = ("assurance_kind", "assurance_reference", "assurance_issued_on", "assurance_authority")


def _cards(node: Node, officer: Officer) -> list[dict[str, Any]]:
    """Each held item with what its card shows: the findings as sentences, the rules that refuse or hold it (their
    reasons and remedies in the officer's language)."""
    cards = []
    for item in held_queue(node, officer):
        decision = shown_decision(item.decision, node.policy) if item.decision else {}
        policies = decision.get("policies") or []
        may_decide = officer.username not in item.editors
        shown = preview_release(node, officer, item.message_id, ReviewConditions()) if may_decide else None
        cards.append(
            {
                "item": item,
                "message": item.message,
                "decision": decision,
                "findings": describe_findings(item.decision.get("findings") or {}, item.message),
                "refusing": [p for p in policies if not p.get("review")],
                "holding": [p for p in policies if p.get("review")],
                "may_decide": may_decide,
                "removable": _removable(item),
                "preview": shown,
                "preview_findings": describe_findings(shown.decision.findings, shown.message) if shown else [],
            }
        )
    return cards


def _removable(item: HeldItem) -> list[list[tuple[str, str]]]:
    """Per subject, the (path, label) of each field it has that a reviewer may remove."""
    if item.message is None:
        return []
    return [
        [
            (f"subjects[{index}].{name}", subject_field(name))
            for name in sorted(REMOVABLE_FIELDS)
            if getattr(subject, name) not in (None, "", ())
        ]
        for index, subject in enumerate(item.message.subjects)
    ]


@dataclass(frozen=True, slots=True)
class ShownProblem:
    """A refusal as a review card shows it: its title in the officer's language, and its detail."""

    title: str
    detail: str

    @classmethod
    def of(cls, problem: AccordError) -> ShownProblem:
        return cls(_(problem.title), problem.detail)


def _render(request: Request, node: Node, officer: Officer, status_code: int = 200, **context: Any) -> HTMLResponse:
    return page(
        request,
        "reviews.html.j2",
        officer,
        status_code,
        labels=LABELS,
        cards=_cards(node, officer),
        caveats=list(Caveat),
        assurance_kinds=list(AssuranceKind),
        today=date.today().isoformat(),
        **context,
    )


@router.get("/reviews")
def reviews(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    return _render(request, node, officer, done=request.query_params.get("done"))


def conditions_from(form: FormData) -> ReviewConditions:
    """The reviewer's conditions as the form states them; a half-filled assurance is an error, not ignored."""
    assurance = {name: str(form.get(name) or "").strip() for name in ASSURANCE_FIELDS}
    raw: dict[str, Any] = {
        "add_caveats": form.getlist("add_caveats"),
        "remove_fields": form.getlist("remove_fields"),
        "remove_subjects": form.getlist("remove_subjects"),
        "remove_attachments": form.getlist("remove_attachments"),
    }
    if any(assurance.values()):
        raw["assurance"] = {
            "kind": assurance["assurance_kind"],
            "reference": assurance["assurance_reference"],
            "issued_on": assurance["assurance_issued_on"],
            "issuing_authority": assurance["assurance_authority"],
        }
    try:
        return ReviewConditions.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(
            _("the conditions are not valid: {validation_text}").format(validation_text=validation_text(exc))
        ) from exc


@router.post("/reviews/{message_id}/preview", dependencies=[CsrfChecked])
async def review_preview(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> HTMLResponse:
    """The htmx partial: what would leave with the conditions as the form has them now, and the pack's decision."""
    form = await request.form()
    try:
        conditions = conditions_from(form)
        shown = await run_in_threadpool(preview_release, node, officer, message_id, conditions)
    except AccordError as problem:
        shown_problem = ShownProblem.of(problem)
        return page(request, "_review_preview.html.j2", officer, problem=shown_problem, message_id=message_id)
    return page(
        request,
        "_review_preview.html.j2",
        officer,
        labels=LABELS,
        preview=shown,
        problem=None,
        message_id=message_id,
        findings=describe_findings(shown.decision.findings, shown.message),
        level=2 if form.get("level") == "2" else 1,
    )


@router.post("/reviews/{message_id}", dependencies=[CsrfChecked])
async def review_decision(request: Request, node: NodeDep, officer: WebOfficerDep, message_id: str) -> Response:
    form = await request.form()
    try:
        try:
            decision = ReviewDecision(
                action=str(form.get("action") or ""),
                reason=str(form.get("reason") or ""),
                conditions=conditions_from(form) if form.get("action") == "approve" else ReviewConditions(),
            )
        except ValidationError as exc:
            raise InvalidInput(
                _("a decision is approve, refuse or escalate, with a reason of at least 3 characters")
            ) from exc
        result = await run_in_threadpool(decide, node, officer, message_id, decision)
    except AccordError as problem:
        status = problem.status if 400 <= problem.status < 500 else 422
        return _render(request, node, officer, status, problem=ShownProblem.of(problem), problem_message=message_id)
    return redirect(f"/reviews?done={result['action']}")

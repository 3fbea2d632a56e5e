"""`accord review queue|preview|decide`: the legal review queue from the node's shell, as a named reviewer (the same
services as the API and the web form: most pressing first, four eyes, conditions, gates)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from accord.cli._console import DataOption, console, node_as_officer, stop

if TYPE_CHECKING:
    from accord.exchange.redaction import ReviewConditions

review_app = typer.Typer(help="The legal review queue: held disclosures, previews, decisions.", no_args_is_help=True)

OfficerOption = Annotated[str, typer.Option("--officer", help="the reviewer's username (legal or deputy_head)")]
MessageArgument = Annotated[str, typer.Argument(help="the held message's id")]
# Redactions, caveats and an assurance, as on the web form.
RemoveField = Annotated[list[str] | None, typer.Option(help="subjects[N].<field> to leave out (repeatable)")]
RemoveSubject = Annotated[list[int] | None, typer.Option(help="subject N to leave out entirely (repeatable)")]
RemoveAttachment = Annotated[list[str] | None, typer.Option(help="attachment sha256 to leave out (repeatable)")]
AddCaveat = Annotated[list[str] | None, typer.Option(help="handling code to add: H0, H1, H2, H3 (repeatable)")]
AssuranceKindOption = Annotated[str | None, typer.Option(help="no-death-penalty, humane-treatment or use-limitation")]
AssuranceReference = Annotated[str | None, typer.Option(help="the document, e.g. a note verbale's number")]
AssuranceDate = Annotated[str | None, typer.Option(help="the date it was given (YYYY-MM-DD)")]
AssuranceAuthority = Annotated[str | None, typer.Option(help="who gave it")]

UNUSABLE = 2


@review_app.command("queue")
def review_queue(data: DataOption, officer: OfficerOption) -> None:
    """The held disclosures this reviewer may decide, most pressing first."""
    from accord.errors import AccordError
    from accord.exchange.review import held_queue

    with node_as_officer(data, officer) as (node, reviewer):
        try:
            items = held_queue(node, reviewer)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    table = Table("message", "priority", "deadline", "title", "held by", "level", "drafted/edited by")
    for item in items:
        rules = ", ".join(p.get("id", "") for p in item.decision.get("policies") or [])
        deadline = item.deadline.strftime("%Y-%m-%d %H:%M") if item.deadline else "—"
        table.add_row(
            item.message_id, item.priority, deadline, item.title, rules, str(item.level), ", ".join(item.editors)
        )
    console.print(table if items else "nothing waits for review")


def _conditions(
    remove_field: list[str] | None,
    remove_subject: list[int] | None,
    remove_attachment: list[str] | None,
    add_caveat: list[str] | None,
    assurance: tuple[str | None, str | None, str | None, str | None],
) -> ReviewConditions:
    from pydantic import ValidationError

    from accord.errors import validation_text
    from accord.exchange.redaction import ReviewConditions

    raw: dict[str, object] = {
        "remove_fields": remove_field or [],
        "remove_subjects": remove_subject or [],
        "remove_attachments": remove_attachment or [],
        "add_caveats": add_caveat or [],
    }
    kind, reference, issued_on, authority = assurance
    if any(assurance):
        raw["assurance"] = {
            "kind": kind,
            "reference": reference,
            "issued_on": issued_on or date.today().isoformat(),
            "issuing_authority": authority,
        }
    try:
        return ReviewConditions.model_validate(raw)
    except ValidationError as exc:
        stop(f"the conditions are not valid: {validation_text(exc)}", UNUSABLE)


@review_app.command("preview")
def review_preview(
    message: MessageArgument,
    data: DataOption,
    officer: OfficerOption,
    remove_field: RemoveField = None,
    remove_subject: RemoveSubject = None,
    remove_attachment: RemoveAttachment = None,
    add_caveat: AddCaveat = None,
    assurance_kind: AssuranceKindOption = None,
    assurance_reference: AssuranceReference = None,
    assurance_date: AssuranceDate = None,
    assurance_authority: AssuranceAuthority = None,
) -> None:
    """What would leave with these conditions, and what the pack says of it; nothing is stored."""
    from accord.errors import AccordError
    from accord.exchange.review import preview_release
    from accord.policy.findings import describe_findings

    assurance = (assurance_kind, assurance_reference, assurance_date, assurance_authority)
    conditions = _conditions(remove_field, remove_subject, remove_attachment, add_caveat, assurance)
    with node_as_officer(data, officer) as (node, reviewer):
        try:
            shown = preview_release(node, reviewer, message, conditions)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    leaving = shown.message
    console.print(f"[bold]{leaving.title}[/] ({leaving.handling.classification}, TLP:{leaving.handling.tlp})")
    for subject in leaving.subjects:
        console.print(f"  subject: {subject.name or '(no name)'} ({subject.role or subject.kind.value})")
    for attachment in leaving.attachments:
        console.print(f"  attachment: {attachment.name}")
    for given in leaving.assurances:
        console.print(f"  assurance: {given.kind} {given.reference}, {given.issued_on}, {given.issuing_authority}")
    if shown.removed:
        console.print("left out: " + "; ".join(shown.removed))
    for hit in shown.decision.policies:
        effect = "refuses" if not hit.review else "blocks approval" if hit.gate else "holds"
        remedy = f" — to make it lawful: {hit.remedy}" if hit.remedy else ""
        console.print(f"{effect}: {hit.id} ({hit.citation}){remedy}")
    for sentence in describe_findings(shown.decision.findings, leaving):
        console.print(f"  {sentence}")
    console.print("approvable" if shown.approvable else "[red]not approvable as it stands[/]")


@review_app.command("decide")
def review_decide(
    message: MessageArgument,
    data: DataOption,
    officer: OfficerOption,
    action: Annotated[str, typer.Option(help="approve, refuse or escalate")],
    reason: Annotated[str, typer.Option(help="why (logged)")],
    remove_field: RemoveField = None,
    remove_subject: RemoveSubject = None,
    remove_attachment: RemoveAttachment = None,
    add_caveat: AddCaveat = None,
    assurance_kind: AssuranceKindOption = None,
    assurance_reference: AssuranceReference = None,
    assurance_date: AssuranceDate = None,
    assurance_authority: AssuranceAuthority = None,
) -> None:
    """Approve (with conditions), refuse or escalate a held disclosure; refused while a gate still applies."""
    from pydantic import ValidationError

    from accord.errors import AccordError
    from accord.exchange.review import ReviewDecision, decide

    assurance = (assurance_kind, assurance_reference, assurance_date, assurance_authority)
    conditions = _conditions(remove_field, remove_subject, remove_attachment, add_caveat, assurance)
    try:
        decision = ReviewDecision(action=action, reason=reason, conditions=conditions)
    except ValidationError:
        stop("a decision is approve, refuse or escalate, with a reason of at least 3 characters", UNUSABLE)
    with node_as_officer(data, officer) as (node, reviewer):
        try:
            result = decide(node, reviewer, message, decision)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    console.print(f"[green]{result['action']}[/] at level {result['level']}: {result['state']} — {result['reason']}")

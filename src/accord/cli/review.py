"""`accord review queue|preview|decide`: the legal review queue from the node's shell, as a named reviewer (the same
services as the API and the web form: most pressing first, four eyes, conditions, gates)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from accord.cli._console import DataOption, console, node_as_officer, stop
from accord.i18n import _
from accord.i18n.zones import format_moment

if TYPE_CHECKING:
    from accord.exchange.redaction import ReviewConditions

review_app = typer.Typer(help=_("The legal review queue: held disclosures, previews, decisions."), no_args_is_help=True)

OfficerOption = Annotated[str, typer.Option("--officer", help=_("the reviewer's username (legal or deputy_head)"))]
MessageArgument = Annotated[str, typer.Argument(help=_("the held message's id"))]
# Redactions, caveats and an assurance, as on the web form.
RemoveField = Annotated[list[str] | None, typer.Option(help=_("subjects[N].<field> to leave out (repeatable)"))]
RemoveSubject = Annotated[list[int] | None, typer.Option(help=_("subject N to leave out entirely (repeatable)"))]
RemoveAttachment = Annotated[list[str] | None, typer.Option(help=_("attachment sha256 to leave out (repeatable)"))]
AddCaveat = Annotated[list[str] | None, typer.Option(help=_("handling code to add: H0, H1, H2, H3 (repeatable)"))]
AssuranceKindOption = Annotated[
    str | None, typer.Option(help=_("no-death-penalty, humane-treatment or use-limitation"))
]
AssuranceReference = Annotated[str | None, typer.Option(help=_("the document, e.g. a note verbale's number"))]
AssuranceDate = Annotated[str | None, typer.Option(help=_("the date it was given (YYYY-MM-DD)"))]
AssuranceAuthority = Annotated[str | None, typer.Option(help=_("who gave it"))]

UNUSABLE = 2


@review_app.command("queue", help=_("The held disclosures this reviewer may decide, most pressing first."))
def review_queue(data: DataOption, officer: OfficerOption) -> None:
    from accord.errors import AccordError
    from accord.exchange.review import held_queue

    with node_as_officer(data, officer) as (node, reviewer):
        try:
            items = held_queue(node, reviewer)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    table = Table(
        _("message"), _("priority"), _("deadline"), _("title"), _("held by"), _("level"), _("drafted/edited by")
    )
    for item in items:
        rules = ", ".join(p.get("id", "") for p in item.decision.get("policies") or [])
        deadline = format_moment(item.deadline) if item.deadline else "—"
        table.add_row(
            item.message_id, item.priority, deadline, item.title, rules, str(item.level), ", ".join(item.editors)
        )
    console.print(table if items else _("nothing waits for review"))


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
        stop(
            _("the conditions are not valid: {validation_text}").format(validation_text=validation_text(exc)), UNUSABLE
        )


@review_app.command(
    "preview", help=_("What would leave with these conditions, and what the pack says of it; nothing is stored.")
)
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
    console.print(
        _("[bold]{title}[/] ({classification}, TLP:{tlp})").format(
            title=leaving.title, classification=leaving.handling.classification, tlp=leaving.handling.tlp
        )
    )
    for subject in leaving.subjects:
        console.print(
            _("  subject: {value} ({value2})").format(
                value=subject.name or _("(no name)"), value2=subject.role or subject.kind.value
            )
        )
    for attachment in leaving.attachments:
        console.print(_("  attachment: {name}").format(name=attachment.name))
    for given in leaving.assurances:
        console.print(
            _("  assurance: {kind} {reference}, {issued_on}, {issuing_authority}").format(
                kind=given.kind,
                reference=given.reference,
                issued_on=given.issued_on,
                issuing_authority=given.issuing_authority,
            )
        )
    if shown.removed:
        console.print(_("left out: {removed}").format(removed="; ".join(shown.removed)))
    for hit in shown.decision.policies:
        effect = _("refuses") if not hit.review else _("blocks approval") if hit.gate else _("holds")
        console.print(_("{effect}: {id} ({citation})").format(effect=effect, id=hit.id, citation=hit.citation))
        if hit.remedy:
            console.print(_("  to make it lawful: {remedy}").format(remedy=hit.remedy_text()))
    for sentence in describe_findings(shown.decision.findings, leaving):
        console.print(f"  {sentence}")
    console.print(_("approvable") if shown.approvable else _("[red]not approvable as it stands[/]"))


@review_app.command(
    "decide",
    help=_("Approve (with conditions), refuse or escalate a held disclosure; refused while a gate still applies."),
)
def review_decide(
    message: MessageArgument,
    data: DataOption,
    officer: OfficerOption,
    action: Annotated[str, typer.Option(help=_("approve, refuse or escalate"))],
    reason: Annotated[str, typer.Option(help=_("why (logged)"))],
    remove_field: RemoveField = None,
    remove_subject: RemoveSubject = None,
    remove_attachment: RemoveAttachment = None,
    add_caveat: AddCaveat = None,
    assurance_kind: AssuranceKindOption = None,
    assurance_reference: AssuranceReference = None,
    assurance_date: AssuranceDate = None,
    assurance_authority: AssuranceAuthority = None,
) -> None:
    from pydantic import ValidationError

    from accord.errors import AccordError
    from accord.exchange.review import ReviewDecision, decide

    assurance = (assurance_kind, assurance_reference, assurance_date, assurance_authority)
    conditions = _conditions(remove_field, remove_subject, remove_attachment, add_caveat, assurance)
    try:
        decision = ReviewDecision(action=action, reason=reason, conditions=conditions)
    except ValidationError:
        stop(_("a decision is approve, refuse or escalate, with a reason of at least 3 characters"), UNUSABLE)
    with node_as_officer(data, officer) as (node, reviewer):
        try:
            result = decide(node, reviewer, message, decision)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    console.print(
        _("[green]{action}[/] at level {level}: {state} — {reason}").format(
            action=result["action"], level=result["level"], state=result["state"], reason=result["reason"]
        )
    )

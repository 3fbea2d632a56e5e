"""`accord forward`: forward a received message inside this state, answer the peer's consent requests, list
forwards; the operator acts for an officer, as with the other officer commands."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, node_as_officer, parse_party, stop
from accord.i18n import _

forward_app = typer.Typer(
    help=_("Forward received messages inside this state, under the originator's caveats."), no_args_is_help=True
)

OfficerOption = Annotated[str, typer.Option("--officer", help=_("the username of the officer who acts"))]
REFUSED = 3  # the pack refused the forward (exit code), as opposed to a command that could not run (1, 2)


@forward_app.command(
    "send",
    help=_("Forward a message; exit 0 when forwarded or awaiting the originator's consent, 3 when the pack refuses."),
)
def forward_send(
    message_id: Annotated[str, typer.Argument(help=_("the received message to forward"))],
    data: DataOption,
    officer: OfficerOption,
    agency: Annotated[str, typer.Option("--to-agency", help=_("the agency of this state it goes to"))],
    reason: Annotated[str, typer.Option("--reason", help=_("why they need it (told to the originator)"))],
    to_officer: Annotated[str | None, typer.Option("--to-officer", help=_("only this officer of it reads it"))] = None,
    party: Annotated[
        str | None, typer.Option("--party", help=_("the target's state (a forward stays in ours)"))
    ] = None,
) -> None:
    from pydantic import ValidationError

    from accord.domain.forwarding import ForwardDraft, ForwardState
    from accord.errors import AccordError, validation_text
    from accord.forwarding.service import forward_message

    try:
        draft = ForwardDraft(
            agency=agency,
            officer=to_officer,
            party=parse_party(party) if party else None,
            reason=reason,
        )
    except ValidationError as exc:
        stop(validation_text(exc))
    with node_as_officer(data, officer) as (node, forwarder):
        try:
            outcome = forward_message(node, forwarder, message_id, draft)
        except AccordError as exc:
            stop(exc.detail)
    console.print(
        _("forward {forward_id}: [bold]{value}[/]").format(forward_id=outcome.forward_id, value=outcome.state.value)
    )
    for reason_line in outcome.decision.explained():
        console.print(f"  {escape(reason_line)}")
    for policy in outcome.decision.policies:
        if remedy := policy.remedy_text():
            console.print(_("  remedy: {escape}").format(escape=escape(remedy)))
    if outcome.consent_request_id:
        console.print(
            _("consent request {consent_request_id} sent to the originator").format(
                consent_request_id=outcome.consent_request_id
            )
        )
    if outcome.state is ForwardState.REFUSED:
        raise typer.Exit(code=REFUSED)


@forward_app.command(
    "consent", help=_("Grant or refuse, for the agency that sent the message, a forward the peer asked consent for.")
)
def forward_consent(
    forward_id: Annotated[str, typer.Argument(help=_("the forward the peer asks consent for"))],
    data: DataOption,
    officer: OfficerOption,
    grant: Annotated[bool, typer.Option("--grant/--refuse", help=_("grant or refuse the consent"))],
    conditions: Annotated[str | None, typer.Option("--conditions", help=_("what the answer is subject to"))] = None,
) -> None:
    from accord.domain.forwarding import ConsentDecision, OnwardConsent
    from accord.errors import AccordError
    from accord.forwarding.service import answer_consent

    decision = ConsentDecision.GRANTED if grant else ConsentDecision.REFUSED
    with node_as_officer(data, officer) as (node, originator):
        try:
            answered = answer_consent(
                node, originator, forward_id, OnwardConsent(decision=decision, conditions=conditions)
            )
        except AccordError as exc:
            stop(exc.detail)
    console.print(
        _("forward {forward_id}: {state}; the answer {answer_id} is {delivery}").format(
            forward_id=forward_id,
            state=answered["state"],
            answer_id=answered["answer_id"],
            delivery=answered["delivery"],
        )
    )


@forward_app.command(
    "list",
    help=_("The forwards the officer's agency made or was given, and those of its messages the peer made or asks for."),
)
def forward_list(data: DataOption, officer: OfficerOption) -> None:
    from accord.forwarding.service import forward_page

    with node_as_officer(data, officer) as (node, reader):
        listed = forward_page(node, reader, limit=500).items  # the newest 500, as the list always showed
    table = Table(_("forward"), _("role"), _("message"), _("to"), _("state"), _("created"))
    for f in listed:
        to = f"{f['to']['agency']}" + (f" / {f['to']['officer']}" if f["to"]["officer"] else "")
        table.add_row(f["id"], f["role"], f["message_id"], escape(to), f["state"], f["created_at"].isoformat())
    console.print(table)

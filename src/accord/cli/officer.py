"""`accord officer`: officer accounts of this node, created by its operator."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from accord.cli._console import DataOption, console, opened_node, stop

officer_app = typer.Typer(help="Officer accounts of this node.", no_args_is_help=True)


@officer_app.command("add")
def officer_add(
    data: DataOption,
    username: Annotated[str, typer.Option()],
    agency: Annotated[str, typer.Option(help="agency code of this node's party, e.g. RCMP")],
    name: Annotated[str, typer.Option(help="display name")],
    role: Annotated[
        list[str], typer.Option(help="officer, analyst, legal, deputy_head, coordinator, operator, oversight")
    ],
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
    clearance: Annotated[
        str, typer.Option(help="unclassified, restricted, confidential, secret, top_secret")
    ] = "secret",
    focus_area: Annotated[
        list[str] | None, typer.Option(help="limit reading to these focus areas (default: all)")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="where notices reach them (reviewers: urgent holds), kept with the name")
    ] = None,
) -> None:
    """Create an officer account (the password is asked for, never given on the command line)."""
    from accord.directory.officers import Role, create_officer, display_with_mailbox
    from accord.domain.handling import CommonLevel
    from accord.errors import AccordError

    try:
        roles = frozenset(Role(r) for r in role)
    except ValueError:
        stop(f"unknown role in {role}; roles are {', '.join(r.value for r in Role)}")
    try:
        level = CommonLevel(clearance)
    except ValueError:
        stop(f"unknown clearance {clearance!r}; one of {', '.join(c.value for c in CommonLevel)}")
    try:
        display = display_with_mailbox(name, email) if email is not None else name
    except AccordError as exc:
        stop(exc.detail)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("password: ")
    from accord.errors import NotFound
    from accord.exchange.roster import publish_roster

    with opened_node(data) as node:
        officer = create_officer(
            node, username, password, display, agency, roles, False, level, tuple(focus_area or ())
        )
        console.print(f"[green]officer {officer.username}[/] ({officer.agency}, {', '.join(sorted(roles))}) created")
        try:  # the peer learns who may be named as a TLP:RED recipient here
            publish_roster(node)
        except NotFound:
            console.print("no peer is pinned yet: publish the roster with `accord peer roster` once one is")


@officer_app.command("unlock")
def officer_unlock(
    username: Annotated[str, typer.Argument(help="the officer's username")],
    data: DataOption,
) -> None:
    """Lift the lock (and the back-off) that failed sign-ins put on an officer's account; logged in the ledger."""
    from accord.directory.throttle import unlock_officer
    from accord.errors import AccordError
    from accord.exchange.audit import CLI_OPERATOR

    with opened_node(data) as node:
        try:
            unlocked = unlock_officer(node, username, actor=CLI_OPERATOR)
        except AccordError as exc:
            stop(exc.detail)
    if unlocked is None:
        console.print(f"officer {username} has no failed sign-ins to lift; nothing changed")
        return
    what = "locked" if unlocked.was_locked else "waiting"
    console.print(
        f"[green]officer {username} unlocked[/] (was {what} after {unlocked.failures} failed sign-ins); "
        "logged in the ledger"
    )

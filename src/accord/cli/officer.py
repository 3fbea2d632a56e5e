"""`accord officer`: officer accounts of this node, created by its operator."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli._console import DataOption, console, opened_node, stop
from accord.i18n import LANGUAGE_NAMES, Language, _, parse_language

if TYPE_CHECKING:
    from accord.directory.officers import Officer
    from accord.node import Node

officer_app = typer.Typer(help=_("Officer accounts of this node."), no_args_is_help=True)


@officer_app.command(
    "add", help=_("Create an officer account (the password is asked for, never given on the command line).")
)
def officer_add(
    data: DataOption,
    username: Annotated[str, typer.Option()],
    agency: Annotated[str, typer.Option(help=_("agency code of this node's party, e.g. RCMP"))],
    name: Annotated[str, typer.Option(help=_("display name"))],
    role: Annotated[
        list[str], typer.Option(help=_("officer, analyst, legal, deputy_head, coordinator, operator, oversight"))
    ],
    password_stdin: Annotated[bool, typer.Option(help=_("read the password from stdin"))] = False,
    clearance: Annotated[
        str, typer.Option(help=_("unclassified, restricted, confidential, secret, top_secret"))
    ] = "secret",
    focus_area: Annotated[
        list[str] | None, typer.Option(help=_("limit reading to these focus areas (default: all)"))
    ] = None,
    email: Annotated[str | None, typer.Option(help=_("the address notifications reach them at by mail"))] = None,
    duty: Annotated[
        bool, typer.Option(help=_("on duty: told of what arrives for their agency (see `accord officer duty`)"))
    ] = False,
    language: Annotated[
        str | None, typer.Option(help=_("the language they read Accord in: en, fr or hi (default: the node's)"))
    ] = None,
) -> None:
    from accord.directory.officers import Role, checked_email, create_officer
    from accord.domain.handling import CommonLevel
    from accord.errors import AccordError

    unknown = [r for r in role if r not in {known.value for known in Role}]
    if unknown:
        stop(
            _("unknown role {role!r}; the roles are {join}").format(
                role=unknown[0], join=", ".join(r.value for r in Role)
            )
        )
    roles = frozenset(Role(r) for r in role)
    try:
        level = CommonLevel(clearance)
    except ValueError:
        stop(
            _("unknown clearance {clearance!r}; one of {join}").format(
                clearance=clearance, join=", ".join(c.value for c in CommonLevel)
            )
        )
    chosen = _language_option(language)
    try:
        address = checked_email(email) if email is not None else None
    except AccordError as exc:
        stop(exc.detail)
    if not password_stdin and not sys.stdin.isatty():
        stop(_("no terminal to ask the password on: give it as the first line of stdin with --password-stdin"))
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass(_("password: "))
    from accord.errors import NotFound
    from accord.exchange.roster import publish_roster

    with opened_node(data) as node:
        try:
            officer = create_officer(
                node,
                username,
                password,
                name,
                agency,
                roles,
                False,
                level,
                tuple(focus_area or ()),
                chosen,
                email=address,
                duty=duty,
            )
        except AccordError as exc:
            stop(exc.detail)
        console.print(
            _("[green]officer {username}[/] ({agency}, {join}) created").format(
                username=officer.username, agency=officer.agency, join=", ".join(sorted(roles))
            )
        )
        try:  # the peer learns who may be named as a TLP:RED recipient here
            publish_roster(node)
        except NotFound:
            console.print(_("no peer is pinned yet: publish the roster with `accord peer roster` once one is"))


@officer_app.command(
    "language", help=_("Set the language an officer reads Accord in (their own choice in the web UI does the same).")
)
def officer_language(
    username: Annotated[str, typer.Argument(help=_("the officer's username"))],
    language: Annotated[str, typer.Argument(help=_("en, fr or hi; 'default' for the node's default"))],
    data: DataOption,
) -> None:
    from accord.directory.officers import set_officer_language

    chosen = None if language == "default" else _language_option(language)
    with opened_node(data) as node:
        set_officer_language(node, _active_officer(node, username), chosen)
    shown = LANGUAGE_NAMES[chosen] if chosen else _("the node's default language")
    console.print(_("{username} now reads Accord in {language}").format(username=username, language=shown))


@officer_app.command("zone", help=_("Set the time zone an officer reads times in (as their account page does)."))
def officer_zone(
    username: Annotated[str, typer.Argument(help=_("the officer's username"))],
    zone: Annotated[
        str, typer.Argument(help=_("an IANA zone such as America/Toronto or Asia/Kolkata; 'default' for the node's"))
    ],
    data: DataOption,
) -> None:
    from accord.directory.officers import set_officer_zone
    from accord.errors import AccordError

    with opened_node(data) as node:
        officer = _active_officer(node, username)
        try:
            set_officer_zone(node, officer, None if zone == "default" else zone)
        except AccordError as problem:
            stop(problem.detail, code=2)
        shown = zone if zone != "default" else _("the node's time zone ({zone})").format(zone=node.time_zone)
    console.print(_("{username} now reads times in {zone}").format(username=username, zone=shown))


def _language_option(value: str | None) -> Language | None:
    if value is None:
        return None
    try:
        return parse_language(value)
    except ValueError:
        stop(_("unknown language {value!r}; choose en, fr or hi").format(value=value), code=2)


@officer_app.command(
    "unlock",
    help=_("Lift the lock (and the back-off) that failed sign-ins put on an officer's account; logged in the ledger."),
)
def officer_unlock(
    username: Annotated[str, typer.Argument(help=_("the officer's username"))],
    data: DataOption,
) -> None:
    from accord.directory.throttle import unlock_officer
    from accord.errors import AccordError
    from accord.exchange.audit import CLI_OPERATOR

    with opened_node(data) as node:
        try:
            unlocked = unlock_officer(node, username, actor=CLI_OPERATOR)
        except AccordError as exc:
            stop(exc.detail)
    if unlocked is None:
        console.print(_("officer {username} has no failed sign-ins to lift; nothing changed").format(username=username))
        return
    what = "locked" if unlocked.was_locked else "waiting"
    console.print(
        _(
            "[green]officer {username} unlocked[/] (was {what} after {failures} failed sign-ins); logged in the ledger"
        ).format(username=username, what=what, failures=unlocked.failures)
    )


@officer_app.command(
    "email", help=_("Set the address an officer's notifications reach them at by mail ('none': in the app only).")
)
def officer_email(
    username: Annotated[str, typer.Argument(help=_("the officer's username"))],
    address: Annotated[str, typer.Argument(help=_("an email address, or 'none'"))],
    data: DataOption,
) -> None:
    from accord.directory.officers import checked_email, set_officer_email
    from accord.errors import AccordError

    try:
        chosen = None if address == "none" else checked_email(address)
    except AccordError as exc:
        stop(exc.detail, code=2)
    with opened_node(data) as node:
        officer = _active_officer(node, username)
        set_officer_email(node, officer, chosen)
    if chosen is None:
        console.print(_("{username} is notified in the app only").format(username=username))
    else:
        console.print(_("{username} is notified by mail at {address}").format(username=username, address=chosen))


@officer_app.command(
    "duty",
    help=_(
        "Put an officer on or off duty: officers on duty are told of what arrives for their agency (if none of an "
        "agency's officers is on duty, all of them are)."
    ),
)
def officer_duty(
    username: Annotated[str, typer.Argument(help=_("the officer's username"))],
    state: Annotated[str, typer.Argument(help=_("on or off"))],
    data: DataOption,
) -> None:
    from accord.directory.officers import set_officer_duty

    if state not in {"on", "off"}:
        stop(_("say 'on' or 'off', not {state!r}").format(state=state), code=2)
    with opened_node(data) as node:
        officer = _active_officer(node, username)
        set_officer_duty(node, officer, state == "on")
    if state == "on":
        console.print(_("{username} is on duty for {agency}").format(username=username, agency=officer.agency))
    else:
        console.print(_("{username} is off duty").format(username=username))


def _active_officer(node: Node, username: str) -> Officer:
    from accord.directory.officers import officer_by_username

    with node.engine.connect() as conn:
        officer = officer_by_username(conn, username)
    if officer is None:
        stop(_("no active officer named {username!r}").format(username=username))
    return officer

"""`accord officer`: officer accounts of this node, created by its operator."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from accord.cli._console import DataOption, console, opened_node, stop
from accord.i18n import LANGUAGE_NAMES, Language, _, parse_language

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
    email: Annotated[
        str | None, typer.Option(help=_("where notices reach them (reviewers: urgent holds), kept with the name"))
    ] = None,
    language: Annotated[
        str | None, typer.Option(help=_("the language they read Accord in: en, fr or hi (default: the node's)"))
    ] = None,
) -> None:
    from accord.directory.officers import Role, create_officer, display_with_mailbox
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
        display = display_with_mailbox(name, email) if email is not None else name
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
                node, username, password, display, agency, roles, False, level, tuple(focus_area or ()), chosen
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
    from accord.directory.officers import officer_by_username, set_officer_language

    chosen = None if language == "default" else _language_option(language)
    with opened_node(data) as node:
        with node.engine.connect() as conn:
            officer = officer_by_username(conn, username)
        if officer is None:
            stop(_("no active officer named {username!r}").format(username=username))
        set_officer_language(node, officer, chosen)
    shown = LANGUAGE_NAMES[chosen] if chosen else _("the node's default language")
    console.print(_("{username} now reads Accord in {language}").format(username=username, language=shown))


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

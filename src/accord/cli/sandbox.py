"""`accord up` starts the two-party sandbox and its mail catcher; `accord sandbox seed` writes generated SAMPLE traffic
to it; `accord sandbox mail` reads the mail its nodes sent."""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord.cli._console import console, stop
from accord.config import NODE_FILE
from accord.domain.parties import Party
from accord.errors import AccordError
from accord.i18n import _, ngettext
from accord.i18n.zones import format_moment

if TYPE_CHECKING:
    from accord.datafiles import SampleOfficer
    from accord.node import Node
    from accord.sandbox import CaughtMail, SandboxNode

DEFAULT_VAR = Path("var")
sandbox_app = typer.Typer(help=_("The two-party sandbox's tools."), no_args_is_help=True)


def up(
    var: Annotated[Path, typer.Option(help=_("where the sandbox keeps both nodes' data"))] = DEFAULT_VAR,
    india_port: Annotated[int, typer.Option(help=_("India node's port"))] = 8401,
    canada_port: Annotated[int, typer.Option(help=_("Canada node's port"))] = 8402,
    mail_port: Annotated[int, typer.Option(help=_("the port of the mail catcher the nodes mail through"))] = 8425,
) -> None:
    from accord.sandbox import (
        MailCatcher,
        prepare_sandbox,
        require_free_ports,
        sandbox_mail_dir,
        start_nodes,
        stop_processes,
    )
    from accord.store.modes import restrict_umask

    ports = {Party.IN: india_port, Party.CA: canada_port}
    try:
        require_free_ports(ports, mail_port)  # before anything is made: a busy port is named at once, not in a log
    except AccordError as exc:
        stop(exc.detail)
    restrict_umask()  # both nodes' files, their logs and the mail they send are the owner's alone
    with console.status(_("preparing the India and Canada nodes…")):
        nodes = prepare_sandbox(var, ports)
    # Ctrl-C (and SIGTERM) interrupt whatever runs, explicitly: a shell that starts us in the background leaves
    # SIGINT ignored, and Python then never raises KeyboardInterrupt by itself.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    catcher = MailCatcher(sandbox_mail_dir(var), mail_port)  # a thread of this process: it ends with it
    try:
        with console.status(_("starting both nodes…")):
            catcher.start()
            running = start_nodes(nodes, mail_port)  # a node that dies or stays silent stops both, with its log's cause
    except AccordError as exc:
        catcher.stop()
        stop(exc.detail)
    except KeyboardInterrupt:
        catcher.stop()
        stop(_("interrupted; both nodes are stopped"), code=130)
    try:
        _print_sandbox(nodes, var)
        while True:
            for each in running:
                if each.process.poll() is not None:
                    stop(each.why_it_stopped())
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not leave a node running
        try:
            console.print(_("stopping both nodes…"))
        finally:  # even when the output is gone (a closed pipe): the nodes are stopped, then the mail catcher
            try:
                stop_processes([each.process for each in running])
            finally:
                catcher.stop()
        console.print(_("stopped."))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _print_sandbox(nodes: list[SandboxNode], var: Path) -> None:
    from accord.sandbox import sandbox_mail_dir

    everyone = [officer for node in nodes for officer in node.officers]
    for node in nodes:
        console.print(
            _("\n[bold]{party} node[/] at {url}  (API docs: {url}/docs)").format(party=node.party, url=node.url)
        )
        console.print(_("  SAMPLE sign-ins — not real people, sandbox only:"))
        for line in _sign_in_lines(node.officers, aligned_with=everyone):
            console.print(line, markup=False, highlight=False)
    console.print(
        _(
            "\nMail the nodes send lands in {folder} (Maildir): `{command}` lists it, `{command} --show N` prints one."
        ).format(folder=sandbox_mail_dir(var), command=_mail_command(var)),
        markup=False,
    )
    console.print(_("\nBoth nodes are running. Ctrl-C stops both."))


def _mail_command(var: Path) -> str:
    return "accord sandbox mail" if var == DEFAULT_VAR else f"accord sandbox mail --var {var}"


def _sign_in_lines(officers: Sequence[SampleOfficer], *, aligned_with: Sequence[SampleOfficer]) -> list[str]:
    """The SAMPLE sign-ins as plain lines, in columns as wide as the longest name, password and agency among
    `aligned_with`: they line up whatever the output (a terminal, a pipe, a log file)."""
    width = {
        "username": max((len(o.username) for o in aligned_with), default=0),
        "password": max((len(o.sample_password) for o in aligned_with), default=0),
        "agency": max((len(o.agency) for o in aligned_with), default=0),
    }
    return [
        _("    {username:<20} password {sample_password:<28} {agency:<8} {join}")
        .format(
            username=officer.username.ljust(width["username"]),
            sample_password=officer.sample_password.ljust(width["password"]),
            agency=officer.agency.ljust(width["agency"]),
            join=_on_duty(officer),
        )
        .rstrip()
        for officer in officers
    ]


def _on_duty(officer: SampleOfficer) -> str:
    roles = ", ".join(officer.roles)
    return _("{roles} (on duty)").format(roles=roles) if officer.duty else roles


@sandbox_app.command(
    "seed",
    help=_("Write generated SAMPLE traffic (with reads and answers) to both sandbox nodes, for reports and demos."),
)
def sandbox_seed(
    messages: Annotated[int, typer.Option(help=_("how many requests, shares and alerts to generate"))] = 300,
    days: Annotated[int, typer.Option(help=_("spread them over this many past days"))] = 90,
    seed: Annotated[int, typer.Option(help=_("random seed (the same seed generates the same traffic)"))] = 1,
    var: Annotated[Path, typer.Option(help=_("where the sandbox keeps both nodes' data"))] = DEFAULT_VAR,
) -> None:
    from accord.bootstrap import open_node
    from accord.sandbox import sandbox_data_dir, sandbox_settings, seed_sample_network, seed_traffic

    opened: dict[Party, Node] = {}
    try:
        for party in Party:
            data_dir = sandbox_data_dir(var, party)
            if not (data_dir / NODE_FILE).exists():
                stop(
                    _("no sandbox node in {data_dir}; start the sandbox once with `accord up --var {var}`").format(
                        data_dir=data_dir, var=var
                    )
                )
            opened[party] = open_node(sandbox_settings(data_dir))
        with Progress(
            TextColumn("seeding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("seed", total=messages)
            summary = seed_traffic(opened, messages, days, seed, progress=lambda n: bar.advance(task, n))
        networked = sum(seed_sample_network(node, seed) for node in opened.values())
        countersigned = _countersigned_checkpoints(list(opened.values()))
    except AccordError as exc:
        stop(exc.detail)
    finally:
        for node in opened.values():
            node.close()
    console.print(
        _(
            "wrote {openings} SAMPLE requests, shares and alerts, {responses} responses and "
            "{precursors} precursor notifications, answers and incidents to both nodes, dated "
            "{start:%Y-%m-%d} to {end:%Y-%m-%d}"
        ).format(
            openings=summary.openings,
            responses=summary.responses,
            precursors=summary.precursors,
            start=summary.start,
            end=summary.end,
        )
    )
    if networked:
        console.print(_("wrote {networked} SAMPLE network entities (a case on each node)").format(networked=networked))
    if countersigned:
        console.print(
            _(
                "each message is in both nodes' ledgers, under checkpoints the other node countersigned: "
                "`accord audit prove --data {data_dir} --message ID` proves one"
            ).format(data_dir=sandbox_data_dir(var, Party.CA))
        )
    else:
        console.print(
            _(
                "each message is in both nodes' ledgers; the other node countersigns them at the next checkpoint "
                "once the sandbox runs (`accord up`), and `accord audit prove` proves them from then on"
            )
        )


@sandbox_app.command(
    "mail", help=_("List the mail the sandbox's nodes sent (the newest last), or print one whole with --show N.")
)
def sandbox_mail(
    show: Annotated[int | None, typer.Option(metavar="N", help=_("print mail number N whole"))] = None,
    last: Annotated[int, typer.Option(min=1, help=_("how many of the newest to list"))] = 20,
    var: Annotated[Path, typer.Option(help=_("where the sandbox keeps both nodes' data"))] = DEFAULT_VAR,
) -> None:
    from accord.sandbox import caught_mail, sandbox_mail_dir

    folder = sandbox_mail_dir(var)
    caught = caught_mail(folder)
    if show is not None:
        _print_mail(folder, caught, show)
        return
    if not caught:
        console.print(
            _("no mail in {folder} yet: the sandbox's nodes mail there while `accord up` runs").format(folder=folder),
            markup=False,
        )
        return
    console.print(
        ngettext(
            "{count} mail in {folder} (Maildir), the newest last:",
            "{count} mails in {folder} (Maildir), the newest last:",
            len(caught),
        ).format(count=len(caught), folder=folder),
        markup=False,
    )
    listed = caught[-last:]
    widths = (len(str(listed[-1].number)), max(len(mail.to) for mail in listed))
    for mail in listed:
        console.print(
            f"{mail.number:>{widths[0]}}  {format_moment(mail.delivered_at)}  {mail.to:<{widths[1]}}  {mail.subject}",
            markup=False,
        )


def _print_mail(folder: Path, caught: list[CaughtMail], number: int) -> None:
    from accord.notifications.mail import one_line
    from accord.sandbox import plain_text, read_caught

    if not 1 <= number <= len(caught):
        stop(_("no mail {number} in {folder}; `accord sandbox mail` lists them").format(number=number, folder=folder))
    mail = read_caught(folder, caught[number - 1])
    console.print(_("mail {number} of {count} in {folder}").format(number=number, count=len(caught), folder=folder))
    for header in ("Date", "From", "To", "Subject"):
        console.print(f"{header}: {one_line(str(mail.get(header, '')))}", markup=False)
    console.print("", markup=False)
    text = plain_text(mail)
    console.print(text if text is not None else _("(no plain-text part)"), markup=False)


def _countersigned_checkpoints(nodes: list[Node]) -> bool:
    """A checkpoint of each node over what was just written, countersigned by the other node when the sandbox runs;
    whether both were."""
    from accord.exchange.audit import checkpoint_now

    newest = [checkpoint_now(node) for node in nodes]
    return all(checkpoint is not None and checkpoint.cosignature is not None for checkpoint in newest)

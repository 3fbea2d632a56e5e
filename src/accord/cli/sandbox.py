"""`accord up` starts the two-party sandbox; `accord sandbox seed` writes generated SAMPLE traffic to it."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord.cli._console import console, stop
from accord.config import NODE_FILE
from accord.domain.parties import Party
from accord.errors import AccordError
from accord.i18n import _

if TYPE_CHECKING:
    from accord.sandbox import SandboxNode

sandbox_app = typer.Typer(help=_("The two-party sandbox's tools."), no_args_is_help=True)


def up(
    var: Annotated[Path, typer.Option(help=_("where the sandbox keeps both nodes' data"))] = Path("var"),
    india_port: Annotated[int, typer.Option(help=_("India node's port"))] = 8401,
    canada_port: Annotated[int, typer.Option(help=_("Canada node's port"))] = 8402,
) -> None:
    from accord.sandbox import prepare_sandbox, start_node_process, stop_processes, wait_healthy
    from accord.store.modes import restrict_umask

    restrict_umask()  # both nodes' files, and their logs, are the owner's alone
    with console.status("preparing the India and Canada nodes…"):
        nodes = prepare_sandbox(var, {Party.IN: india_port, Party.CA: canada_port})
    processes = [start_node_process(node) for node in nodes]
    stopping = threading.Event()
    # Handle Ctrl-C explicitly: a shell that starts us in the background leaves SIGINT ignored, and Python then
    # never raises KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        for node in nodes:
            wait_healthy(node.url)
        _print_sandbox(nodes)
        while not stopping.is_set():
            for process, node in zip(processes, nodes, strict=True):
                if process.poll() is not None:
                    stop(
                        _("the {party} node stopped (exit {returncode}); see {data_dir}/node.log").format(
                            party=node.party, returncode=process.returncode, data_dir=node.data_dir
                        )
                    )
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        console.print(_("stopping both nodes…"))
        stop_processes(processes)
        console.print(_("stopped."))


def _print_sandbox(nodes: list[SandboxNode]) -> None:
    for node in nodes:
        console.print(
            _("\n[bold]{party} node[/] at {url}  (API docs: {url}/docs)").format(party=node.party, url=node.url)
        )
        console.print(_("  SAMPLE sign-ins — not real people, sandbox only:"))
        for officer in node.officers:
            console.print(
                _("    {username:<20} password {sample_password:<28} {agency:<8} {join}").format(
                    username=officer.username,
                    sample_password=officer.sample_password,
                    agency=officer.agency,
                    join=", ".join(officer.roles),
                )
            )
    console.print(_("\nBoth nodes are running. Ctrl-C stops both."))


@sandbox_app.command(
    "seed",
    help=_("Write generated SAMPLE traffic (with reads and answers) to both sandbox nodes, for reports and demos."),
)
def sandbox_seed(
    messages: Annotated[int, typer.Option(help=_("how many requests, shares and alerts to generate"))] = 300,
    days: Annotated[int, typer.Option(help=_("spread them over this many past days"))] = 90,
    seed: Annotated[int, typer.Option(help=_("random seed (the same seed generates the same traffic)"))] = 1,
    var: Annotated[Path, typer.Option(help=_("where the sandbox keeps both nodes' data"))] = Path("var"),
) -> None:
    from accord.bootstrap import open_node
    from accord.node import Node
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

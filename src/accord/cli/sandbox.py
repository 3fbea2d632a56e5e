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

if TYPE_CHECKING:
    from accord.sandbox import SandboxNode

sandbox_app = typer.Typer(help="The two-party sandbox's tools.", no_args_is_help=True)


def up(
    var: Annotated[Path, typer.Option(help="where the sandbox keeps both nodes' data")] = Path("var"),
    india_port: Annotated[int, typer.Option(help="India node's port")] = 8401,
    canada_port: Annotated[int, typer.Option(help="Canada node's port")] = 8402,
) -> None:
    """Start the two-party sandbox: India on 127.0.0.1:8401, Canada on 127.0.0.1:8402. Ctrl-C stops both."""
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
                    stop(f"the {node.party} node stopped (exit {process.returncode}); see {node.data_dir}/node.log")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping both nodes…")
        stop_processes(processes)
        console.print("stopped.")


def _print_sandbox(nodes: list[SandboxNode]) -> None:
    for node in nodes:
        console.print(f"\n[bold]{node.party} node[/] at {node.url}  (API docs: {node.url}/docs)")
        console.print("  SAMPLE sign-ins — not real people, sandbox only:")
        for officer in node.officers:
            console.print(
                f"    {officer.username:<20} password {officer.sample_password:<28} {officer.agency:<8} "
                f"{', '.join(officer.roles)}"
            )
    console.print("\nBoth nodes are running. Ctrl-C stops both.")


@sandbox_app.command("seed")
def sandbox_seed(
    messages: Annotated[int, typer.Option(help="how many requests, shares and alerts to generate")] = 300,
    days: Annotated[int, typer.Option(help="spread them over this many past days")] = 90,
    seed: Annotated[int, typer.Option(help="random seed (the same seed generates the same traffic)")] = 1,
    var: Annotated[Path, typer.Option(help="where the sandbox keeps both nodes' data")] = Path("var"),
) -> None:
    """Write generated SAMPLE traffic (with reads and answers) to both sandbox nodes, for reports and demos."""
    from accord.bootstrap import open_node
    from accord.node import Node
    from accord.sandbox import sandbox_data_dir, sandbox_settings, seed_sample_network, seed_traffic

    opened: dict[Party, Node] = {}
    try:
        for party in Party:
            data_dir = sandbox_data_dir(var, party)
            if not (data_dir / NODE_FILE).exists():
                stop(f"no sandbox node in {data_dir}; start the sandbox once with `accord up --var {var}`")
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
        f"wrote {summary.openings} SAMPLE requests, shares and alerts, {summary.responses} responses and "
        f"{summary.precursors} precursor notifications, answers and incidents to both "
        f"nodes, dated {summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d}"
    )
    if networked:
        console.print(f"wrote {networked} SAMPLE network entities (a case on each node)")

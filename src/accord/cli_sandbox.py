"""`accord sandbox seed`: generated SAMPLE traffic for the two-party sandbox that `accord up` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord.config import NODE_FILE
from accord.errors import AccordError

sandbox_app = typer.Typer(help="The two-party sandbox's tools.", no_args_is_help=True)
console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)


def _fail(message: str) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=1)


@sandbox_app.command("seed")
def sandbox_seed(
    messages: Annotated[int, typer.Option(help="how many requests, shares and alerts to generate")] = 300,
    days: Annotated[int, typer.Option(help="spread them over this many past days")] = 90,
    seed: Annotated[int, typer.Option(help="random seed (the same seed generates the same traffic)")] = 1,
    var: Annotated[Path, typer.Option(help="where the sandbox keeps both nodes' data")] = Path("var"),
) -> None:
    """Write generated SAMPLE traffic (with reads and answers) to both sandbox nodes, for reports and demos."""
    from accord.bootstrap import open_node
    from accord.domain.parties import Party
    from accord.node import Node
    from accord.sandbox import sandbox_data_dir, sandbox_settings
    from accord.seed import seed_traffic

    opened: dict[Party, Node] = {}
    try:
        for party in Party:
            data_dir = sandbox_data_dir(var, party)
            if not (data_dir / NODE_FILE).exists():
                _fail(f"no sandbox node in {data_dir}; start the sandbox once with `accord up --var {var}`")
            opened[party] = open_node(sandbox_settings(data_dir))
        with Progress(
            TextColumn("seeding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("seed", total=messages)
            summary = seed_traffic(opened, messages, days, seed, progress=lambda n: bar.advance(task, n))
    except AccordError as exc:
        _fail(exc.detail)
    finally:
        for node in opened.values():
            node.close()
    console.print(
        f"wrote {summary.openings} SAMPLE requests, shares and alerts, {summary.responses} responses and "
        f"{summary.precursors} precursor notifications, answers and incidents to both "
        f"nodes, dated {summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d}"
    )

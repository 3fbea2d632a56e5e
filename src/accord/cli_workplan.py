"""`accord workplan`, `accord report` and `accord sandbox seed`: the plan, the joint progress report, sample traffic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord.config import NODE_FILE, load_settings
from accord.errors import AccordError

workplan_app = typer.Typer(help="The shared work plan as this node holds it.", no_args_is_help=True)
sandbox_app = typer.Typer(help="The two-party sandbox's tools.", no_args_is_help=True)

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)

DataOption = Annotated[Path, typer.Option("--data", help="the node's data directory")]


def _fail(message: str) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=1)


@workplan_app.command("show")
def workplan_show(data: DataOption) -> None:
    """Objectives and actions with status, leads, due dates and waiting proposals."""
    from accord.node import open_node
    from accord.workplan.plan import plan_view

    try:
        node = open_node(load_settings(data))
    except AccordError as exc:
        _fail(exc.detail)
    try:
        with node.engine.connect() as conn:
            plan = plan_view(conn, node.agreement)
    finally:
        node.close()
    for objective in plan["objectives"]:
        table = Table(
            title=f"{objective['title']}  [{objective.get('focus_area') or 'cross-cutting'}]", title_justify="left"
        )
        table.add_column("action", overflow="fold")
        for column in ("leads", "due", "status", "v", "pending"):
            table.add_column(column, no_wrap=True)
        for action in objective["actions"]:
            leads = " / ".join(f"{party} {agency}" for party, agency in action["leads"].items())
            table.add_row(
                action["code"],
                leads,
                action["due"],
                action["status"],
                str(action["version"]),
                str(action["pending_proposals"] or ""),
            )
        console.print(table)


def report(
    period: Annotated[str, typer.Option(help="2026-Q4, 2026-11, 2026 or 2026-10-01..2026-12-31")],
    out: Annotated[Path, typer.Option(help="the file to write")],
    data: DataOption,
    format: Annotated[str, typer.Option(help="html, pdf or json")] = "html",
) -> None:
    """Write the joint progress report for a period: plan, indicators, charts, overdue items, checkpoints."""
    from accord.focus import load_focus_modules
    from accord.node import open_node
    from accord.reports.progress import build_report
    from accord.reports.render import ReportFormat, render_html, render_pdf
    from accord.workplan.periods import parse_period

    try:
        chosen_format = ReportFormat(format.lower())
    except ValueError:
        _fail(f"--format {format!r} is not one of html, pdf, json")
    if not out.parent.exists():
        _fail(f"the folder {out.parent} does not exist")
    load_focus_modules()
    try:
        chosen = parse_period(period)
        node = open_node(load_settings(data))
    except AccordError as exc:
        _fail(exc.detail)
    try:
        with console.status(f"computing the {chosen.label} report…"):
            built = build_report(node, chosen, with_charts=chosen_format is not ReportFormat.JSON)
        with console.status(f"rendering {chosen_format.value.upper()}…"):
            if chosen_format is ReportFormat.PDF:
                out.write_bytes(render_pdf(built))
            elif chosen_format is ReportFormat.HTML:
                out.write_text(render_html(built), encoding="utf-8")
            else:
                out.write_text(json.dumps(built, indent=2, default=str), encoding="utf-8")
    finally:
        node.close()
    totals = built["totals"]
    console.print(
        f"wrote {out} ({out.stat().st_size:,} bytes): {totals['count']} requests in {chosen.label}, "
        f"{totals['answered']} answered, {totals['overdue_now']} overdue now"
    )


@sandbox_app.command("seed")
def sandbox_seed(
    messages: Annotated[int, typer.Option(help="how many requests, shares and alerts to generate")] = 300,
    days: Annotated[int, typer.Option(help="spread them over this many past days")] = 90,
    seed: Annotated[int, typer.Option(help="random seed (the same seed generates the same traffic)")] = 1,
    var: Annotated[Path, typer.Option(help="where the sandbox keeps both nodes' data")] = Path("var"),
) -> None:
    """Write generated SAMPLE traffic (with reads and answers) to both sandbox nodes, for reports and demos."""
    from accord.domain.parties import Party
    from accord.node import Node, open_node
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
        f"wrote {summary.openings} SAMPLE requests, shares and alerts and {summary.responses} responses to both "
        f"nodes, dated {summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d}"
    )

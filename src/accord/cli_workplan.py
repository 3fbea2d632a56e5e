"""`accord workplan` and `accord report`: the shared work plan as this node holds it, and the joint progress report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from accord.config import load_settings
from accord.errors import AccordError

workplan_app = typer.Typer(help="The shared work plan as this node holds it.", no_args_is_help=True)

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)

DataOption = Annotated[Path, typer.Option("--data", help="the node's data directory")]


def _fail(message: str) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=1)


@workplan_app.command("show")
def workplan_show(data: DataOption) -> None:
    """Objectives and actions with status, leads, due dates and waiting proposals."""
    from accord.bootstrap import open_node
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
    from accord.bootstrap import open_node
    from accord.reports.progress import build_report
    from accord.reports.render import ReportFormat, render
    from accord.workplan.periods import parse_period

    try:
        chosen_format = ReportFormat(format.lower())
    except ValueError:
        _fail(f"--format {format!r} is not one of html, pdf, json")
    if not out.parent.exists():
        _fail(f"the folder {out.parent} does not exist")
    try:
        chosen = parse_period(period)
        node = open_node(load_settings(data))
    except AccordError as exc:
        _fail(exc.detail)
    try:
        with console.status(f"computing the {chosen.label} report…"):
            built = build_report(node, chosen, with_charts=chosen_format is not ReportFormat.JSON)
        with console.status(f"rendering {chosen_format.value.upper()}…"):
            out.write_bytes(render(built, chosen_format))
    finally:
        node.close()
    totals = built["totals"]
    console.print(
        f"wrote {out} ({out.stat().st_size:,} bytes): {totals['count']} requests in {chosen.label}, "
        f"{totals['answered']} answered, {totals['overdue_now']} overdue now"
    )

"""`accord workplan` and `accord report`: the shared work plan as this node holds it, and the joint progress report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from accord.cli._console import DataOption, console, opened_node, stop
from accord.errors import AccordError
from accord.i18n import _, format_count

workplan_app = typer.Typer(help=_("The shared work plan as this node holds it."), no_args_is_help=True)


@workplan_app.command("show", help=_("Objectives and actions with status, leads, due dates and waiting proposals."))
def workplan_show(data: DataOption) -> None:
    from accord.workplan.plan import plan_view

    with opened_node(data) as node, node.engine.connect() as conn:
        plan = plan_view(conn, node.agreement)
    for objective in plan["objectives"]:
        table = Table(
            title=f"{objective['title']}  [{objective.get('focus_area') or 'cross-cutting'}]", title_justify="left"
        )
        table.add_column(_("action"), overflow="fold")
        # TRANSLATORS: column headings of `accord workplan show`; "v" is the action's version.
        for column in (_("leads"), _("due"), _("status"), _("v"), _("pending")):
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
    period: Annotated[str, typer.Option(help=_("2026-Q4, 2026-11, 2026 or 2026-10-01..2026-12-31"))],
    out: Annotated[Path, typer.Option(help=_("the file to write"))],
    data: DataOption,
    format: Annotated[str, typer.Option(help=_("html, pdf or json"))] = "html",
    language: Annotated[
        str | None,
        typer.Option(
            help=_("en, fr, hi, or en+fr for English and French together; by default the language Accord runs in"),
            show_default=False,
        ),
    ] = None,
    layout: Annotated[
        str,
        typer.Option(
            help=_(
                "a bilingual report's layout: consecutive (all in English, then all in French) or side-by-side (two "
                "columns, section by section)"
            )
        ),
    ] = "consecutive",
) -> None:
    from accord.i18n import language_scope
    from accord.reports.progress import build_report
    from accord.reports.render import ReportFormat, choose_language, choose_layout, render
    from accord.workplan.periods import parse_period

    try:
        chosen_format = ReportFormat(format.lower())
    except ValueError:
        stop(_("--format {format!r} is not one of html, pdf, json").format(format=format))
    try:
        chosen_language, chosen_layout = choose_language(language), choose_layout(layout)
    except AccordError as exc:
        stop(exc.detail, code=2)
    if not out.parent.exists():
        stop(_("the folder {parent} does not exist").format(parent=out.parent))
    try:
        chosen = parse_period(period)
    except AccordError as exc:
        stop(exc.detail)
    with opened_node(data) as node:
        computing = console.status(_("computing the {period} report…").format(period=chosen.label))
        with computing, language_scope(chosen_language.languages[0]):
            built = build_report(node, chosen, with_charts=chosen_format is not ReportFormat.JSON)
        with console.status(_("rendering {format}…").format(format=chosen_format.value.upper())):
            out.write_bytes(render(built, chosen_format, chosen_language, chosen_layout))
    totals = built["totals"]
    console.print(
        _(
            "wrote {out} ({size} bytes): {count} requests in {label}, {answered} answered, {overdue_now} overdue now"
        ).format(
            out=out,
            size=format_count(out.stat().st_size),
            count=format_count(totals["count"]),
            label=chosen.label,
            answered=format_count(totals["answered"]),
            overdue_now=format_count(totals["overdue_now"]),
        )
    )

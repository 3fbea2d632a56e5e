"""`accord case export`: a case as a file for a file or a court (JSON, or a PDF that embeds it), exported as a named
officer who may read it, with the ledger's proofs; `accord audit verify FILE` checks it offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from accord.cli._console import DataOption, console, node_as_officer, stop
from accord.i18n import _

case_app = typer.Typer(help=_("Cases: export a message's thread with its ledger proofs."), no_args_is_help=True)


@case_app.command(
    "export",
    help=_(
        "Write the case of a message (its thread, decisions, receipts, forwards, attachments by SHA-256 and every "
        "ledger leaf about it, proven against a countersigned checkpoint) as JSON, or as a PDF that embeds the JSON. "
        "Only an officer who may read the message can export it; the export is recorded in the ledger."
    ),
)
def case_export(
    message_id: Annotated[str, typer.Argument(help=_("the id of a message of the case"))],
    data: DataOption,
    officer: Annotated[str, typer.Option("--officer", help=_("the exporting officer's username"))],
    out: Annotated[Path, typer.Option("--out", help=_("the file to write"))],
    form: Annotated[str, typer.Option("--format", help=_("json or pdf"))] = "json",
) -> None:
    from accord.errors import AccordError
    from accord.exchange.case_export import ExportFormat, export_case

    try:
        chosen = ExportFormat(form.strip().lower())
    except ValueError:
        stop(_("{form!r} is not an export format; choose json or pdf").format(form=form), 2)
    with node_as_officer(data, officer) as (node, exporter):
        try:
            exported = export_case(node, exporter, message_id, chosen)
        except AccordError as exc:
            stop(exc.detail)
        if chosen is ExportFormat.PDF:
            from accord.reports.case_report import render_case_pdf

            content = render_case_pdf(exported)
        else:
            content = exported.json_bytes()
    try:
        out.write_bytes(content)
    except OSError as exc:
        stop(_("cannot write the export to {out}: {value}").format(out=out, value=exc.strerror or exc))
    leaves = len(exported.document["leaves"])
    console.print(
        _("[green]exported[/] the case of {message} ({messages} messages, {leaves} ledger leaves) to {out}").format(
            message=message_id,
            messages=len(exported.document["case"]["messages"]),
            leaves=leaves,
            out=escape(str(out)),
        )
    )

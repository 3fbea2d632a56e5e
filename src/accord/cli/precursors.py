"""`accord substances find`: look up a controlled substance by name, synonym, CAS number or HS code.
`accord precursors import|export`: pre-export notifications and precursor incidents to and from CSV or JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, node_as_officer, progress_bar, stop
from accord.errors import AccordError, Forbidden
from accord.i18n import _

if TYPE_CHECKING:
    from accord.focus.precursors.transfer import FileFormat, ImportReport, TransferKind

substances_app = typer.Typer(help=_("Controlled substances of the 1988 Convention and each party's schedule."))
precursors_app = typer.Typer(
    help=_("Pre-export notifications and precursor incidents to and from CSV or JSON files."), no_args_is_help=True
)


@substances_app.command(
    "find", help=_("Print the substances that match, with their table, CAS, HS code and national classes.")
)
def find(
    query: Annotated[str, typer.Argument(help=_("a name (misspellings are matched), synonym, CAS or HS code"))],
) -> None:
    from accord.focus.precursors.substances import load_substances

    listed = load_substances()
    try:
        matches = listed.find(query)
    except AccordError as exc:
        stop(exc.detail)
    if not matches:
        stop(_("nothing in Tables I/II matches {query!r}").format(query=query))
    table = Table(_("substance"), _("table"), _("CAS"), _("HS"), _("matched"), _("Canada"), _("India"))
    for match in matches:
        s = match.substance
        national = listed.national_classes(s)
        cells = [
            ", ".join(c["class"] + ("" if c["confirmed"] else "?") for c in national[party]) for party in ("CA", "IN")
        ]
        table.add_row(
            f"{s.name} ({s.code})", s.table, s.cas or "—", s.hs, f"{match.matched_on} {match.score:g}", *cells
        )
    console.print(table)
    console.print(_("[dim]? = class by the working rule, not yet confirmed against the national instrument[/]"))


# ---- accord precursors import|export

# Exit codes of `precursors import`: every row on its way; some rows not (errors, or refused by policy); nothing
# attempted (the file, the node or the officer cannot be used).
ALL_IMPORTED, SOME_NOT_IMPORTED, UNUSABLE = 0, 1, 2

OfficerOption = Annotated[str, typer.Option("--officer", help=_("the username of the officer the messages are from"))]
KindOption = Annotated[str, typer.Option("--kind", help=_("notifications or incidents"))]
FormatOption = Annotated[
    str | None, typer.Option("--format", help=_("csv or json (default: from the file's extension)"))
]


def _choices(kind: str, form: str | None, path: Path) -> tuple[TransferKind, FileFormat]:
    from accord.focus.precursors.transfer import FileFormat, TransferKind

    try:
        chosen_kind = TransferKind(kind.lower())
    except ValueError:
        stop(
            _("--kind {kind!r} is not one of {join}").format(kind=kind, join=", ".join(k.value for k in TransferKind)),
            UNUSABLE,
        )
    try:
        chosen_format = FileFormat.for_path(path) if form is None else FileFormat(form.lower())
    except ValueError:
        stop(
            _("--format {form!r} is not one of {join}").format(form=form, join=", ".join(f.value for f in FileFormat)),
            UNUSABLE,
        )
    except AccordError as exc:
        stop(exc.detail, UNUSABLE)
    return chosen_kind, chosen_format


@precursors_app.command(
    "import",
    help=_(
        "Send each good notification or incident of the file, in its own transaction, "
        "and list every bad row. Exits 0 when every row is on its way, 1 when some rows "
        "had errors or were refused by policy (the good ones are sent all the same), 2 "
        "when the file as a whole cannot be used (nothing is sent)."
    ),
)
def precursors_import(
    file: Annotated[Path, typer.Argument(help=_("the CSV or JSON file (columns: docs/precursors-import.md)"))],
    data: DataOption,
    officer: OfficerOption,
    kind: KindOption = "notifications",
    format: FormatOption = None,
    dry_run: Annotated[bool, typer.Option(help=_("check every row and ask the policy; send nothing"))] = False,
) -> None:
    from accord.focus.precursors.transfer import MAX_FILE_BYTES, import_file

    chosen_kind, chosen_format = _choices(kind, format, file)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            stop(
                _("{file} has {st_size:,} bytes; at most {MAX_FILE_BYTES:,} are imported at once").format(
                    file=file, st_size=file.stat().st_size, MAX_FILE_BYTES=MAX_FILE_BYTES
                ),
                UNUSABLE,
            )
        content = file.read_bytes()
    except OSError as exc:
        stop(_("cannot read {file}: {strerror}").format(file=file, strerror=exc.strerror), UNUSABLE)
    with (
        node_as_officer(data, officer) as (node, sender),
        progress_bar(f"{'checking' if dry_run else 'importing'} {file.name}") as progress,
    ):
        try:
            report = import_file(node, sender, content, chosen_kind, chosen_format, dry_run, progress)
        except AccordError as exc:
            stop(f"{officer}: {exc.detail}" if isinstance(exc, Forbidden) else exc.detail, UNUSABLE)
    _print_report(report, file)
    raise typer.Exit(code=ALL_IMPORTED if report.complete else SOME_NOT_IMPORTED)


def _print_report(report: ImportReport, file: Path) -> None:
    from accord.domain.messages import DeliveryState
    from accord.focus.precursors.transfer import FileFormat

    where = "line" if report.format is FileFormat.CSV else "item"
    if report.imported:
        table = Table(where, _("reference"), _("id") if not report.dry_run else _("dry run"), _("state"), _("reason"))
        for item in report.imported:
            table.add_row(
                ", ".join(str(n) for n in item.lines),
                escape(item.reference or ""),
                item.id or "—",
                item.state.value if not report.dry_run else f"would be {item.state.value}",
                escape(item.reason or ""),
            )
        console.print(table)
    for error in report.errors:
        console.print(f"{where} {error.line}: {escape(error.reason)}")
    held = report.count(DeliveryState.HELD)
    summary = (
        _("{name}: {rows} rows; would import {count} {kind}{held}, refused by policy {refused}, errors {errors}")
        if report.dry_run
        else _("{name}: {rows} rows; imported {count} {kind}{held}, refused by policy {refused}, errors {errors}")
    )
    held_note = _(" ({held} held for legal review)").format(held=held) if held else ""
    console.print(
        summary.format(
            name=file.name,
            rows=report.rows,
            count=report.count(DeliveryState.QUEUED) + held,
            kind=report.kind,
            held=held_note,
            refused=report.count(DeliveryState.REFUSED),
            errors=len(report.errors),
        )
    )


@precursors_app.command(
    "export",
    help=_("Write the notifications or incidents the officer may read, sent and received, in the import's columns."),
)
def precursors_export(
    data: DataOption,
    officer: OfficerOption,
    out: Annotated[Path, typer.Option("--out", help=_("the file to write"))],
    kind: KindOption = "notifications",
    format: FormatOption = None,
) -> None:
    from accord.focus.precursors.transfer import export_file

    chosen_kind, chosen_format = _choices(kind, format, out)
    if not out.parent.exists():
        stop(_("the folder {parent} does not exist").format(parent=out.parent), code=1)
    with node_as_officer(data, officer) as (node, reader):
        try:
            content, count = export_file(node, reader, chosen_kind, chosen_format)
        except AccordError as exc:
            stop(exc.detail, code=1)
    out.write_bytes(content)
    console.print(
        _("wrote {count} {chosen_kind} to {out} ({count2:,} bytes, {value})").format(
            count=count, chosen_kind=chosen_kind, out=out, count2=len(content), value=chosen_format.value
        )
    )

"""`accord network import|export|cases`: FollowTheMoney entities into a case from FtM JSON lines or a CSV through an
FtM mapping file; a case out as FtM JSON lines, GEXF or GraphML; the cases an officer may read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, errors, node_as_officer, progress_bar, stop
from accord.errors import AccordError
from accord.i18n import _

if TYPE_CHECKING:
    from accord.focus.networks.cases import ImportOutcome
    from accord.focus.networks.imports import SourcedRecord
    from accord.focus.networks.mappings import CsvMapping

network_app = typer.Typer(
    help=_("Organised-crime networks: import and export a case's FollowTheMoney entities; list cases."),
    no_args_is_help=True,
)

OfficerOption = Annotated[str, typer.Option("--officer", help=_("the username of the officer the command acts for"))]
CaseOption = Annotated[str, typer.Option("--case", help=_("the network case's id"))]

# Exit codes of `network import`: every entity stored; some refused (the valid ones stored); nothing attempted.
ALL_STORED, SOME_REFUSED, UNUSABLE = 0, 1, 2
ERRORS_PRINTED = 200


@network_app.command(
    "import",
    help=_(
        "Check every entity of the file and store the valid ones in the case (opened for "
        "the officer's agency if this node has none), in one transaction: each entity "
        "whole or not at all, a relation only with both its ends. Exits 0 when every "
        "entity is stored, 1 when some were refused (the others are stored all the "
        "same), 2 when nothing could be attempted (the file, the mapping, the case or "
        "the officer cannot be used)."
    ),
)
def network_import(
    file: Annotated[
        Path, typer.Argument(help=_("FtM JSON lines (or a JSON array of entities), or a CSV with --mapping"))
    ],
    data: DataOption,
    officer: OfficerOption,
    case: CaseOption,
    title: Annotated[str, typer.Option("--title", help=_("the title of a case this import opens"))] = "",
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help=_("an FtM mapping file (YAML) that makes entities of the CSV's rows")),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("check everything, store nothing"))] = False,
) -> None:
    from accord.focus.networks.cases import import_entities
    from accord.focus.networks.imports import open_source, read_csv, read_ftm

    csv_mapping = _mapping(mapping) if mapping is not None else None
    try:
        stream = open_source(file)
    except AccordError as exc:
        stop(exc.detail, UNUSABLE)
    source = f"import {file.name}" + (f" mapped by {mapping.name}" if mapping is not None else "")
    with (
        stream,
        node_as_officer(data, officer) as (node, importer),
        progress_bar(f"{'checking' if dry_run else 'importing'} {file.name}") as progress,
    ):
        records = read_csv(stream, csv_mapping) if csv_mapping is not None else read_ftm(stream)
        try:
            outcome = import_entities(
                node, importer, case, _counted(records, file, progress), title=title, source=source, dry_run=dry_run
            )
        except AccordError as exc:
            stop(f"{file.name}: {exc.detail}", UNUSABLE)
    row = "entity" if csv_mapping is None and _is_array(file) else "line"
    _print_import(outcome, file, case, row, "rows" if csv_mapping is not None else "entities")
    raise typer.Exit(code=ALL_STORED if outcome.plan.complete else SOME_REFUSED)


def _mapping(path: Path) -> CsvMapping:
    from accord.focus.networks.mappings import MAX_MAPPING_BYTES, parse_mapping

    try:
        if path.stat().st_size > MAX_MAPPING_BYTES:
            stop(
                _("{name} has more than the {MAX_MAPPING_BYTES:,} bytes a mapping file may have").format(
                    name=path.name, MAX_MAPPING_BYTES=MAX_MAPPING_BYTES
                ),
                UNUSABLE,
            )
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        stop(_("cannot read {path}: {strerror}").format(path=path, strerror=exc.strerror), UNUSABLE)
    except UnicodeDecodeError:
        stop(_("{name} is not UTF-8 text").format(name=path.name), UNUSABLE)
    try:
        return parse_mapping(text, path.stem)
    except AccordError as exc:
        stop(f"{path.name}: {exc.detail}", UNUSABLE)


def _counted(
    records: Iterable[SourcedRecord], file: Path, progress: Callable[[int, int], None]
) -> Iterator[SourcedRecord]:
    """The records, the progress bar told how far into the file they are (by rows; the total is the file's lines)."""
    total = max(1, sum(1 for _ in file.open("rb")))
    for done, record in enumerate(records, start=1):
        progress(min(done, total), total)
        yield record


def _is_array(file: Path) -> bool:
    with file.open("rb") as f:
        return f.read(256).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def _print_import(outcome: ImportOutcome, file: Path, case: str, row: str, unit: str) -> None:
    """Each refusal by its line (JSON lines, CSV) or position (a JSON array), then what was done."""
    plan = outcome.plan
    for error in plan.errors[:ERRORS_PRINTED]:
        named = f" ({escape(error.entity_id)})" if error.entity_id else ""
        console.print(f"{row} {error.row}{named}: {escape(error.reason)}")
    if len(plan.errors) > ERRORS_PRINTED:
        console.print(_("… and {value:,} more refusals").format(value=len(plan.errors) - ERRORS_PRINTED))
    opened_case = outcome.case_created and (outcome.dry_run or plan.entities)
    opened = f"; case {case} {'would be' if outcome.dry_run else 'was'} opened" if opened_case else ""
    verb = "would store" if outcome.dry_run else "stored"
    nothing = " (dry run: nothing stored)" if outcome.dry_run else ""
    console.print(
        _(
            "{name} → case {case}: {rows:,} {unit} read; {verb} {count:,} entities ({new:,} new, "
            "{merged:,} merged into held ones); refused {count2:,}{opened}{nothing}"
        ).format(
            name=file.name,
            case=case,
            rows=plan.rows,
            unit=unit,
            verb=verb,
            count=len(plan.entities),
            new=outcome.new,
            merged=outcome.merged,
            count2=len(plan.errors),
            opened=opened,
            nothing=nothing,
        )
    )
    if not plan.entities and not outcome.dry_run and outcome.case_created:
        errors.print(
            _("[yellow]note:[/] nothing was stored, so case {escape} was not opened").format(escape=escape(case))
        )


@network_app.command(
    "export",
    help=_(
        "Write the case's entities as FtM JSON lines, or its graph as GEXF or GraphML "
        "(nodes labelled, with their schema and the parties they came from; edges "
        "labelled)."
    ),
)
def network_export(
    data: DataOption,
    officer: OfficerOption,
    case: CaseOption,
    out: Annotated[Path, typer.Option("--out", help=_("the file to write"))],
    form: Annotated[
        str, typer.Option("--format", help=_("ftm (JSON lines), gexf (Gephi) or graphml (yEd, i2)"))
    ] = "ftm",
) -> None:
    from accord.focus.networks.cases import export_case
    from accord.focus.networks.exports import ExportFormat

    try:
        chosen = ExportFormat(form.lower())
    except ValueError:
        stop(
            _("unknown format {form!r}; the formats are {join}").format(
                form=form, join=", ".join(f.value for f in ExportFormat)
            )
        )
    if not out.parent.exists():
        stop(_("the folder {parent} does not exist").format(parent=out.parent))
    with node_as_officer(data, officer, code=1) as (node, reader):
        try:
            document = export_case(node, reader, case, chosen)
        except AccordError as exc:
            stop(exc.detail)
    try:
        out.write_bytes(document)
    except OSError as exc:
        stop(_("cannot write {out}: {strerror}").format(out=out, strerror=exc.strerror))
    console.print(
        _("case {case} → {out} ({value}, {count:,} bytes)").format(
            case=case, out=out, value=chosen.value, count=len(document)
        )
    )


@network_app.command("cases", help=_("The network cases the officer may read, newest first, with their entity counts."))
def network_cases(data: DataOption, officer: OfficerOption) -> None:
    from accord.focus.networks.cases import case_summaries

    with node_as_officer(data, officer, code=1) as (node, reader):
        summaries = case_summaries(node, reader)
    if not summaries:
        console.print(_("no network case {officer} may read").format(officer=officer))
        return
    table = Table(_("case"), _("title"), _("agency"), _("party"), _("handling"), _("entities"), _("opened"))
    for summary in summaries:
        handling = f"{summary.level}, TLP:{summary.tlp.upper()}" + "".join(f", {c}" for c in summary.caveats)
        table.add_row(
            escape(summary.case_id),
            escape(summary.title),
            summary.owner_agency,
            summary.origin_party,
            handling,
            f"{summary.entities:,}",
            f"{summary.created_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)

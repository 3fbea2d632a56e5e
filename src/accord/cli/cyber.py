"""`accord cyber misp-to-stix|stix-to-misp`: a MISP event to a STIX 2.1 bundle and back, through misp-stix.
`accord cyber import`: a STIX bundle or JSON Lines file, streamed into a TAXII collection in batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from accord.cli._console import DataOption, console, errors, node_as_officer, progress_bar, stop
from accord.errors import AccordError
from accord.i18n import _

if TYPE_CHECKING:
    from accord.focus.cyber.bulk import ImportReport
    from accord.focus.cyber.collections import Collection
    from accord.focus.cyber.misp import Conversion

cyber_app = typer.Typer(
    help=_("Cyber: MISP events to STIX 2.1 bundles and back; bulk import into TAXII collections."), no_args_is_help=True
)

OutOption = Annotated[Path, typer.Option("--out", help=_("the file to write"))]


@cyber_app.command(
    "misp-to-stix",
    help=_("Write the STIX 2.1 bundle of a MISP event: its organisation as an identity, TLP 2.0 markings."),
)
def misp_to_stix(
    event_file: Annotated[Path, typer.Argument(help=_("a MISP event as MISP exports it (JSON)"))],
    out: OutOption,
) -> None:
    from accord.focus.cyber.misp import convert_misp_event

    conversion = _convert(event_file, out, "MISP event", convert_misp_event)
    console.print(
        _(
            "{name}: {attributes} attributes and {objects} MISP objects → {stix_objects} STIX objects in {out}; {tlp}"
        ).format(
            name=event_file.name,
            attributes=conversion.attributes,
            objects=conversion.objects,
            stix_objects=conversion.stix_objects,
            out=out,
            tlp=_tlp(conversion),
        )
    )


@cyber_app.command(
    "stix-to-misp", help=_("Write the MISP event of a STIX 2.1 bundle, TLP markings as tlp: tags, for MISP to import.")
)
def stix_to_misp(
    bundle_file: Annotated[Path, typer.Argument(help=_("a STIX 2.1 bundle (JSON)"))],
    out: OutOption,
) -> None:
    from accord.focus.cyber.misp import convert_stix_bundle

    conversion = _convert(bundle_file, out, "STIX bundle", convert_stix_bundle)
    console.print(
        _(
            "{name}: {stix_objects} STIX objects → a MISP event with {attributes} attributes and "
            "{objects} objects in {out}; {tlp}"
        ).format(
            name=bundle_file.name,
            stix_objects=conversion.stix_objects,
            attributes=conversion.attributes,
            objects=conversion.objects,
            out=out,
            tlp=_tlp(conversion),
        )
    )


def _convert(source: Path, out: Path, what: str, convert: Callable[[Any], Conversion]) -> Conversion:
    from accord.focus.cyber.misp import MAX_DOCUMENT_BYTES, read_json

    if not out.parent.exists():
        stop(_("the folder {parent} does not exist").format(parent=out.parent))
    try:
        if source.stat().st_size > MAX_DOCUMENT_BYTES:
            stop(
                _("{source} has {st_size:,} bytes; at most {MAX_DOCUMENT_BYTES:,} are converted at once").format(
                    source=source, st_size=source.stat().st_size, MAX_DOCUMENT_BYTES=MAX_DOCUMENT_BYTES
                )
            )
        content = source.read_bytes()
    except OSError as exc:
        stop(_("cannot read {source}: {strerror}").format(source=source, strerror=exc.strerror))
    with progress_bar(f"converting {source.name}") as progress:
        try:
            conversion = convert(read_json(content, what))
        except AccordError as exc:
            stop(f"{source.name}: {exc.detail}")
        progress(1, 1)
    for note in conversion.notes:
        errors.print(_("[yellow]note:[/] {escape}").format(escape=escape(note)))
    try:
        out.write_text(json.dumps(conversion.document, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        stop(_("cannot write {out}: {strerror}").format(out=out, strerror=exc.strerror))
    return conversion


def _tlp(conversion: Conversion) -> str:
    return f"TLP:{conversion.tlp.value}" if conversion.tlp is not None else "no TLP marking"


# ---- accord cyber import

# Exit codes of `cyber import`: every object stored (or held already); some not; nothing attempted.
ALL_STORED, SOME_NOT_STORED, UNUSABLE = 0, 1, 2


@cyber_app.command(
    "import",
    help=_(
        "Check and store every object of the file in the collection, streaming it in "
        "batches (each its own transaction); objects added to a to_partner collection "
        "are shared in messages of at most 1,000 objects. Exits 0 when every object is "
        "stored or held already, 1 when some were not (the others are stored all the "
        "same), 2 when nothing could be attempted (the file, the collection or the "
        "officer cannot be used)."
    ),
)
def cyber_import(
    file: Annotated[Path, typer.Argument(help=_("a STIX 2.1 bundle (JSON) or JSON Lines, one STIX object a line"))],
    data: DataOption,
    officer: Annotated[str, typer.Option("--officer", help=_("the username of the officer the objects are added as"))],
    collection: Annotated[str, typer.Option("--collection", help=_("the TAXII collection's alias or id"))],
    batch: Annotated[int, typer.Option("--batch", min=1, max=10_000, help=_("objects per transaction"))] = 500,
) -> None:
    from accord.focus.cyber.bulk import UnreadableStixFile, import_objects

    chosen = _collection_named(collection)
    try:
        stream = file.open("rb")
        size = file.stat().st_size
    except OSError as exc:
        stop(_("cannot read {file}: {strerror}").format(file=file, strerror=exc.strerror), UNUSABLE)
    with stream, node_as_officer(data, officer) as (node, importer):
        if not chosen.may_write(importer):
            stop(
                _("{officer} may not add objects to collection {alias}").format(officer=officer, alias=chosen.alias),
                UNUSABLE,
            )
        with progress_bar(f"importing {file.name}") as progress:
            try:
                report = import_objects(
                    node, importer, chosen, stream, total_bytes=size, batch_size=batch, progress=progress
                )
            except UnreadableStixFile as exc:
                stop(f"{file.name}: {exc.detail}", UNUSABLE)
            except AccordError as exc:
                stop(exc.detail, UNUSABLE)
    _print_import(report, file, chosen)
    raise typer.Exit(code=ALL_STORED if report.complete else SOME_NOT_STORED)


def _collection_named(name: str) -> Collection:
    from accord.focus.cyber.collections import load_collections

    catalogue = load_collections()
    found = catalogue.get(name) or next((c for c in catalogue.collections if c.alias == name), None)
    if found is None:
        known = ", ".join(c.alias for c in catalogue.collections)
        stop(
            _("no collection {name!r} on this node; the collections are {known}").format(name=name, known=known),
            UNUSABLE,
        )
    return found


def _print_import(report: ImportReport, file: Path, collection: Collection) -> None:
    for failure in report.failures:
        console.print(
            _("object {value} ({escape}): {escape2}").format(
                value=failure.position + 1, escape=escape(failure.id), escape2=escape(failure.reason)
            )
        )
    if report.failed > len(report.failures):
        console.print(_("… and {value:,} more failures").format(value=report.failed - len(report.failures)))
    if report.stopped is not None:
        errors.print(
            _("[bold red]error:[/] {escape}: {escape2}; the objects before it are stored").format(
                escape=escape(file.name), escape2=escape(report.stopped)
            )
        )
    shared = f"; shared in {len(report.shares)} message(s)" if report.shares else ""
    console.print(
        _(
            "{name} → {alias}: {read:,} objects read; stored {stored:,}, already held {held:,}, "
            "failed {failed:,}{shared}"
        ).format(
            name=file.name,
            alias=collection.alias,
            read=report.read,
            stored=report.stored,
            held=report.held,
            failed=report.failed,
            shared=shared,
        )
    )

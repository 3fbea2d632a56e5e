"""`accord match`: link two person CSVs one to one (names across scripts and spellings, dates with their day/month
ambiguity, phones and documents; in the clear or, with --privacy-preserving, on keyed encodings only); the matching
keys operators agree; an agency's own holdings; hit/no-hit queries on encodings to the partner and their answers."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, errors, node_as_officer, progress_bar, stop
from accord.errors import AccordError
from accord.i18n import _

if TYPE_CHECKING:
    from accord.matching.encode import MatchingKey
    from accord.matching.link import Pair

match_app = typer.Typer(
    help=_("Fraud and immigration matching: keys, holdings, hit/no-hit queries, and linking person files."),
    no_args_is_help=True,
)
key_app = typer.Typer(
    help=_("Matching keys: agreed by the operators (generate, export; import on the other node); retire old ones."),
    no_args_is_help=True,
)
match_app.add_typer(key_app, name="key")
T = TypeVar("T")
OfficerOption = Annotated[str, typer.Option("--officer", help=_("the username of the officer the command acts for"))]
TypeOption = Annotated[
    str,
    typer.Option("--type", help=_("person, phone, account, wallet, admission_letter, consultant or document")),
]
# Exit codes: every record stored (or linked); some refused (the valid ones stored); nothing attempted.
ALL_STORED, SOME_REFUSED, UNUSABLE = 0, 1, 2
ERRORS_PRINTED = 200


@match_app.command(
    "link",
    help=_(
        "Write the pairs of records judged to be the same person, each record in one "
        "pair at most, best first. Exits 0 on success, 2 when an input cannot be used "
        "(each unusable row is printed with its line)."
    ),
)
def match_link(
    left: Annotated[
        Path,
        typer.Argument(help=_("a person CSV: id,name[,date_of_birth,sex,nationality,document_number,phone]")),
    ],
    right: Annotated[Path, typer.Argument(help=_("the other person CSV, the same columns"))],
    out: Annotated[Path, typer.Option("--out", help=_("the CSV of pairs to write: left_id,right_id,score"))],
    privacy_preserving: Annotated[
        bool,
        typer.Option("--privacy-preserving", help=_("encode both sides with a key and compare the encodings only")),
    ] = False,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help=_(
                "the matching key: a key file `accord match key export` wrote (.json), or a line "
                "'KEY_ID:HEX_SECRET'; a fresh one per run if none"
            ),
        ),
    ] = None,
) -> None:
    from accord.matching.link import link_people
    from accord.matching.records import read_people_csv

    if key_file is not None and not privacy_preserving:
        stop(_("--key-file goes with --privacy-preserving"), UNUSABLE)
    if not out.parent.exists():
        stop(_("the folder {parent} does not exist").format(parent=out.parent), UNUSABLE)
    key = _key(key_file) if privacy_preserving else None
    sides = []
    for path in (left, right):
        if not path.is_file():
            stop(_("{path} is not a file").format(path=path), UNUSABLE)
        try:
            sides.append(read_people_csv(path))
        except AccordError as exc:
            _print_errors(exc.detail)
            stop(_("{name} cannot be used; nothing was written").format(name=path.name), UNUSABLE)
    with progress_bar("matching") as bar:

        def progress(stage: str, done: int, total: int) -> None:
            bar(done, total)

        try:
            pairs = link_people(sides[0], sides[1], key=key, progress=progress)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    _write_atomically(out, pairs)
    errors.print(
        _("{count:,} pairs of {count2:,} × {count3:,} records written to {out}").format(
            count=len(pairs), count2=len(sides[0]), count3=len(sides[1]), out=out
        )
    )


def _print_errors(detail: str) -> None:
    head, _sep, rest = detail.partition(": ")
    for part in rest.split("; ") if rest.startswith("line ") else [detail]:
        errors.print(f"{head}: {part}" if rest.startswith("line ") else part, markup=False)


def _key(path: Path | None) -> MatchingKey:
    from accord.matching.encode import MatchingKey

    if path is None:
        return MatchingKey.generate("run")
    if path.suffix == ".json":  # a key file as `accord match key export` writes it
        from accord.matching.keys import read_key_file

        try:
            return read_key_file(path)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        stop(_("cannot read the key file {path}: {exc}").format(path=path, exc=exc), UNUSABLE)
    key_id, _sep, secret = text.partition(":")
    try:
        return MatchingKey(key_id, bytes.fromhex(secret))
    except ValueError:
        stop(
            _("the key file {path} is not 'KEY_ID:HEX_SECRET' (the secret in hexadecimal)").format(path=path), UNUSABLE
        )
    except AccordError as exc:
        stop(exc.detail, UNUSABLE)


def _write_atomically(out: Path, pairs: list[Pair]) -> None:
    """The pairs to a file beside `out`, renamed over it once complete: never half a file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(["left_id", "right_id", "score"])
            writer.writerows([p.left_id, p.right_id, f"{p.score:.6f}"] for p in pairs)
        os.replace(temporary, out)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        stop(_("cannot write {out}: {strerror}").format(out=out, strerror=exc.strerror), UNUSABLE)


def _or_stop(action: Callable[..., T], *args: object) -> T:
    """The action's result; its refusal printed as an error, exit code 1."""
    try:
        return action(*args)
    except AccordError as exc:
        stop(exc.detail)


@key_app.command(
    "generate", help=_("Make a new random matching key on this node (mode 600); export it for the partner's operator.")
)
def key_generate(
    data: DataOption, key_id: Annotated[str, typer.Argument(help=_("the key's id, e.g. 2026-12"))]
) -> None:
    from accord.matching.keys import generate_key

    info = _or_stop(generate_key, data, key_id)
    console.print(
        _("matching key {escape} made; `accord match key export {escape}` for the partner").format(
            escape=escape(info.key_id)
        )
    )


@key_app.command(
    "export",
    help=_("Write the key to a file for the partner's operator to import; never send it by the exchange or e-mail."),
)
def key_export(
    data: DataOption,
    key_id: Annotated[str, typer.Argument(help=_("the key's id"))],
    out: Annotated[Path, typer.Option("--out", help=_("the file to write (mode 600; carry it by hand)"))],
) -> None:
    from accord.matching.keys import export_key

    _or_stop(export_key, data, key_id, out)
    console.print(
        _("matching key {escape} written to {escape2} (mode 600)").format(
            escape=escape(key_id), escape2=escape(str(out))
        )
    )


@key_app.command(
    "import",
    help=_("Take the key the partner's operator exported; a different key under an id held already is refused."),
)
def key_import(
    data: DataOption, file: Annotated[Path, typer.Argument(help=_("the file the partner exported"))]
) -> None:
    from accord.matching.keys import import_key

    info = _or_stop(import_key, data, file)
    console.print(
        _("matching key {escape} held; delete {escape2} once both nodes hold it").format(
            escape=escape(info.key_id), escape2=escape(str(file))
        )
    )


@key_app.command(
    "retire", help=_("Stop using a key: no query is encoded with it, and queries encoded with it are refused.")
)
def key_retire(data: DataOption, key_id: Annotated[str, typer.Argument(help=_("the key's id"))]) -> None:
    from accord.matching.keys import retire_key

    info = _or_stop(retire_key, data, key_id)
    console.print(_("matching key {escape} retired").format(escape=escape(info.key_id)))


@key_app.command("list", help=_("The keys this node holds (their ids and dates; never the secrets)."))
def key_list(data: DataOption) -> None:
    from accord.matching.keys import list_keys

    table = Table(_("key"), _("created"), _("retired"))
    for info in list_keys(data):
        table.add_row(
            info.key_id, f"{info.created_at:%Y-%m-%d %H:%M}", f"{info.retired_at:%Y-%m-%d}" if info.retired_at else ""
        )
    console.print(table)


@match_app.command(
    "import",
    help=_(
        "Import records into the agency's own holdings: every row checked, each refusal "
        "printed with its line. Exits 0 when every record is stored, 1 when some were "
        "refused (the valid ones are stored all the same), 2 when nothing could be "
        "attempted (the file, the type, the date or the officer cannot be used)."
    ),
)
def holdings_import(
    file: Annotated[
        Path, typer.Argument(help=_("a CSV with a header (id and the type's fields), JSON array or lines"))
    ],
    data: DataOption,
    officer: OfficerOption,
    record_type: TypeOption,
    source: Annotated[str, typer.Option("--source", help=_("where the records come from"))] = "",
    retain_until: Annotated[
        str, typer.Option("--retain-until", help=_("kept until this date (YYYY-MM-DD); a row's own column wins"))
    ] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("check every row, store nothing"))] = False,
) -> None:
    from accord.matching.holdings import record_type as parse_type
    from accord.matching.imports import import_holdings, read_file, read_rows

    try:
        kind = parse_type(record_type)
        until = date.fromisoformat(retain_until) if retain_until else None
        rows = read_rows(read_file(file), file.name)
    except ValueError:
        stop(
            _("--retain-until {retain_until!r} is not a date (YYYY-MM-DD)").format(retain_until=retain_until), UNUSABLE
        )
    except AccordError as exc:
        stop(exc.detail, UNUSABLE)
    with (
        node_as_officer(data, officer) as (node, importer),
        progress_bar(f"{'checking' if dry_run else 'importing'} {file.name}") as progress,
    ):
        try:
            done = import_holdings(
                node,
                importer,
                kind,
                rows,
                source=source or None,
                retain_until=until,
                dry_run=dry_run,
                progress=progress,
            )
        except AccordError as exc:
            stop(f"{file.name}: {exc.detail}", UNUSABLE)
    for refusal in done.refused[:ERRORS_PRINTED]:
        named = f" ({escape(refusal.label)})" if refusal.label else ""
        console.print(
            _("line {line}{named}: {escape}").format(line=refusal.line, named=named, escape=escape(refusal.reason))
        )
    if len(done.refused) > ERRORS_PRINTED:
        console.print(_("… and {value:,} more refusals").format(value=len(done.refused) - ERRORS_PRINTED))
    summary = (
        _("{name}: {rows:,} {kind} records read; would store {stored:,}; refused {refused:,} (dry run: nothing stored)")
        if dry_run
        else _("{name}: {rows:,} {kind} records read; stored {stored:,}; refused {refused:,}")
    )
    console.print(
        summary.format(name=file.name, rows=done.rows, kind=kind.value, stored=done.stored, refused=len(done.refused))
    )
    raise typer.Exit(code=ALL_STORED if not done.refused else (SOME_REFUSED if done.stored else UNUSABLE))


@match_app.command(
    "query",
    help=_(
        "Encode the records with the matching key and send only the encodings; `accord "
        "match results` shows the answer. Nothing is sent if any record cannot be "
        "queried (each is printed with its line)."
    ),
)
def holdings_query(
    file: Annotated[Path, typer.Argument(help=_("the records to query: CSV with a header, or JSON"))],
    data: DataOption,
    officer: OfficerOption,
    to: Annotated[str, typer.Option("--to", help=_("the partner's agency queried, e.g. BOI"))],
    focus_area: Annotated[str, typer.Option("--focus-area", help=_("fraud or immigration"))],
    record_type: TypeOption = "person",
) -> None:
    from accord.matching.hitnohit import BatchRefused, check_rows, send_query
    from accord.matching.holdings import record_type as parse_type
    from accord.matching.imports import read_file, read_rows

    try:
        rows = check_rows(parse_type(record_type), read_rows(read_file(file), file.name))
    except BatchRefused as exc:
        for line, reason in exc.errors[:ERRORS_PRINTED]:
            console.print(_("line {line}: {escape}").format(line=line, escape=escape(reason)))
        stop(exc.detail, UNUSABLE)
    except AccordError as exc:
        stop(exc.detail, UNUSABLE)
    with node_as_officer(data, officer) as (node, querier):
        try:
            sent = send_query(node, querier, rows, queried_agency=to, focus_area=focus_area)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    console.print(
        _("query {query_id}: {size} records encoded with key {key_id}, sent to {to}").format(
            query_id=sent["query_id"], size=sent["size"], key_id=sent["key_id"], to=to
        )
    )


@match_app.command("results", help=_("A query's answer: each record, hit (score band, reference) or no hit."))
def holdings_results(
    query_id: Annotated[str, typer.Argument(help=_("the query's id"))], data: DataOption, officer: OfficerOption
) -> None:
    from accord.matching.hitnohit import query_view

    with node_as_officer(data, officer) as (node, reader):
        try:
            view = query_view(node, reader, query_id)
        except AccordError as exc:
            stop(exc.detail)
    table = Table(_("row"), _("id"), _("answer"), _("band"), _("reference"))
    for row in view["rows"]:
        answer = "—" if row["hit"] is None else ("hit" if row["hit"] else "no hit")
        table.add_row(str(row["row"]), escape(row["id"]), answer, row["band"] or "", row["reference"] or "")
    console.print(table)
    console.print(
        _("query {query_id}: {state}; {value} hits of {size}").format(
            query_id=query_id,
            state=view["state"],
            value=view["hits"] if view["hits"] is not None else "?",
            size=view["size"],
        )
    )

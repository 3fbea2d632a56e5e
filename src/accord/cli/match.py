"""`accord match link`: two person CSVs linked one to one — names across scripts and spellings, dates with their
day/month ambiguity, phones and documents — in the clear or, with --privacy-preserving, on keyed encodings only."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli._console import errors, progress_bar, stop
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.matching.encode import MatchingKey
    from accord.matching.link import Pair

match_app = typer.Typer(
    help="Fraud and immigration matching: keys, holdings, hit/no-hit queries, and linking person files.",
    no_args_is_help=True,
)

UNUSABLE = 2


@match_app.command("link")
def match_link(
    left: Annotated[
        Path,
        typer.Argument(help="a person CSV: id,name[,date_of_birth,sex,nationality,document_number,phone]"),
    ],
    right: Annotated[Path, typer.Argument(help="the other person CSV, the same columns")],
    out: Annotated[Path, typer.Option("--out", help="the CSV of pairs to write: left_id,right_id,score")],
    privacy_preserving: Annotated[
        bool, typer.Option("--privacy-preserving", help="encode both sides with a key and compare the encodings only")
    ] = False,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="the matching key: a key file `accord match key export` wrote (.json), or a line 'KEY_ID:HEX_SECRET'; "
            "a fresh one per run if none",
        ),
    ] = None,
) -> None:
    """Write the pairs of records judged to be the same person, each record in one pair at most, best first.

    Exits 0 on success, 2 when an input cannot be used (each unusable row is printed with its line)."""
    from accord.matching.link import link_people
    from accord.matching.records import read_people_csv

    if key_file is not None and not privacy_preserving:
        stop("--key-file goes with --privacy-preserving", UNUSABLE)
    if not out.parent.exists():
        stop(f"the folder {out.parent} does not exist", UNUSABLE)
    key = _key(key_file) if privacy_preserving else None
    sides = []
    for path in (left, right):
        if not path.is_file():
            stop(f"{path} is not a file", UNUSABLE)
        try:
            sides.append(read_people_csv(path))
        except AccordError as exc:
            _print_errors(exc.detail)
            stop(f"{path.name} cannot be used; nothing was written", UNUSABLE)
    with progress_bar("matching") as bar:

        def progress(stage: str, done: int, total: int) -> None:
            bar(done, total)

        try:
            pairs = link_people(sides[0], sides[1], key=key, progress=progress)
        except AccordError as exc:
            stop(exc.detail, UNUSABLE)
    _write_atomically(out, pairs)
    errors.print(f"{len(pairs):,} pairs of {len(sides[0]):,} × {len(sides[1]):,} records written to {out}")


def _print_errors(detail: str) -> None:
    head, _, rest = detail.partition(": ")
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
        stop(f"cannot read the key file {path}: {exc}", UNUSABLE)
    key_id, _, secret = text.partition(":")
    try:
        return MatchingKey(key_id, bytes.fromhex(secret))
    except ValueError:
        stop(f"the key file {path} is not 'KEY_ID:HEX_SECRET' (the secret in hexadecimal)", UNUSABLE)
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
        stop(f"cannot write {out}: {exc.strerror}", UNUSABLE)

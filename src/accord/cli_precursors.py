"""`accord substances find`: look up a controlled substance by name, synonym, CAS number or HS code."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from accord.errors import AccordError

substances_app = typer.Typer(help="Controlled substances of the 1988 Convention and each party's schedule.")
console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)


@substances_app.command("find")
def find(
    query: Annotated[str, typer.Argument(help="a name (misspellings are matched), synonym, CAS or HS code")],
) -> None:
    """Print the substances that match, with their table, CAS, HS code and national classes."""
    from accord.focus.precursors.substances import load_substances

    listed = load_substances()
    try:
        matches = listed.find(query)
    except AccordError as exc:
        errors.print(f"[bold red]error:[/] {escape(exc.detail)}")
        raise typer.Exit(code=1) from exc
    if not matches:
        errors.print(f"[bold red]error:[/] nothing in Tables I/II matches {escape(query)!r}")
        raise typer.Exit(code=1)
    table = Table("substance", "table", "CAS", "HS", "matched", "Canada", "India")
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
    console.print("[dim]? = class by the working rule, not yet confirmed against the national instrument[/]")

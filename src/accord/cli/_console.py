"""What the `accord` commands share: results on stdout, messages and progress bars on stderr, one way to stop with an
error and an exit code, and a node opened from its data directory, alone or to act as one of its officers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord.domain.parties import Party
from accord.i18n import _

if TYPE_CHECKING:
    from accord.directory.officers import Officer
    from accord.node import Node

# Piped or captured output is read by programs and log files: tables there keep their full width (a terminal's own
# width applies only to a terminal).
PIPED_WIDTH = 200
console = Console(soft_wrap=True, highlight=False, width=None if sys.stdout.isatty() else PIPED_WIDTH)
errors = Console(stderr=True, soft_wrap=True, highlight=False, width=None if sys.stderr.isatty() else PIPED_WIDTH)

DataOption = Annotated[Path, typer.Option("--data", help=_("the node's data directory"))]


def stop(message: str, code: int = 1) -> NoReturn:
    """Print `message` as an error on stderr and end the command with exit code `code`."""
    errors.print(_("[bold red]error:[/] {escape}").format(escape=escape(message)))
    # SystemExit rather than typer.Exit: `main` stops with it too, after Typer has returned, where only SystemExit
    # sets the exit code. Inside a command both end the same way.
    raise SystemExit(code)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (none when stderr is not a terminal), fed (done, total) by the long-running call."""
    columns = (TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


@contextmanager
def opened_node(data: Path, code: int = 1) -> Iterator[Node]:
    """The node in `data`, closed afterwards. Stops with exit code `code` when it cannot be opened."""
    from accord.bootstrap import open_node
    from accord.config import load_settings
    from accord.errors import AccordError

    try:
        node = open_node(load_settings(data))
    except AccordError as exc:
        stop(exc.detail, code)
    try:
        yield node
    finally:
        node.close()


@contextmanager
def node_as_officer(data: Path, username: str, code: int = 2) -> Iterator[tuple[Node, Officer]]:
    """The node in `data`, and its active officer `username`: the operator acts for them, as with `officer add`.
    Stops with exit code `code` when either cannot be had."""
    from accord.directory.officers import officer_by_username

    with opened_node(data, code) as node:
        with node.engine.connect() as conn:
            officer = officer_by_username(conn, username)
        if officer is None:
            stop(
                _("no active officer {username!r} on node {node_id}; see `accord officer add`").format(
                    username=username, node_id=node.node_id
                ),
                code,
            )
        yield node, officer


def parse_party(value: str) -> Party:
    """The party named `value` (in any case); stops when there is none."""
    try:
        return Party(value.upper())
    except ValueError:
        stop(
            _("unknown party {value!r}; the parties are {join}").format(
                value=value, join=", ".join(p.value for p in Party)
            )
        )

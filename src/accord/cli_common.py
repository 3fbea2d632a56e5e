"""What the `accord` commands share: results on stdout, messages and progress bars on stderr, a clean stop with an
exit code, and a node opened from its data directory to act as one of its officers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from accord.directory.officers import Officer
    from accord.node import Node

console = Console(soft_wrap=True, highlight=False)
errors = Console(stderr=True, soft_wrap=True, highlight=False)


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (none when stderr is not a terminal), fed (done, total) by the long-running call."""
    columns = (TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def stop(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=code)


@contextmanager
def node_as_officer(data: Path, username: str, code: int = 2) -> Iterator[tuple[Node, Officer]]:
    """The node in `data`, and its active officer `username`: the operator acts for them, as with `officer add`.
    Stops with exit code `code` when either cannot be had."""
    from accord.bootstrap import open_node
    from accord.config import load_settings
    from accord.directory.officers import officer_by_username
    from accord.errors import AccordError

    try:
        node = open_node(load_settings(data))
    except AccordError as exc:
        stop(exc.detail, code)
    try:
        with node.engine.connect() as conn:
            officer = officer_by_username(conn, username)
        if officer is None:
            stop(f"no active officer {username!r} on node {node.node_id}; see `accord officer add`", code)
        yield node, officer
    finally:
        node.close()

"""The `accord` command: set up and run nodes, pin peers, manage officers, start the two-party sandbox.

One module per command group; `app` assembles them and `main` runs it."""

from __future__ import annotations

import typer

from accord.cli._console import stop
from accord.cli.assessment import assessment_app
from accord.cli.audit import audit_app
from accord.cli.case import case_app
from accord.cli.cyber import cyber_app
from accord.cli.forwarding import forward_app
from accord.cli.keys import keys_app
from accord.cli.match import match_app
from accord.cli.network import network_app
from accord.cli.node import node_app
from accord.cli.officer import officer_app
from accord.cli.peer import peer_app
from accord.cli.policy import policy_app
from accord.cli.precursors import precursors_app, substances_app
from accord.cli.review import review_app
from accord.cli.sandbox import sandbox_app, up
from accord.cli.workplan import report, workplan_app
from accord.errors import AccordError
from accord.i18n import _

__all__ = ["app", "main"]

app = typer.Typer(help=_("Accord: each party's node for the signed, encrypted, lawful exchange."), no_args_is_help=True)
app.add_typer(node_app, name="node")
app.add_typer(peer_app, name="peer")
app.add_typer(keys_app, name="keys")
app.add_typer(officer_app, name="officer")
app.add_typer(audit_app, name="audit")
app.add_typer(case_app, name="case")
app.add_typer(policy_app, name="policy")
app.add_typer(assessment_app, name="assessment")
app.add_typer(review_app, name="review")
app.add_typer(workplan_app, name="workplan")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(substances_app, name="substances")
app.add_typer(precursors_app, name="precursors")
app.add_typer(cyber_app, name="cyber")
app.add_typer(forward_app, name="forward")
app.add_typer(network_app, name="network")
app.add_typer(match_app, name="match")
app.command(
    "report",
    help=_("Write the joint progress report for a period: plan, indicators, charts, overdue items, checkpoints."),
)(report)
app.command(
    "up", help=_("Start the two-party sandbox: India on 127.0.0.1:8401, Canada on 127.0.0.1:8402. Ctrl-C stops both.")
)(up)


def main() -> None:
    """Run `accord`; an AccordError that no command turned into a message stops it here, with exit code 1."""
    try:
        app()
    except AccordError as exc:
        stop(exc.detail)

"""`accord audit`: export and verify the ledger's audit bundle, prove a message was recorded, checkpoint now, and list
ledger alarms. Every command exits 0 when all is well and 1 otherwise, so monitoring can run it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, errors, opened_node, progress_bar, stop
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.exchange.receipt_proofs import ProvenLeaf
    from accord.ledger.bundle import BundleSummary
    from accord.ledger.checkpoints import StoredCheckpoint

audit_app = typer.Typer(
    help="The tamper-evident ledger: audit bundles for oversight, message proofs, checkpoints and alarms.",
    no_args_is_help=True,
)

PROBLEMS_SHOWN = 50  # after the first problem; a badly damaged log can have one per leaf


def _print_keys(summary: BundleSummary) -> None:
    """Whole fingerprints on plain lines (a table would wrap or cut them), for comparison out of band."""
    console.print("signing keys (Ed25519, RFC 7638 fingerprints; compare them with each operator's out of band):")
    if summary.node is not None:
        console.print(f"  log   {summary.node.node_id} ({summary.node.party})  {summary.node.fingerprint}")
    for peer in summary.peers:
        console.print(f"  peer  {peer.node_id} ({peer.party})  {peer.fingerprint}")


@audit_app.command("export")
def audit_export(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="the bundle file to write (gzip-compressed if it ends in .gz)")],
) -> None:
    """Write this node's ledger, checkpoints and keys as one file an oversight body verifies offline."""
    from accord.exchange.audit import export_audit_bundle

    with opened_node(data) as node, progress_bar("exporting leaves") as report:
        try:
            summary = export_audit_bundle(node, out, report)
        except OSError as exc:
            stop(f"cannot write the bundle to {out}: {exc.strerror or exc}")
    console.print(
        f"[green]exported[/] {summary.leaves} leaves, {summary.checkpoints} checkpoints "
        f"({summary.countersigned} countersigned by the peer) and {summary.witnessed} of the peer's checkpoints "
        f"countersigned here to {escape(str(out))}"
    )
    _print_keys(summary)


@audit_app.command("verify")
def audit_verify(
    bundle: Annotated[Path, typer.Argument(help="the bundle file (.json or .json.gz)")],
    expect_fingerprint: Annotated[
        list[str] | None,
        typer.Option("--expect-fingerprint", help="a signing key fingerprint the bundle must carry (repeatable)"),
    ] = None,
) -> None:
    """Verify a bundle offline: no database, no network, only the file."""
    from accord.ledger.verify import verify_bundle

    with progress_bar("verifying leaves") as report:
        verdict = verify_bundle(bundle, report, expect_fingerprint or ())
    summary = verdict.summary
    if summary.node is not None:
        _print_keys(summary)
    for warning in verdict.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if verdict.ok:
        node = summary.node.node_id if summary.node else "the node"
        peers = ", ".join(p.node_id for p in summary.peers) or "no peer"
        console.print(
            f"[bold green]VERIFIED:[/] {summary.leaves} leaves, {summary.checkpoints} checkpoints, "
            f"{summary.countersigned} countersigned by {peers}; {summary.witnessed} of {peers}'s checkpoints "
            f"countersigned by {node}"
        )
        return
    errors.print(f"[bold red]FAILED:[/] {escape(verdict.problems[0])}")
    for problem in verdict.problems[1 : PROBLEMS_SHOWN + 1]:
        errors.print(f"  {escape(problem)}")
    if len(verdict.problems) > PROBLEMS_SHOWN + 1:
        errors.print(f"  … and {len(verdict.problems) - PROBLEMS_SHOWN - 1} more problems")
    raise typer.Exit(code=1)


@audit_app.command("prove")
def audit_prove(
    data: DataOption,
    message: Annotated[str, typer.Option("--message", help="the message id")],
) -> None:
    """Prove every ledger entry about a message against the latest countersigned checkpoint."""
    from accord.exchange.receipt_proofs import prove_message

    with opened_node(data) as node:
        try:
            proof = prove_message(node, message)
        except AccordError as exc:
            stop(exc.detail)
    for leaf in proof.leaves:
        _print_leaf(leaf)
    if proof.verified:
        console.print(f"[bold green]VERIFIED:[/] {len(proof.leaves)} ledger entries about message {message}")
        return
    reasons = [
        f"{leaf.log} leaf {leaf.index}: {leaf.note or 'its inclusion proof does not verify'}"
        for leaf in proof.leaves
        if not leaf.verified
    ]
    errors.print(f"[bold red]NOT VERIFIED:[/] {escape('; '.join(reasons) or f'no ledger entry names {message}')}")
    raise typer.Exit(code=1)


def _print_leaf(leaf: ProvenLeaf) -> None:
    verdict = "[green]VERIFIED[/]" if leaf.verified else "[red]NOT VERIFIED[/]"
    console.print(f"\n[bold]{leaf.log} log, leaf {leaf.index}[/]  {escape(leaf.event)}  {verdict}")
    console.print(f"  leaf hash  {leaf.leaf_hash.hex()}")
    console.print(f"  proof      {len(leaf.proof)} hashes, leaf-side first")
    for sibling in leaf.proof:
        console.print(f"             {sibling.hex()}")
    if leaf.checkpoint is not None:
        console.print(f"  checkpoint size {leaf.checkpoint.size}, signed and countersigned:")
        _print_note(leaf.checkpoint)
    if leaf.note:
        console.print(f"  note       {escape(leaf.note)}")


def _print_note(checkpoint: StoredCheckpoint) -> None:
    for line in checkpoint.signed.full_note.splitlines():
        console.print(f"    {escape(line)}")


@audit_app.command("checkpoint")
def audit_checkpoint(data: DataOption) -> None:
    """Sign a checkpoint now if the ledger grew, and ask the peer to countersign it."""
    from accord.exchange.audit import checkpoint_now

    with opened_node(data) as node:
        try:
            newest = checkpoint_now(node)
        except AccordError as exc:
            stop(exc.detail)
    if newest is None:
        stop("this node has issued no checkpoint")
    console.print(f"[bold]checkpoint size {newest.size}[/], issued {newest.issued_at:%Y-%m-%d %H:%M:%S} UTC")
    _print_note(newest)
    if newest.cosignature is None:
        stop(
            f"the peer has not countersigned checkpoint size {newest.size}; "
            "see `accord audit alarms` and the node's log, and retry"
        )
    console.print(
        f"[green]countersigned[/] by {escape(str(newest.cosigner))} at {newest.cosigned_at:%Y-%m-%d %H:%M:%S} UTC"
    )


@audit_app.command("alarms")
def audit_alarms(data: DataOption) -> None:
    """List ledger alarms (a rewritten, truncated or split peer log, a key that is not pinned); exit 1 if any."""
    from accord.exchange.audit import all_alarms

    with opened_node(data) as node:
        alarms = all_alarms(node)
    if not alarms:
        console.print("[green]no ledger alarms[/]")
        return
    table = Table(title=f"{len(alarms)} ledger alarms")
    for column in ("time (UTC)", "origin", "kind", "detail"):
        table.add_column(column, overflow="fold")
    for alarm in alarms:
        table.add_row(f"{alarm.at:%Y-%m-%d %H:%M:%S}", escape(alarm.origin), escape(alarm.kind), escape(alarm.detail))
    console.print(table)
    raise typer.Exit(code=1)

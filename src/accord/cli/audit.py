"""`accord audit`: export and verify the ledger's audit bundle (with the trust file and the peer's witnessed evidence
it is verified against), prove a message was recorded, checkpoint now, and list ledger alarms. Every command exits 0
when all is well and 1 otherwise, so monitoring can run it; `verify` also exits 2 when a file cannot be read and 3
when nothing is proven for want of a trust anchor."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from accord.cli._console import DataOption, console, errors, node_as_officer, opened_node, progress_bar, stop
from accord.errors import AccordError
from accord.i18n import _, ngettext
from accord.ledger.bundle import Outcome

if TYPE_CHECKING:
    from accord.exchange.receipt_proofs import ProvenLeaf
    from accord.ledger.bundle import BundleSummary, Verdict, WitnessedHead
    from accord.ledger.case_verify import CaseVerdict
    from accord.ledger.checkpoints import StoredCheckpoint

audit_app = typer.Typer(
    help=_("The tamper-evident ledger: audit bundles for oversight, message proofs, checkpoints and alarms."),
    no_args_is_help=True,
)

PROBLEMS_SHOWN = 50  # after the first problem; a badly damaged log can have one per leaf

# `accord audit verify`'s exit codes, one per outcome.
VERIFY_EXIT_CODES = {Outcome.VERIFIED: 0, Outcome.FAILED: 1, Outcome.UNREADABLE: 2, Outcome.NOT_PROVEN: 3}
EXIT_UNUSABLE = 2  # a trust file or witnessed evidence that cannot be read, or anchors that disagree


def _print_keys(summary: BundleSummary, verdict: Verdict | None = None) -> None:
    """Whole fingerprints on plain lines (a table would wrap or cut them), for comparison out of band; after a
    verification, whether each is one of the trusted keys."""
    console.print(_("signing keys (Ed25519, RFC 7638 fingerprints; compare them with each operator's out of band):"))
    keys = [("log ", summary.node)] if summary.node is not None else []
    for role, key in [*keys, *(("peer", peer) for peer in summary.peers)]:
        mark = ""
        if verdict is not None:
            mark = "  (no trust anchor given)"
            if verdict.anchors:
                mark = "  trusted" if verdict.trusts(key) else "  NOT TRUSTED"
                origin = verdict.rotated_from(key)
                if origin is not None:
                    mark = "  " + _("trusted: its rotation statements lead to it from {origin}").format(origin=origin)
        console.print(f"  {role}  {key.node_id} ({key.party})  {key.fingerprint}{mark}")


@audit_app.command(
    "export", help=_("Write this node's ledger, checkpoints and keys as one file an oversight body verifies offline.")
)
def audit_export(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help=_("the bundle file to write (gzip-compressed if it ends in .gz)"))],
) -> None:
    from accord.exchange.audit import export_audit_bundle

    with opened_node(data) as node, progress_bar("exporting leaves") as report:
        try:
            summary = export_audit_bundle(node, out, report)
        except OSError as exc:
            stop(_("cannot write the bundle to {out}: {value}").format(out=out, value=exc.strerror or exc))
    console.print(
        _(
            "[green]exported[/] {leaves} leaves, {checkpoints} checkpoints ({countersigned} "
            "countersigned by the peer) and {witnessed} of the peer's checkpoints countersigned here "
            "to {escape}"
        ).format(
            leaves=summary.leaves,
            checkpoints=summary.checkpoints,
            countersigned=summary.countersigned,
            witnessed=summary.witnessed,
            escape=escape(str(out)),
        )
    )
    _print_keys(summary)


@audit_app.command(
    "verify",
    help=_(
        "Verify a bundle offline: no database, no network, only the files given. "
        "Signatures count only under the keys given with --trust or "
        "--expect-fingerprint, never under a key that merely rides in the bundle. Exit "
        "codes: 0 verified; 1 problems found; 2 a file cannot be read, or the trust "
        "anchors disagree; 3 not proven (internally consistent, but no trust anchor was "
        "given)."
    ),
)
def audit_verify(
    bundle: Annotated[
        Path, typer.Argument(help=_("the bundle file (.json or .json.gz), or a case export (.json or .pdf)"))
    ],
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help=_("a trust file naming both nodes' keys, obtained out of band (repeatable)")),
    ] = None,
    expect_fingerprint: Annotated[
        list[str] | None,
        typer.Option(
            "--expect-fingerprint", help=_("a signing-key fingerprint to trust, obtained out of band (repeatable)")
        ),
    ] = None,
    witnessed: Annotated[
        list[Path] | None,
        typer.Option(
            "--witnessed",
            help=_(
                "the peer's evidence of this log's checkpoints it countersigned: the peer's own audit "
                "bundle, or a file from `accord audit witnessed` on the peer (repeatable)"
            ),
        ),
    ] = None,
    allow_uncovered_tail: Annotated[
        bool,
        typer.Option(
            "--allow-uncovered-tail",
            help=_(
                "warn about, rather than fail, leaves after the newest countersigned checkpoint (an "
                "operator's look at a live node)"
            ),
        ),
    ] = False,
) -> None:
    from accord.ledger.anchors import load_anchors
    from accord.ledger.case_verify import is_case_export, verify_case_export
    from accord.ledger.verify import read_witnessed, verify_bundle

    try:
        anchors = load_anchors(trust or (), expect_fingerprint or ())
        evidence = [read_witnessed(path) for path in witnessed or ()]
    except AccordError as exc:
        stop(exc.detail, EXIT_UNUSABLE)
    if is_case_export(bundle):
        case = verify_case_export(bundle, anchors=anchors, allow_uncovered_tail=allow_uncovered_tail)
        _print_case_verdict(case)
        if code := VERIFY_EXIT_CODES[case.verdict.outcome]:
            raise typer.Exit(code=code)
        return
    with progress_bar("verifying leaves") as report:
        verdict = verify_bundle(
            bundle, report, anchors=anchors, witnessed=evidence, allow_uncovered_tail=allow_uncovered_tail
        )
    _print_verdict(verdict)
    code = VERIFY_EXIT_CODES[verdict.outcome]
    if code:
        raise typer.Exit(code=code)


def _print_case_verdict(case: CaseVerdict) -> None:
    """A case export's verdict: the keys, then what is proven of the case, or its problems."""
    verdict, summary = case.verdict, case.verdict.summary
    if verdict.outcome is not Outcome.VERIFIED:
        _print_verdict(verdict)
        return
    _print_keys(summary, verdict)
    for warning in verdict.warnings:
        console.print(_("[yellow]warning:[/] {escape}").format(escape=escape(warning)))
    peers = ", ".join(f"{c.key.node_id} ({c.key.party})" for c in summary.countersigners)
    node = f"{summary.node.node_id} ({summary.node.party})" if summary.node else ""
    console.print(
        _(
            "[bold green]VERIFIED:[/] the case export of message {message} (case {case}): {messages} messages as "
            "{node} signed them, {proven} of {leaves} ledger leaves proven against checkpoint size {size} "
            "countersigned by {peers}, all under trusted keys"
        ).format(
            message=case.message_id,
            case=case.case_id,
            messages=case.messages,
            node=node,
            proven=summary.covered,
            leaves=summary.leaves,
            size=case.checkpoint_size,
            peers=peers,
        )
    )
    if case.unproven:
        console.print(
            ngettext(
                "[bold yellow]NOT PROVEN:[/] leaf {leaves} is under no checkpoint countersigned by the peer: "
                "nothing shows it was not rewritten or made up",
                "[bold yellow]NOT PROVEN:[/] leaves {leaves} are under no checkpoint countersigned by the peer: "
                "nothing shows they were not rewritten or made up",
                len(case.unproven),
            ).format(leaves=", ".join(map(str, case.unproven)))
        )
    console.print(
        _(
            "Not proven: that the export holds every message and event of the case. An officer's export leaves out "
            "what that officer may not read, and whoever holds the node's key could leave out more; only the node's "
            "audit bundle shows every leaf."
        )
    )


def _print_verdict(verdict: Verdict) -> None:
    summary = verdict.summary
    if verdict.outcome is Outcome.UNREADABLE:
        stop(verdict.problems[0], VERIFY_EXIT_CODES[Outcome.UNREADABLE])
    if summary.node is not None:
        _print_keys(summary, verdict)
    for countersigner in summary.countersigners:
        console.print(
            _("countersigned by {escape}: checkpoint sizes {join}").format(
                escape=escape(str(countersigner.key)), join=", ".join(str(size) for size in countersigner.sizes)
            )
        )
    if not verdict.problems:  # after a failure, an older witnessed head that matched would mislead
        _print_witnessed(summary.witnessed_heads)
    for warning in verdict.warnings:
        console.print(_("[yellow]warning:[/] {escape}").format(escape=escape(warning)))
    if verdict.outcome is Outcome.VERIFIED:
        node = f"{summary.node.node_id} ({summary.node.party})" if summary.node else "the node"
        peers = ", ".join(f"{c.key.node_id} ({c.key.party})" for c in summary.countersigners)
        covered = "all" if summary.covered == summary.leaves else f"{summary.covered} of them"
        console.print(
            _(
                "[bold green]VERIFIED:[/] {leaves} leaves, {covered} under checkpoint size {covered2} "
                "countersigned by {peers}; {checkpoints} checkpoints signed by {node}, {countersigned} "
                "of them countersigned, all under trusted keys; {witnessed} of the peer's checkpoints "
                "countersigned by {node}"
            ).format(
                leaves=summary.leaves,
                covered=covered,
                covered2=summary.covered,
                peers=peers,
                checkpoints=summary.checkpoints,
                node=node,
                countersigned=summary.countersigned,
                witnessed=summary.witnessed,
            )
        )
        return
    if verdict.outcome is Outcome.NOT_PROVEN:
        errors.print(
            _(
                "[bold yellow]NOT PROVEN:[/] the bundle is only internally consistent. No trust anchor "
                "was given, so its signatures were checked against the keys it carries itself, which the "
                "log's own operator could have made: nothing is proven against the log's operator. Give "
                "both nodes' signing-key fingerprints, obtained out of band: --trust FILE (from `accord "
                "audit trust-file`) or --expect-fingerprint FP."
            )
        )
        return
    errors.print(_("[bold red]FAILED:[/] {escape}").format(escape=escape(verdict.problems[0])))
    for problem in verdict.problems[1 : PROBLEMS_SHOWN + 1]:
        errors.print(f"  {escape(problem)}")
    if len(verdict.problems) > PROBLEMS_SHOWN + 1:
        errors.print(_("  … and {value} more problems").format(value=len(verdict.problems) - PROBLEMS_SHOWN - 1))


def _print_witnessed(heads: Sequence[WitnessedHead]) -> None:
    """The newest checkpoint of the log each witness countersigned, which the bundle's leaves reproduce."""
    newest: dict[str, WitnessedHead] = {}
    for head in heads:
        known = newest.get(head.witness.fingerprint)
        if known is None or head.size > known.size:
            newest[head.witness.fingerprint] = head
    for head in newest.values():
        console.print(
            _(
                "witnessed by {escape}: its countersigned checkpoint size {size} (root {hex}) is a head "
                "of this bundle's leaves"
            ).format(escape=escape(str(head.witness)), size=head.size, hex=head.root.hex())
        )


@audit_app.command(
    "trust-file",
    help=_(
        "Write a trust file: this node's signing key and its pinned peer's, with party "
        "and node id. An oversight body collects one from each node's operator out of "
        "band, checks that they agree, and keeps it to give `accord audit verify "
        "--trust`."
    ),
)
def audit_trust_file(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help=_("the trust file to write (JSON)"))],
) -> None:
    from accord.exchange.audit import export_trust_file

    with opened_node(data) as node:
        try:
            keys = export_trust_file(node, out)
        except OSError as exc:
            stop(_("cannot write the trust file to {out}: {value}").format(out=out, value=exc.strerror or exc))
    console.print(
        _("[green]wrote[/] {count} trusted signing keys to {escape}:").format(count=len(keys), escape=escape(str(out)))
    )
    for key in keys:
        console.print(f"  {key.node_id} ({key.party})  {key.fingerprint}")


@audit_app.command(
    "witnessed",
    help=_(
        "Write the newest checkpoint of the peer's log that this node countersigned, "
        "with its cosignature. Given to `accord audit verify --witnessed` with the "
        "peer's bundle, it shows whether that bundle was cut back to an earlier "
        "checkpoint or rewritten under one."
    ),
)
def audit_witnessed(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help=_("the file to write (gzip-compressed if it ends in .gz)"))],
    origin: Annotated[
        str | None,
        typer.Option("--origin", help=_("the peer's log, e.g. accord/ca-node-1 (by default, every pinned peer's)")),
    ] = None,
) -> None:
    from accord.exchange.audit import export_witnessed

    with opened_node(data) as node:
        try:
            heads = export_witnessed(node, out, origin)
        except AccordError as exc:
            stop(exc.detail)
        except OSError as exc:
            stop(_("cannot write the witnessed heads to {out}: {value}").format(out=out, value=exc.strerror or exc))
    for head in heads:
        console.print(
            _(
                "[green]wrote[/] checkpoint size {size} of {escape} (root {hex}), countersigned here at "
                "{cosigned_at:%Y-%m-%d %H:%M:%S} UTC, to {escape2}"
            ).format(
                size=head.size,
                escape=escape(head.origin),
                hex=head.root.hex(),
                cosigned_at=head.cosigned_at,
                escape2=escape(str(out)),
            )
        )


@audit_app.command(
    "prove", help=_("Prove every ledger entry about a message against the latest countersigned checkpoint.")
)
def audit_prove(
    data: DataOption,
    message: Annotated[str, typer.Option("--message", help=_("the message id"))],
) -> None:
    from accord.exchange.receipt_proofs import prove_message

    with opened_node(data) as node:
        try:
            proof = prove_message(node, message)
        except AccordError as exc:
            stop(exc.detail)
    for leaf in proof.leaves:
        _print_leaf(leaf)
    if proof.verified:
        console.print(
            _("[bold green]VERIFIED:[/] {count} ledger entries about message {message}").format(
                count=len(proof.leaves), message=message
            )
        )
        return
    reasons = [
        f"{leaf.log} leaf {leaf.index}: {leaf.note or 'its inclusion proof does not verify'}"
        for leaf in proof.leaves
        if not leaf.verified
    ]
    errors.print(
        _("[bold red]NOT VERIFIED:[/] {escape}").format(
            escape=escape("; ".join(reasons) or f"no ledger entry names {message}")
        )
    )
    raise typer.Exit(code=1)


def _print_leaf(leaf: ProvenLeaf) -> None:
    verdict = "[green]VERIFIED[/]" if leaf.verified else "[red]NOT VERIFIED[/]"
    console.print(
        _("\n[bold]{log} log, leaf {index}[/]  {escape}  {verdict}").format(
            log=leaf.log, index=leaf.index, escape=escape(leaf.event), verdict=verdict
        )
    )
    console.print(_("  leaf hash  {hex}").format(hex=leaf.leaf_hash.hex()))
    console.print(_("  proof      {count} hashes, leaf-side first").format(count=len(leaf.proof)))
    for sibling in leaf.proof:
        console.print(f"             {sibling.hex()}")
    if leaf.checkpoint is not None:
        console.print(_("  checkpoint size {size}, signed and countersigned:").format(size=leaf.checkpoint.size))
        _print_note(leaf.checkpoint)
    if leaf.note:
        console.print(_("  note       {escape}").format(escape=escape(leaf.note)))


def _print_note(checkpoint: StoredCheckpoint) -> None:
    for line in checkpoint.signed.full_note.splitlines():
        console.print(f"    {escape(line)}")


@audit_app.command(
    "checkpoint", help=_("Sign a checkpoint now if the ledger grew, and ask the peer to countersign it.")
)
def audit_checkpoint(data: DataOption) -> None:
    from accord.exchange.audit import checkpoint_now

    with opened_node(data) as node:
        try:
            newest = checkpoint_now(node)
        except AccordError as exc:
            stop(exc.detail)
    if newest is None:
        stop(_("this node has issued no checkpoint"))
    console.print(
        _("[bold]checkpoint size {size}[/], issued {issued_at:%Y-%m-%d %H:%M:%S} UTC").format(
            size=newest.size, issued_at=newest.issued_at
        )
    )
    _print_note(newest)
    if newest.cosignature is None:
        stop(
            _(
                "the peer has not countersigned checkpoint size {size}; see `accord audit alarms` and "
                "the node's log, and retry"
            ).format(size=newest.size)
        )
    console.print(
        _("[green]countersigned[/] by {escape} at {cosigned_at:%Y-%m-%d %H:%M:%S} UTC").format(
            escape=escape(str(newest.cosigner)), cosigned_at=newest.cosigned_at
        )
    )


@audit_app.command(
    "alarms",
    help=_(
        "List ledger alarms, the oldest first (a truncated, rewritten or split peer log, "
        "a sequence collision); exit 1 while any alarm is unacknowledged, whatever the "
        "filters show (see `accord audit ack`)."
    ),
)
def audit_alarms(
    data: DataOption,
    show_all: Annotated[bool, typer.Option("--all", help=_("acknowledged alarms too"))] = False,
    kind: Annotated[str | None, typer.Option("--kind", help=_("only alarms of this kind, e.g. split-view"))] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help=_("how many to show"))] = 50,
    after: Annotated[int | None, typer.Option("--after", min=0, help=_("the alarms after this id"))] = None,
) -> None:
    from accord.exchange.audit import alarms, unacknowledged_alarms
    from accord.ledger.alarms import AlarmFilter

    with opened_node(data) as node:
        page = alarms(node, AlarmFilter(kind=kind, acknowledged=None if show_all else False), after=after, limit=limit)
        unacknowledged = unacknowledged_alarms(node)
    if page.alarms:
        table = Table(title=f"ledger alarms ({unacknowledged} unacknowledged)")
        for column in ("id", "time (UTC)", "origin", "kind", "detail"):
            table.add_column(column, overflow="fold")
        for alarm in page.alarms:
            ack = alarm.acknowledgement
            detail = escape(alarm.detail)
            if ack is not None:
                detail += f"\n[green]acknowledged[/] {ack.at:%Y-%m-%d %H:%M} by {escape(ack.by)}: {escape(ack.note)}"
            table.add_row(str(alarm.id), f"{alarm.at:%Y-%m-%d %H:%M}", escape(alarm.origin), escape(alarm.kind), detail)
        console.print(table)
        if page.next_after is not None:
            console.print(_("more: --after {next_after}").format(next_after=page.next_after))
    elif unacknowledged == 0:
        console.print(_("[green]no ledger alarms to acknowledge[/]"))
    else:
        console.print(_("no ledger alarm matches"))
    if unacknowledged:
        raise typer.Exit(code=1)


@audit_app.command(
    "ack",
    help=_("Acknowledge a ledger alarm with a note: it stays listed (with --all) and leaves the unacknowledged count."),
)
def audit_ack(
    alarm_id: Annotated[int, typer.Argument(help=_("the alarm's id, as `accord audit alarms` lists it"))],
    data: DataOption,
    note: Annotated[str, typer.Option("--note", help=_("what was found or done"))],
    officer: Annotated[
        str | None, typer.Option("--officer", help=_("the operator acknowledging, by username (default: operator)"))
    ] = None,
) -> None:
    from accord.exchange.audit import acknowledge

    if officer is None:
        with opened_node(data) as node:
            try:
                alarm = acknowledge(node, alarm_id, note)
            except AccordError as exc:
                stop(exc.detail)
    else:
        with node_as_officer(data, officer, code=1) as (node, operator):
            try:
                alarm = acknowledge(node, alarm_id, note, operator)
            except AccordError as exc:
                stop(exc.detail)
    assert alarm.acknowledgement is not None
    console.print(
        _("[green]acknowledged[/] alarm {id} ({escape}) by {escape2}").format(
            id=alarm.id, escape=escape(alarm.kind), escape2=escape(alarm.acknowledgement.by)
        )
    )


@audit_app.command(
    "refusals",
    help=_(
        "Refused requests from callers who had not authenticated (failed sign-ins, "
        "federation requests no pinned peer signed), counted per window, way in, problem "
        "and source rather than logged in the ledger one by one; and the accounts failed "
        "sign-ins locked. Exit 1 while an account is locked (see `accord officer "
        "unlock`)."
    ),
)
def audit_refusals(
    data: DataOption,
    hours: Annotated[float, typer.Option("--hours", min=0, help=_("refusals of the last this many hours"))] = 24.0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help=_("how many counters to show"))] = 200,
) -> None:
    from datetime import UTC, datetime, timedelta

    from accord.directory.throttle import locked_accounts
    from accord.trust.refusals import list_refusal_counts

    with opened_node(data) as node:
        counts = list_refusal_counts(node, datetime.now(UTC) - timedelta(hours=hours), limit)
        locked = locked_accounts(node)
    if counts:
        window_s = node.settings.refusal_window_s
        table = Table(title=f"refused requests of the last {hours:g} hours (windows of {window_s} s)")
        for column in ("window (UTC)", "way in", "problem", "source", "refusals", "last (UTC)"):
            table.add_column(column, overflow="fold")
        for count in counts:
            table.add_row(
                f"{count.window_start:%Y-%m-%d %H:%M}",
                escape(count.endpoint),
                escape(count.problem),
                escape(count.source),
                str(count.refusals),
                f"{count.last_at:%Y-%m-%d %H:%M:%S}",
            )
        console.print(table)
    else:
        console.print(_("no refused requests in the last {hours:g} hours").format(hours=hours))
    for account in locked:
        console.print(
            _(
                "[bold red]locked[/] {escape} since {locked_at:%Y-%m-%d %H:%M} UTC after {failures} "
                "failed sign-ins: `accord officer unlock {escape} --data {data}`"
            ).format(escape=escape(account.username), locked_at=account.locked_at, failures=account.failures, data=data)
        )
    if locked:
        raise typer.Exit(code=1)

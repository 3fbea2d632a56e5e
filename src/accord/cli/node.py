"""`accord node`: set up this party's node, run it (or only its delivery workers), purge expired personal data, and
re-sequence a channel after a sequence collision."""

from __future__ import annotations

import os
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from accord.cli._console import DataOption, console, opened_node, parse_party, stop
from accord.config import load_settings, write_node_file
from accord.errors import AccordError
from accord.i18n import _

node_app = typer.Typer(help=_("Set up and run this party's node."), no_args_is_help=True)


@node_app.command(
    "init", help=_("Create keys and a migrated database (SQLite in DIR, or ACCORD_DATABASE_URL), all owner-only.")
)
def node_init(
    party: Annotated[str, typer.Option(help=_("CA or IN"))],
    data: DataOption,
    host: Annotated[str, typer.Option(help=_("address to listen on"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=_("port to listen on"))] = 8400,
    public_url: Annotated[str | None, typer.Option(help=_("URL the peer reaches this node at"))] = None,
    node_id: Annotated[str | None, typer.Option(help=_("this node's id (default: <party>-node-1)"))] = None,
) -> None:
    from accord.bootstrap import init_node
    from accord.store.modes import restrict_umask

    restrict_umask()
    the_party = parse_party(party)
    data.mkdir(parents=True, exist_ok=True)
    settings = load_settings(data, host=host, port=port, public_url=public_url)
    node = init_node(settings, the_party, node_id)
    write_node_file(data, host, port, public_url)
    keys = node.keys.public
    console.print(
        _("[green]node {node_id}[/] ({the_party}) initialised in {data}").format(
            node_id=node.node_id, the_party=the_party, data=data
        )
    )
    console.print(
        _("signing key    Ed25519 {signing_fingerprint}").format(signing_fingerprint=keys.signing_fingerprint)
    )
    console.print(
        _("encryption key X25519  {encryption_fingerprint}").format(encryption_fingerprint=keys.encryption_fingerprint)
    )
    console.print(_("database       {safe_url}").format(safe_url=_safe_url(settings.resolved_database_url)))
    console.print(_("next: `accord peer export` here, `accord peer import` at the peer, and the reverse"))
    node.close()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@node_app.command("serve", help=_("Run the node: REST API, federation endpoint and delivery workers."))
def node_serve(
    data: DataOption,
    host: Annotated[str | None, typer.Option(help=_("override the listen address"))] = None,
    port: Annotated[int | None, typer.Option(help=_("override the listen port"))] = None,
    delivery_workers: Annotated[int | None, typer.Option(help=_("delivery threads in this process (0: none)"))] = None,
    screen_workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=_(
                "worker processes that screen bulk batches beside this process (0: none, in this process; "
                "several serve processes on one machine already take its cores)"
            ),
        ),
    ] = None,
) -> None:
    import uvicorn

    from accord.bootstrap import create_app, open_node, prepare_for_traffic
    from accord.logs import configure_logging
    from accord.store.modes import restrict_umask

    restrict_umask()  # what the node writes (database, blobs, uploads arriving) is the owner's alone
    settings = load_settings(data, host=host, port=port, screen_workers=screen_workers)
    configure_logging(settings.log_level)
    node = open_node(settings)
    application = create_app(node, delivery_workers)
    prepare_for_traffic(node)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@node_app.command(
    "purge", help=_("Remove personal data whose retention time (set by the policy pack) is up; each purge is logged.")
)
def node_purge(
    data: DataOption,
    as_of: Annotated[str | None, typer.Option(help=_("purge as if it were this ISO time (default: now)"))] = None,
) -> None:
    from accord.exchange.retention import purge_expired

    try:
        when = datetime.fromisoformat(as_of) if as_of else None
    except ValueError:
        stop(_("--as-of {as_of!r} is not an ISO 8601 time").format(as_of=as_of))
    if when is not None and when.tzinfo is None:
        stop(_("--as-of needs a time zone, e.g. 2031-01-01T00:00:00+00:00"))
    with opened_node(data) as node:
        try:
            summary = purge_expired(node, when)
        except AccordError as exc:
            stop(exc.detail)
    console.print(
        _(
            "purged personal data from {purged} messages (retention {message_days} days, refused "
            "{refused_days} days, as of {isoformat})"
        ).format(
            purged=summary.purged,
            message_days=summary.message_days,
            refused_days=summary.refused_days,
            isoformat=summary.as_of.isoformat(),
        )
    )


@node_app.command("deliver", help=_("Run only a delivery worker (scale-out on PostgreSQL: run as many as you like)."))
def node_deliver(data: DataOption) -> None:
    from accord.bootstrap import open_node, prepare_for_traffic
    from accord.exchange.delivery import DeliveryWorker
    from accord.logs import configure_logging
    from accord.store.modes import restrict_umask

    restrict_umask()
    settings = load_settings(data)
    configure_logging(settings.log_level)
    node = open_node(settings)
    stop_event = threading.Event()
    # Handle Ctrl-C explicitly: a shell that starts us in the background leaves SIGINT ignored, and Python then
    # never raises KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_event.set())
    prepare_for_traffic(node)
    DeliveryWorker(node).run(stop_event)
    node.close()


@node_app.command(
    "resequence",
    help=_(
        "After a sequence collision (the channel counter went back, e.g. a restored "
        "backup): give every envelope waiting for the peer a fresh sequence number past "
        "the highest the peer holds; logged in the ledger, due at once."
    ),
)
def node_resequence(
    data: DataOption,
    peer: Annotated[str, typer.Option("--peer", help=_("the peer's node id, as in the sequence-collision alarm"))],
) -> None:
    from accord.exchange.sequences import resequence

    with opened_node(data) as node:
        try:
            done = resequence(node, peer)
        except AccordError as exc:
            stop(exc.detail)
    numbers = f"numbers {done.first}..{done.next_seq - 1}" if done.count else "nothing waited"
    console.print(
        _(
            "channel {channel}: {count} waiting envelopes re-sequenced ({numbers}); the channel "
            "continues at {next_seq} (the peer acknowledged up to {highest_acknowledged}, reported "
            "holding up to {highest_reported})"
        ).format(
            channel=done.channel,
            count=done.count,
            numbers=numbers,
            next_seq=done.next_seq,
            highest_acknowledged=done.highest_acknowledged,
            highest_reported=done.highest_reported,
        )
    )
    console.print(_("next: acknowledge the sequence-collision alarm with `accord audit ack ID --note …`"))


PASSPHRASE_ENV = "ACCORD_BACKUP_PASSPHRASE"
PassphraseFileOption = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help=_("a file whose first line is the passphrase (else ACCORD_BACKUP_PASSPHRASE, else asked)"),
    ),
]


def _passphrase(path: Path | None, confirm: bool) -> str:
    """From the file, the environment or the terminal: never from the command line, where `ps` shows it."""
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            stop(_("cannot read the passphrase file {path}: {reason}").format(path=path, reason=exc.strerror or exc))
        if not lines or not lines[0]:
            stop(_("the passphrase file {path} is empty").format(path=path))
        return lines[0]
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    return str(typer.prompt(_("backup passphrase"), hide_input=True, confirmation_prompt=confirm))


@node_app.command(
    "backup",
    help=_(
        "Take a consistent backup of this node while it runs: the database (SQLite online backup, or pg_dump), "
        "blobs, configuration and keys sealed under a passphrase, with a signed manifest of the ledger head."
    ),
)
def node_backup(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help=_("the archive to write (a tar file; never overwritten)"))],
    passphrase_file: PassphraseFileOption = None,
) -> None:
    from accord.backup import take_backup
    from accord.store.modes import restrict_umask

    restrict_umask()
    passphrase = _passphrase(passphrase_file, confirm=True)
    with opened_node(data) as node:
        try:
            done = take_backup(node, out, passphrase)
        except AccordError as exc:
            stop(exc.detail)
    console.print(
        _(
            "[green]backup of {node_id}[/] written to {out}: {files} files, {blobs} blobs, ledger {size} leaves, "
            "root {root}"
        ).format(
            node_id=done.node_id,
            out=done.out,
            files=done.files,
            blobs=done.blobs,
            size=done.ledger_size,
            root=done.ledger_root,
        )
    )
    if done.missing_blobs:
        console.print(
            _(
                "[yellow]{count} blobs the database names were gone or damaged on disk and are not in the backup: "
                "{names}[/]"
            ).format(count=len(done.missing_blobs), names=", ".join(done.missing_blobs[:5]))
        )


@node_app.command(
    "restore",
    help=_(
        "Restore a backup into an empty data directory (and an empty database), verify every hash and the ledger, "
        "then ask the peer what was exchanged since the backup: it sends it again, and its countersigned checkpoint "
        "is checked against the restored ledger."
    ),
)
def node_restore(
    source: Annotated[Path, typer.Option("--from", help=_("the backup archive"))],
    data: DataOption,
    passphrase_file: PassphraseFileOption = None,
    offline: Annotated[bool, typer.Option("--offline", help=_("do not ask the peer (catch up later)"))] = False,
) -> None:
    from accord.backup import restore_backup
    from accord.exchange.recovery import recover_from_peer
    from accord.exchange.transport import PeerClient, PeerUnreachable
    from accord.store.modes import restrict_umask

    restrict_umask()
    passphrase = _passphrase(passphrase_file, confirm=False)
    try:
        restored = restore_backup(source, data, passphrase, os.environ.get("ACCORD_DATABASE_URL") or None)
    except AccordError as exc:
        stop(exc.detail)
    console.print(
        _(
            "[green]restored {node_id}[/] from the backup of {created_at}: every file's hash and the ledger "
            "({size} leaves, root {root}) verified against the signed manifest"
        ).format(
            node_id=restored.node_id,
            created_at=restored.created_at,
            size=restored.ledger_size,
            root=restored.ledger_root,
        )
    )
    if offline:
        console.print(_("not asking the peer (--offline): run the restore's check later, before serving"))
        return
    with opened_node(data) as node, PeerClient(timeout_s=60.0) as client:
        try:
            recoveries = recover_from_peer(node, client, restored.created_at)
        except PeerUnreachable as exc:
            stop(
                _(
                    "restored, but the peer did not answer ({detail}): start the node; its envelopes are retried, "
                    "but what the peer sent since the backup is not re-requested"
                ).format(detail=exc.detail),
                3,
            )
        except AccordError as exc:
            stop(exc.detail, 4)
    gap = False
    for done in recoveries:
        console.print(
            _(
                "peer {peer}: countersigned this ledger up to {size} leaves (restored: {restored}); sends again "
                "{resent} envelopes from number {first}; {recovered} own messages sent after the backup rebuilt from "
                "its copies; this node's channel continues at {next_seq}"
            ).format(
                peer=done.peer,
                size=done.countersigned_size,
                restored=done.ledger_size,
                resent=len(done.resent),
                first=done.re_requested_from,
                recovered=len(done.recovered),
                next_seq=done.next_seq,
            )
        )
        if done.declared:
            console.print(
                _(
                    "peer {peer}: countersigned the restored ledger's head ({size} leaves) as the start of a declared "
                    "restore; this node's next checkpoints extend it"
                ).format(peer=done.peer, size=done.ledger_size)
            )
        else:
            gap = True
            console.print(
                _(
                    "[yellow]peer {peer} did not take the restored ledger's head (a version before declared "
                    "restores): it will refuse this node's next checkpoints as a rewrite if it countersigned leaves "
                    "this backup does not hold[/]"
                ).format(peer=done.peer)
            )
        if done.ledger_gap:
            gap = True
            console.print(
                _(
                    "[yellow]ledger gap: the peer countersigned {gap} leaves this backup does not hold; they are "
                    "lost, and the peer keeps its countersigned checkpoint as their evidence[/]"
                ).format(gap=done.ledger_gap)
            )
        if done.lost:
            console.print(
                _(
                    "[yellow]the peer set aside, as a branch this node lost, its checkpoints of sizes {sizes} and "
                    "logged the declared restore in its ledger[/]"
                ).format(sizes=", ".join(str(lost.size) for lost in done.lost))
            )
        if done.not_resent or done.not_recovered:
            gap = True
            console.print(
                _("[yellow]not re-sent by the peer: {theirs}; not rebuilt here: {ours}[/]").format(
                    theirs=list(done.not_resent)[:10], ours=list(done.not_recovered)[:10]
                )
            )
    if not gap:
        console.print(_("nothing lost: start the node with `accord node serve --data {data}`").format(data=data))

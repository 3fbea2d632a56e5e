"""`accord node`: set up this party's node, run it (or only its delivery workers), purge expired personal data, and
re-sequence a channel after a sequence collision."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
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
) -> None:
    import uvicorn

    from accord.bootstrap import create_app, open_node
    from accord.logs import configure_logging
    from accord.store.modes import restrict_umask

    restrict_umask()  # what the node writes (database, blobs, uploads arriving) is the owner's alone
    settings = load_settings(data, host=host, port=port)
    configure_logging(settings.log_level)
    node = open_node(settings)
    application = create_app(node, delivery_workers)
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
    from accord.bootstrap import open_node
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

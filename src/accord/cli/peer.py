"""`accord peer`: hand this node's signed descriptor to the peer's operator, pin the peer's keys from theirs, and see
what is pinned and which wire versions each peer speaks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accord.cli._console import DataOption, console, errors, opened_node, stop
from accord.i18n import _

if TYPE_CHECKING:
    from accord.trust.peer_status import PeerStatus

peer_app = typer.Typer(help=_("Exchange signed node descriptors and pin the peer's keys."), no_args_is_help=True)


@peer_app.command("export", help=_("Print this node's signed descriptor, to hand to the peer's operator."))
def peer_export(
    data: DataOption,
    out: Annotated[Path | None, typer.Option(help=_("write the descriptor to this file (default: stdout)"))] = None,
) -> None:
    from accord.trust.peers import export_descriptor

    with opened_node(data) as node:
        token = export_descriptor(node)
    if out is None:
        sys.stdout.write(token + "\n")
    else:
        out.write_text(token + "\n", encoding="ascii")
        errors.print(_("descriptor of {node_id} written to {out}").format(node_id=node.node_id, out=out))


@peer_app.command("import", help=_("Verify the peer's signed descriptor and pin its key fingerprints."))
def peer_import(
    descriptor_file: Annotated[Path, typer.Argument(help=_("the peer's descriptor file ('-' for stdin)"))],
    data: DataOption,
    url: Annotated[str | None, typer.Option(help=_("reach the peer at this URL instead of the one it states"))] = None,
) -> None:
    from accord.trust.peers import pin_peer

    try:
        token = sys.stdin.read() if str(descriptor_file) == "-" else descriptor_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        stop(_("cannot read descriptor {descriptor_file}: {exc}").format(descriptor_file=descriptor_file, exc=exc))
    with opened_node(data) as node:
        descriptor = pin_peer(node, token, url)
    console.print(
        _("[green]pinned[/] {node_id} ({party}) at {value}").format(
            node_id=descriptor.node_id, party=descriptor.party, value=url or descriptor.url
        )
    )
    console.print(
        _("signing key    {signing_fingerprint}").format(signing_fingerprint=descriptor.keys.signing_fingerprint)
    )
    console.print(
        _("encryption key {encryption_fingerprint}").format(
            encryption_fingerprint=descriptor.keys.encryption_fingerprint
        )
    )
    console.print(_("compare these fingerprints with the peer's operator over a separate channel"))
    console.print(_("then publish this node's officers to the peer with `accord peer roster`"))


@peer_app.command(
    "roster",
    help=_(
        "Publish this node's officers per agency to the peer (a signed envelope), so its "
        "officers can name ours as TLP:RED recipients and have the names checked when "
        "they compose; `officer add` does it for each new officer."
    ),
)
def peer_roster(data: DataOption) -> None:
    from accord.errors import AccordError
    from accord.exchange.roster import publish_roster

    with opened_node(data) as node:
        try:
            roster = publish_roster(node)
        except AccordError as exc:
            stop(exc.detail)
    console.print(
        _("roster {id}: {count} officer(s) queued for the peer").format(id=roster.id, count=len(roster.officers))
    )


@peer_app.command(
    "list",
    help=_(
        "List the pinned peers: their address, the wire versions each last advertised and when, and the versions "
        "this node sends it in."
    ),
)
def peer_list(data: DataOption) -> None:
    from rich.table import Table

    from accord.trust.peer_status import peer_statuses

    with opened_node(data) as node:
        statuses = peer_statuses(node)
    if not statuses:
        errors.print(_("no peer is pinned; run `accord peer import`"))
        return
    table = Table(_("peer"), _("party"), _("url"), _("advertised versions"), _("seen"), _("sending in"))
    for status in statuses:
        table.add_row(
            status.peer.node_id,
            status.peer.party.value,
            status.peer.url,
            _advertised(status),
            _seen(status),
            _sending(status),
        )
    console.print(table)


@peer_app.command("show", help=_("Show one pinned peer: keys, advertised wire versions, and the versions sent to it."))
def peer_show(
    node_id: Annotated[str, typer.Argument(help=_("the peer's node id"))],
    data: DataOption,
) -> None:
    from accord.errors import AccordError
    from accord.trust.peer_status import peer_status

    with opened_node(data) as node:
        try:
            status = peer_status(node, node_id)
        except AccordError as exc:
            stop(exc.detail)
    keys = status.peer.pinned.keys
    rows = [
        (_("peer"), status.peer.node_id),
        (_("party"), status.peer.party.value),
        (_("url"), status.peer.url),
        (_("signing key"), keys.signing_fingerprint),
        (_("encryption key"), keys.encryption_fingerprint),
        (_("advertised versions"), _advertised(status)),
        (_("seen"), _seen(status)),
        (_("this node speaks"), status.own.describe()),
        (_("sending in"), _sending(status)),
    ]
    for label, value in rows:
        console.print(f"{label:<20} {value}", markup=False)


def _advertised(status: PeerStatus) -> str:
    advertised = status.versions.advertised
    return _("none (a release before versions: 1)") if advertised is None else advertised.describe()


def _seen(status: PeerStatus) -> str:
    versions = status.versions
    if versions.seen_at is None or versions.source is None:
        return _("not yet")
    return _("{at} in its {source}").format(at=versions.seen_at.isoformat(timespec="seconds"), source=versions.source)


def _sending(status: PeerStatus) -> str:
    from accord.crypto.versions import NoCommonVersion

    negotiated = status.negotiated
    if isinstance(negotiated, NoCommonVersion):
        return _("nothing: {detail}").format(detail=negotiated.detail)
    return _("envelope {envelope}; protocol {protocol}").format(
        envelope=negotiated.envelope, protocol=negotiated.protocol
    )


@peer_app.command(
    "accept-rotation",
    help=_(
        "Apply the peer's held emergency key rotation, once you have compared its new fingerprint with the one the "
        "peer's operator read out to you over a separate channel."
    ),
)
def peer_accept_rotation(
    data: DataOption,
    fingerprint: Annotated[str, typer.Option(help=_("the new key's fingerprint, as the peer's operator read it out"))],
) -> None:
    from accord.errors import AccordError
    from accord.trust.rotation import confirm_rotation

    with opened_node(data) as node:
        try:
            rotation = confirm_rotation(node, fingerprint)
        except AccordError as exc:
            stop(exc.detail)
    console.print(
        _("[green]applied[/] {peer}'s emergency {role} key rotation: key {fingerprint} is pinned").format(
            peer=rotation.peer, role=rotation.role.value, fingerprint=rotation.new_fingerprint
        )
    )
    console.print(_("the old key {fingerprint} verifies history only").format(fingerprint=rotation.old_fingerprint))

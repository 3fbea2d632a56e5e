"""`accord keys`: replace this node's signing or encryption key, telling the peer with a statement signed by the key
it has pinned (see `accord.trust.rotation`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from accord.cli._console import DataOption, console, errors, opened_node, stop
from accord.errors import AccordError
from accord.i18n import _

keys_app = typer.Typer(help=_("Rotate this node's keys."), no_args_is_help=True)


@keys_app.command(
    "rotate",
    help=_(
        "Replace the signing or the encryption key: the new key is made, the old one archived (keys/archive/), and a "
        "statement signed by the key the peer pinned is sent to it. During the overlap the peer accepts either key."
    ),
)
def keys_rotate(
    data: DataOption,
    signing: Annotated[bool, typer.Option("--signing", help=_("rotate the Ed25519 signing key"))] = False,
    encryption: Annotated[bool, typer.Option("--encryption", help=_("rotate the X25519 encryption key"))] = False,
    overlap_days: Annotated[float, typer.Option(help=_("days the peer still accepts the old key (at most 90)"))] = 7.0,
    emergency: Annotated[
        bool,
        typer.Option(
            "--emergency",
            help=_(
                "the old key is compromised: no overlap, and the peer applies the rotation only once its operator "
                "has compared the new fingerprint with yours"
            ),
        ),
    ] = False,
) -> None:
    from accord.crypto.keys import KeyRole
    from accord.exchange.rotation import deliver_rotations
    from accord.exchange.transport import PeerClient
    from accord.store.modes import restrict_umask
    from accord.trust.rotation import rotate_own_key, taken_by_peer

    restrict_umask()  # the archived key, the new key and the pack's new seal are the owner's alone
    if signing == encryption:
        stop(_("choose one key: --signing or --encryption"))
    role = KeyRole.SIGNING if signing else KeyRole.ENCRYPTION
    with opened_node(data) as node:
        try:
            rotation = rotate_own_key(node, role, overlap=timedelta(days=overlap_days), emergency=emergency)
        except AccordError as exc:
            stop(exc.detail)
        with PeerClient(timeout_s=15.0, connect_timeout_s=3.0) as client:
            deliver_rotations(node, client)
        delivered = taken_by_peer(node, rotation)
    console.print(_("[green]{role} key rotated[/] on {node_id}").format(role=role.value, node_id=node.node_id))
    console.print(_("old key  {fingerprint}").format(fingerprint=rotation.old_fingerprint))
    console.print(_("new key  {fingerprint}").format(fingerprint=rotation.new_fingerprint))
    console.print(_("old private key archived in {path}").format(path=rotation.archived))
    if emergency:
        console.print(_("emergency rotation: the old key is no longer accepted once the peer applies it"))
    else:
        console.print(_("the peer accepts the old key until {until}").format(until=rotation.overlap_until.isoformat()))
    if rotation.peer is None:
        errors.print(_("no peer is pinned: hand the peer's operator a new descriptor (`accord peer export`)"))
    elif delivered:
        console.print(_("statement delivered to {peer}").format(peer=rotation.peer))
    else:
        errors.print(
            _("{peer} did not take the statement now; the node's delivery worker offers it again").format(
                peer=rotation.peer
            )
        )
    if emergency and rotation.peer is not None:
        console.print(
            _(
                "read the new key's fingerprint to {peer}'s operator over a separate channel; they apply it with "
                "`accord peer accept-rotation --fingerprint {fingerprint}`"
            ).format(peer=rotation.peer, fingerprint=rotation.new_fingerprint)
        )

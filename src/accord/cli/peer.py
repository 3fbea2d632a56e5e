"""`accord peer`: hand this node's signed descriptor to the peer's operator, and pin the peer's keys from theirs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from accord.cli._console import DataOption, console, errors, opened_node, stop
from accord.i18n import _

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

"""What a share carrying STIX objects must keep, checked on the send path and again by the receiving node."""

from __future__ import annotations

from collections.abc import Sequence

from accord.domain.cyber import SharedBundle
from accord.domain.handling import Tlp
from accord.domain.messages import MessageKind
from accord.errors import InvalidInput
from accord.focus.cyber.tlp import TLP_ORDER, bundle_tlp
from accord.focus.cyber.validation import check_objects
from accord.i18n import _

CYBER_AREAS = frozenset({"cyber", "fraud"})


def check_shared_bundle(
    kind: MessageKind, focus_area: str, tlp: Tlp, named_recipients: Sequence[str], bundle: SharedBundle | None
) -> None:
    """What a share carrying STIX objects must keep, at the sender and again at the receiver."""
    if bundle is None:
        return
    if kind is not MessageKind.SHARE:
        raise InvalidInput(_("STIX objects travel in a 'share', not a {value!r}").format(value=kind.value))
    if focus_area not in CYBER_AREAS:
        raise InvalidInput(
            _("STIX objects are shared in the {join} focus area").format(join=" or ".join(sorted(CYBER_AREAS)))
        )
    problems = check_objects(bundle.objects).invalid
    if problems:
        listed = "; ".join(f"{p.id}: {', '.join(p.errors)}" for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InvalidInput(
            _("{count} STIX object(s) are invalid: {listed}{more}").format(
                count=len(problems), listed=listed, more=more
            )
        )
    level = bundle_tlp(bundle.objects)
    if TLP_ORDER.index(tlp) < TLP_ORDER.index(level):
        raise InvalidInput(
            _("the bundle holds TLP:{value} objects; mark the share TLP:{value} or stricter").format(value=level.value)
        )
    if level is Tlp.RED and not named_recipients:
        raise InvalidInput(_("the bundle holds TLP:RED objects: name their recipients in handling.named_recipients"))

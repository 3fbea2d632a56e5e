"""What a share carrying STIX objects must keep, checked on the send path and again by the receiving node."""

from __future__ import annotations

from collections.abc import Sequence

from accord.domain.cyber import SharedBundle
from accord.domain.handling import Tlp
from accord.domain.messages import MessageKind
from accord.errors import InvalidInput
from accord.focus.cyber.tlp import TLP_ORDER, bundle_tlp
from accord.focus.cyber.validation import check_objects

CYBER_AREAS = frozenset({"cyber", "fraud"})


def check_shared_bundle(
    kind: MessageKind, focus_area: str, tlp: Tlp, named_recipients: Sequence[str], bundle: SharedBundle | None
) -> None:
    """What a share carrying STIX objects must keep, at the sender and again at the receiver."""
    if bundle is None:
        return
    if kind is not MessageKind.SHARE:
        raise InvalidInput(f"STIX objects travel in a 'share', not a {kind.value!r}")
    if focus_area not in CYBER_AREAS:
        raise InvalidInput(f"STIX objects are shared in the {' or '.join(sorted(CYBER_AREAS))} focus area")
    problems = check_objects(bundle.objects).invalid
    if problems:
        listed = "; ".join(f"{p.id}: {', '.join(p.errors)}" for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise InvalidInput(f"{len(problems)} STIX object(s) are invalid: {listed}{more}")
    level = bundle_tlp(bundle.objects)
    if TLP_ORDER.index(tlp) < TLP_ORDER.index(level):
        raise InvalidInput(f"the bundle holds TLP:{level.value} objects; mark the share TLP:{level.value} or stricter")
    if level is Tlp.RED and not named_recipients:
        raise InvalidInput("the bundle holds TLP:RED objects: name their recipients in handling.named_recipients")

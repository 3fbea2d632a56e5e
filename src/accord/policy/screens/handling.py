"""Handling: the message's level against the channel's ceiling, its TLP and named recipients, and its caveats."""

from __future__ import annotations

from accord.domain.agreement import Agreement
from accord.domain.handling import Caveat, Tlp
from accord.domain.messages import Message
from accord.policy.screens.contribution import Contribution


def screen_handling(message: Message, agreement: Agreement) -> Contribution:
    handling = message.handling
    officer = message.recipient.officer
    # TLP:RED names its readers: in handling.named_recipients (the addressed officer, if any, among them), or by
    # addressing one officer. A share to a centre names its analysts without addressing one of them.
    named = (officer is None or officer in handling.named_recipients) if handling.named_recipients else bool(officer)
    restriction = bool((handling.restrictions or "").strip())
    return Contribution(
        {
            "kind": message.kind.value,
            "focus_area": message.focus_area,
            "purpose": message.purpose.value,
            "level": handling.level.rank,
            "ceiling": agreement.channel_ceiling.rank,
            "tlp": handling.tlp.value,
            "recipient_named": named,
            "caveats": [c.value for c in handling.caveats],
            "restriction_stated": restriction,
        },
        {
            "tlp_red_without_named_recipient": handling.tlp is Tlp.RED and not named,
            "h3_without_restriction": Caveat.H3 in handling.caveats and not restriction,
        },
    )

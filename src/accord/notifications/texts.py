"""What a notification says, in the reader's language (the caller sets it): a headline, the facts line by line, and
where in Accord to act. Built from the notification's facts alone, which never hold a message's content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.domain.agreement import Agreement
from accord.domain.notification_rules import Trigger
from accord.domain.words import message_kind_word, priority_word
from accord.i18n import _


@dataclass(frozen=True, slots=True)
class NoticeText:
    headline: str
    details: tuple[str, ...]
    path: str  # where to act, below the node's web address


def notice_text(trigger: Trigger, facts: dict[str, Any], agreement: Agreement) -> NoticeText:
    kind = message_kind_word(facts.get("kind"))
    priority = priority_word(facts.get("priority"))
    details = _message_details(facts, agreement) if facts.get("message") else ()
    message_path = f"/messages/{facts.get('message')}"
    match trigger:
        case Trigger.MESSAGE_RECEIVED:
            headline = _("New {kind} from {agency} ({priority})").format(
                kind=kind, agency=facts.get("sender_agency"), priority=priority
            )
            return NoticeText(headline, details, message_path)
        case Trigger.DEADLINE_APPROACHING:
            headline = _("A {kind} from {agency} is still unanswered and its deadline is near").format(
                kind=kind, agency=facts.get("sender_agency")
            )
            return NoticeText(headline, details, message_path)
        case Trigger.DISCLOSURE_HELD:
            if facts.get("level") == 2:
                headline = _("A disclosure to {agency} ({priority}) waits for the deputy head's decision").format(
                    agency=facts.get("recipient_agency"), priority=priority
                )
            else:
                headline = _("A disclosure to {agency} ({priority}) is held for legal review").format(
                    agency=facts.get("recipient_agency"), priority=priority
                )
            return NoticeText(headline, details, "/reviews")
        case Trigger.PROPOSAL_RECEIVED:
            headline = _("The other side proposes a change to {item} of the shared work plan").format(
                item=facts.get("item")
            )
            return NoticeText(headline, (), "/workplan")
        case Trigger.LEDGER_ALARM:
            headline = _("Ledger alarm: {alarm}").format(alarm=facts.get("alarm"))
            return NoticeText(headline, (_("Raised about: {origin}").format(origin=facts.get("origin")),), "/audit")


def _message_details(facts: dict[str, Any], agreement: Agreement) -> tuple[str, ...]:
    area = agreement.focus_area(str(facts.get("focus_area")))
    lines = [
        _("Kind: {kind}").format(kind=message_kind_word(facts.get("kind"))),
        _("Priority: {priority}").format(priority=priority_word(facts.get("priority"))),
        _("Focus area: {name}").format(name=area.name_in() if area is not None else facts.get("focus_area")),
        _("From {sender} to {recipient}").format(
            sender=facts.get("sender_agency"), recipient=facts.get("recipient_agency")
        ),
    ]
    return tuple(lines)


def deadline_of(facts: dict[str, Any]) -> datetime | None:
    value = facts.get("deadline")
    return datetime.fromisoformat(value) if value else None

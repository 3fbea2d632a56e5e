"""A notification as a mail (plain text, in the officer's language). Mail leaves the channel's protection, so a mail
carries a message's title and text only when the message is marked no higher than the node allows (by default
unclassified and TLP:CLEAR); otherwise it says that something waits, its kind, priority and deadline, and links to it.
Nothing an officer or the peer wrote reaches a header: the subject is our own sentence, made one line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, tzinfo
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any

from accord.config import Settings
from accord.domain.agreement import Agreement
from accord.domain.handling import CommonLevel, Tlp
from accord.domain.notification_rules import NotificationRule
from accord.domain.official import in_language
from accord.i18n import Language, _, language_scope
from accord.i18n.zones import format_moment
from accord.notifications.texts import deadline_of, notice_text

# Line breaks of every kind, and the other control characters: never inside a header, never splitting a title.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_SUBJECT = 200
MAX_BODY = 4000


@dataclass(frozen=True, slots=True)
class Addressee:
    name: str
    address: str
    language: Language
    zone: tzinfo = UTC  # the officer's time zone, else the node's


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """`text` as one line: every line break or control character a space (a title with CR LF cannot start a header
    or a paragraph of its own), cut at `limit` characters."""
    flat = " ".join(_BREAKS.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def may_carry_content(settings: Settings, content: dict[str, Any]) -> bool:
    """Whether a mail may carry this message's title and text: marked no higher than `smtp_max_marking` on the
    common ladder and no stricter than `smtp_max_tlp`; an unmarked or unknown marking never."""
    handling = content.get("handling") or {}
    try:
        level = CommonLevel(str(handling.get("level")))
        tlp = Tlp(str(handling.get("tlp")))
    except ValueError:
        return False
    order = list(Tlp)
    return level.rank <= settings.smtp_max_marking.rank and order.index(tlp) <= order.index(settings.smtp_max_tlp)


def compose_mail(
    settings: Settings,
    agreement: Agreement,
    rule: NotificationRule,
    facts: dict[str, Any],
    to: Addressee,
    message: Any | None,
) -> EmailMessage:
    """The mail for one notification; `message` is the row it is about (None if none, or if purged)."""
    with language_scope(to.language):
        text = notice_text(rule.trigger, facts, agreement)
        lines = [text.headline, "", *text.details]
        if facts.get("message"):
            lines.append(_("Message: {id}").format(id=facts["message"]))
        deadline = deadline_of(facts)
        if deadline is not None:
            lines.append(_("Deadline: {time}").format(time=format_moment(deadline, to.zone)))
        lines.append("")
        content = json.loads(message.content) if message is not None and message.purged_at is None else None
        if content is not None and may_carry_content(settings, content):
            lines += [_("Title: {title}").format(title=one_line(str(content.get("title") or ""))), ""]
            lines += [_clean_body(str(content.get("body") or "")), ""]
        elif content is not None:
            lines += [
                _("This notice does not carry the message: its marking keeps it off mail. Read it in Accord."),
                "",
            ]
        lines.append(_("Open it in Accord: {url}").format(url=settings.resolved_public_url.rstrip("/") + text.path))
        lines += ["", "-- ", _("You receive this because: {why}").format(why=in_language(rule.title))]
        if rule.optional:
            settings_url = settings.resolved_public_url.rstrip("/") + "/notifications/settings"
            lines.append(_("You may mute it: {url}").format(url=settings_url))
        subject = one_line(_("[Accord] {headline}").format(headline=text.headline))
    mail = EmailMessage(policy=policy.SMTP)
    mail["Subject"] = subject
    mail["From"] = settings.smtp_from
    mail["To"] = formataddr((one_line(to.name, 100), to.address))
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid("accord", _domain_of(settings.smtp_from))
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834 §5: no vacation replies to a notice
    mail.set_content("\n".join(lines) + "\n")
    mail["Content-Language"] = to.language.value  # after the content, which sets the Content-* fields afresh
    return mail


def _clean_body(body: str) -> str:
    text = _CONTROLS.sub(" ", body.replace("\r\n", "\n").replace("\r", "\n"))
    return text if len(text) <= MAX_BODY else text[: MAX_BODY - 1] + "…"


def _domain_of(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"

"""The mail outbox, drained through the agency's SMTP relay: due rows are claimed (other processes skip them), sent
over one session (STARTTLS per RFC 3207 where set, then AUTH if configured), and settled: sent (when, Message-ID),
tried again later with a doubling wait while the relay is down or answers 4xx, or refused for good on a 5xx."""

from __future__ import annotations

import json
import random
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

import structlog
from sqlalchemy import and_, bindparam, or_, select, update

from accord.config import Settings
from accord.i18n import Language
from accord.i18n.zones import zone_or_none
from accord.node import Node
from accord.notifications.mail import Addressee, compose_mail
from accord.notifications.rules import notification_rules
from accord.store.engine import any_row
from accord.store.tables import messages, notification_mail, notifications, officers

log = structlog.get_logger("accord.notifications")

MAIL_BATCH = 20
_PERMANENT = 500  # SMTP reply codes from 500 on are permanent failures (RFC 5321 §4.2.1)


@dataclass(frozen=True, slots=True)
class Outcome:
    message_id: str | None = None  # sent, with this Message-ID
    error: str | None = None
    permanent: bool = False


def send_due_mail(node: Node, limit: int = MAIL_BATCH) -> int:
    """Send what is due in the mail outbox; returns how many rows were settled (sent, retried or refused)."""
    if node.settings.smtp_host is None:
        return 0
    now = node.clock.now()
    claimed = _claim(node, now, limit)
    if not claimed:
        return 0
    mails = _compose(node, claimed)
    outcomes = deliver(node.settings, mails)
    _settle(node, claimed, outcomes, now)
    sent = sum(1 for outcome in outcomes.values() if outcome.message_id)
    if sent:
        log.info("notifications mailed", sent=sent)
    if sent < len(claimed):
        errors = sorted({o.error for o in outcomes.values() if o.error})
        log.warning("notifications not mailed yet", waiting=len(claimed) - sent, errors=errors)
    return len(claimed)


def _claim(node: Node, now: datetime, limit: int) -> list[Any]:
    m = notification_mail.c
    lease = now + timedelta(seconds=2 * node.settings.smtp_timeout_s * (limit + 2))
    due = and_(m.next_attempt_at <= now, or_(m.lease_until.is_(None), m.lease_until < now))
    if not any_row(node.engine, m.id, due):
        return []
    with node.engine.begin() as conn:
        rows = conn.execute(
            select(notification_mail, notifications.c.rule, notifications.c.facts, notifications.c.message_id)
            .add_columns(officers.c.display_name, officers.c.language, officers.c.time_zone)
            .join(notifications, notifications.c.id == m.notification_id)
            .join(officers, officers.c.id == notifications.c.officer_id)
            .where(due)
            .order_by(m.next_attempt_at, m.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=notification_mail)
        ).all()
        if rows:
            conn.execute(update(notification_mail).where(m.id.in_([r.id for r in rows])).values(lease_until=lease))
    return list(rows)


def _compose(node: Node, claimed: Sequence[Any]) -> dict[int, EmailMessage]:
    rules = notification_rules()
    ids = [row.message_id for row in claimed if row.message_id]
    with node.engine.connect() as conn:
        found = {r.id: r for r in conn.execute(select(messages).where(messages.c.id.in_(ids)))} if ids else {}
    composed = {}
    for row in claimed:
        rule = rules.rule(row.rule)
        if rule is None:  # a rule since removed from the data file: its notices stay in the app
            continue
        language = Language(row.language) if row.language else node.settings.language
        zone = zone_or_none(row.time_zone) or node.time_zone
        to = Addressee(row.display_name, row.address, language, zone)
        facts = json.loads(row.facts)
        composed[row.id] = compose_mail(node.settings, node.agreement, rule, facts, to, found.get(row.message_id))
    return composed


def deliver(settings: Settings, mails: dict[int, EmailMessage]) -> dict[int, Outcome]:
    """Send `mails` over one SMTP session; the outcome of each, by its outbox id."""
    outcomes: dict[int, Outcome] = {}
    try:
        assert settings.smtp_host is not None
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            secret = settings.smtp_secret()
            if settings.smtp_username and secret:
                smtp.login(settings.smtp_username, secret)
            for row_id, mail in mails.items():
                outcomes[row_id] = _send_one(smtp, mail)
    except (OSError, smtplib.SMTPException) as exc:  # the relay is down or the session broke: the rest waits
        error = f"{type(exc).__name__}: {exc}"
        for row_id in mails:
            outcomes.setdefault(row_id, Outcome(error=error))
    return outcomes


def _send_one(smtp: smtplib.SMTP, mail: EmailMessage) -> Outcome:
    sender = parseaddr(str(mail["From"]))[1]
    recipients = [address for _name, address in getaddresses([str(to) for to in mail.get_all("To", [])])]
    # Flattened here, under the email package's SMTP policy: smtplib's send_message keeps mbox's convention, which
    # turns a line that begins with "From " (a notice's "From NCB to CBSA") into ">From ".
    international = not "".join([sender, *recipients]).isascii()  # RFC 6531: the relay must offer SMTPUTF8
    options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
    raw = mail.as_bytes(policy=policy.SMTPUTF8 if international else policy.SMTP)  # lines end CR LF (RFC 5321)
    try:
        smtp.sendmail(sender, recipients, raw, mail_options=options)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return Outcome(error=f"recipient refused: {codes}", permanent=all(c >= _PERMANENT for c in codes))
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        return Outcome(error=f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= _PERMANENT)
    return Outcome(message_id=str(mail["Message-ID"]))


def _settle(node: Node, claimed: Sequence[Any], outcomes: dict[int, Outcome], now: datetime) -> None:
    settings = node.settings
    sent, waiting, refused = [], [], []
    for row in claimed:
        outcome = outcomes.get(row.id, Outcome(error="no rule of that name any more", permanent=True))
        if outcome.message_id:
            sent.append({"row_id": row.id, "at": now, "smtp_id": outcome.message_id})
        elif outcome.permanent:
            refused.append({"row_id": row.id, "at": now, "error": outcome.error})
        else:
            attempts = row.attempts + 1
            delay = min(settings.smtp_retry_max_s, settings.smtp_retry_base_s * 2 ** min(attempts - 1, 30))
            due = now + timedelta(seconds=delay * random.uniform(0.8, 1.2))
            waiting.append({"row_id": row.id, "tries": attempts, "due": due, "error": outcome.error})
    m = notification_mail.c
    with node.engine.begin() as conn:
        if sent:
            conn.execute(
                update(notification_mail)
                .where(m.id == bindparam("row_id"))
                .values(sent_at=bindparam("at"), smtp_message_id=bindparam("smtp_id"), next_attempt_at=None)
                .values(lease_until=None, attempts=m.attempts + 1, last_error=None),
                sent,
            )
        if waiting:
            conn.execute(
                update(notification_mail)
                .where(m.id == bindparam("row_id"))
                .values(attempts=bindparam("tries"), next_attempt_at=bindparam("due"))
                .values(last_error=bindparam("error"), lease_until=None),
                waiting,
            )
        if refused:
            conn.execute(
                update(notification_mail)
                .where(m.id == bindparam("row_id"))
                .values(failed_at=bindparam("at"), last_error=bindparam("error"), next_attempt_at=None)
                .values(lease_until=None, attempts=m.attempts + 1),
                refused,
            )

"""Notices to reviewers: an urgent or immediate disclosure the pack held is mailed to the officers who can decide it
(legal officers, or the deputy head once escalated), through the deployment's SMTP server; without one, the web UI's
review badge is the notice. The mail says which message waits and until when, never what it says: mail is not the
channel's security."""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

import structlog
from sqlalchemy import select

from accord.config import Settings
from accord.directory.officers import Role, officer_mailbox
from accord.domain.messages import Message, Priority
from accord.node import Node
from accord.store.tables import officers

log = structlog.get_logger(__name__)

PRESSING = frozenset({Priority.IMMEDIATE, Priority.URGENT})
DECIDERS = {1: frozenset({Role.LEGAL, Role.DEPUTY_HEAD}), 2: frozenset({Role.DEPUTY_HEAD})}


def reviewer_mailboxes(node: Node, level: int, exclude: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(name, address) of the active officers who decide reviews at `level`, but not those in `exclude` (a message's
    drafter and editors, who may not decide it)."""
    deciders = DECIDERS[level]
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(officers.c.username, officers.c.display_name, officers.c.roles).where(
                officers.c.party == node.party.value, officers.c.active.is_(True)
            )
        ).all()
    found = []
    for row in rows:
        roles = {r for r in row.roles.split(",") if r}
        address = officer_mailbox(row.display_name, row.username)
        if address and roles & {r.value for r in deciders} and row.username not in exclude:
            found.append((parseaddr(row.display_name)[0] or row.username, address))
    return found


def compose_notice(settings: Settings, message: Message, level: int, to: tuple[str, str]) -> EmailMessage:
    mail = EmailMessage()
    priority = message.priority.value
    mail["Subject"] = f"[Accord] {priority.capitalize()} disclosure held for review ({message.focus_area})"
    mail["From"] = settings.smtp_sender
    mail["To"] = formataddr(to)
    deadline = message.deadline.strftime("%Y-%m-%d %H:%M UTC") if message.deadline else "none set"
    who = "the deputy head" if level == 2 else "a legal officer"
    mail.set_content(
        f"An {priority} disclosure from {message.sender.agency} waits for {who} to decide it.\n\n"
        f"Message: {message.id}\nFocus area: {message.focus_area}\nResponse deadline: {deadline}\n\n"
        f"Open the review queue: {settings.resolved_public_url}/reviews\n\n"
        "This notice does not carry the message; read it in Accord.\n"
    )
    return mail


def notify_reviewers(node: Node, held: Sequence[Message], *, level: int = 1, exclude: Sequence[str] = ()) -> None:
    """Mail the reviewers of every pressing held message, in the background (a slow mail server never holds up the
    officer who sent it); nothing to do without an SMTP server or a pressing hold."""
    pressing = [m for m in held if m.priority in PRESSING]
    if not pressing or node.settings.smtp_host is None:
        return
    notices = [
        compose_notice(node.settings, message, level, to)
        for message in pressing
        for to in reviewer_mailboxes(node, level, (*exclude, message.sender.officer or ""))
    ]
    if not notices:
        log.info("pressing hold without a reviewer's address", messages=[m.id for m in pressing])
        return
    threading.Thread(target=send_notices, args=(node.settings, notices), daemon=True, name="review-notices").start()


def send_notices(settings: Settings, notices: Sequence[EmailMessage]) -> None:
    """Deliver the notices over one SMTP session (STARTTLS per RFC 3207 where set, then AUTH if configured)."""
    assert settings.smtp_host is not None
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            for notice in notices:
                smtp.send_message(notice)
    except (OSError, smtplib.SMTPException) as exc:
        # The in-app notice still stands; the operator learns the mail did not go.
        log.warning("review notice not mailed", error=str(exc), notices=len(notices))
        return
    log.info("review notices mailed", notices=len(notices))

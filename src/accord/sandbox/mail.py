"""The sandbox's mail catcher: an SMTP server on loopback (aiosmtpd) that keeps every mail the nodes send as a file
of a Maildir beside their data (`var/mail`), relaying nothing; and what reads it back for `accord sandbox mail` (any
mail client reads it too: `mutt -f var/mail`)."""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from accord.notifications.mail import one_line
from accord.sandbox.nodes import HOST, MAIL_DOMAIN
from accord.sandbox.processes import mail_port_in_use

MAIL_DIR = "mail"
# A notification is a few kilobytes: the catcher refuses anything near what would fill a disk (RFC 1870's SIZE).
MAX_MAIL_BYTES = 1024 * 1024
# What a mail's text may not send to a terminal: control characters but tab and line feed (a line's CR goes too).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def sandbox_mail_dir(var_dir: Path) -> Path:
    return var_dir / MAIL_DIR


class _MaildirDelivery:
    """aiosmtpd's handler: each mail accepted becomes one file of the Maildir, headed with its envelope as a local
    delivery agent heads it (Return-Path, Delivered-To), its lines ending as a file's (LF), not as SMTP's (CR LF)."""

    def __init__(self, folder: mailbox.Maildir) -> None:
        self._folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        trace = [f"Return-Path: <{one_line(envelope.mail_from or '')}>"]
        trace += [f"Delivered-To: {one_line(recipient)}" for recipient in envelope.rcpt_tos]
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        self._folder.add("\n".join(trace).encode("utf-8") + b"\n" + content)
        return "250 OK"


class MailCatcher:
    """The SMTP server on `host`:`port`, in a thread of the process that starts it, until it is stopped."""

    def __init__(self, folder: Path, port: int, host: str = HOST) -> None:
        self.folder = folder
        self.port = port
        self.host = host
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen; `PortInUse` if another program took the port since it was checked."""
        handler = _MaildirDelivery(mailbox.Maildir(self.folder, create=True))
        # The server's own name, given: looking up the machine's would ask DNS on every connection.
        controller = Controller(
            handler,
            hostname=self.host,
            port=self.port,
            server_hostname=f"mail.{MAIL_DOMAIN}",
            data_size_limit=MAX_MAIL_BYTES,
        )
        try:
            controller.start()
        except OSError as exc:
            controller.loop.close()
            raise mail_port_in_use(self.port, self.host, exc) from exc
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass(frozen=True, slots=True)
class CaughtMail:
    number: int  # from 1, the first caught: a mail keeps its number as more arrive
    key: str  # its file's name in the Maildir
    delivered_at: datetime
    to: str  # the addresses of its To header
    subject: str


def caught_mail(folder: Path) -> list[CaughtMail]:
    """Every mail in the Maildir, the first caught first; none if there is no Maildir (the sandbox never ran)."""
    maildir = _opened(folder)
    if maildir is None:
        return []
    delivered = sorted((maildir.get_message(key).get_date(), key) for key in maildir.iterkeys())
    caught = []
    for number, (date, key) in enumerate(delivered, start=1):
        headers = BytesParser(policy=policy.default).parsebytes(maildir.get_bytes(key), headersonly=True)
        to = ", ".join(address for _name, address in getaddresses([str(headers.get("To", ""))]))
        subject = one_line(str(headers.get("Subject", "")))
        caught.append(CaughtMail(number, key, datetime.fromtimestamp(date, UTC), one_line(to), subject))
    return caught


def read_caught(folder: Path, mail: CaughtMail) -> EmailMessage:
    maildir = _opened(folder)
    assert maildir is not None  # `mail` was found in it
    parsed = BytesParser(policy=policy.default).parsebytes(maildir.get_bytes(mail.key))
    assert isinstance(parsed, EmailMessage)  # what policy.default parses to
    return parsed


def plain_text(mail: EmailMessage) -> str | None:
    """The mail's plain-text part as a terminal may show it (no control characters); None if it has none."""
    body = mail.get_body(("plain",))
    if body is None:
        return None
    return _CONTROLS.sub("", str(body.get_content()).replace("\r\n", "\n"))


def _opened(folder: Path) -> mailbox.Maildir | None:
    try:
        return mailbox.Maildir(folder, create=False)
    except mailbox.NoSuchMailboxError:
        return None

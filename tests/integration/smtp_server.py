"""A real SMTP server on loopback for the tests (aiosmtpd): what it received, and an outage a test can cause."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.integration.nodes import free_port


@dataclass
class Received:
    mail: EmailMessage
    recipients: list[str]  # the SMTP envelope's RCPT TO

    @property
    def text(self) -> str:
        body = self.mail.get_body(("plain",))
        assert body is not None
        return str(body.get_content()).replace("\r\n", "\n")


@dataclass
class Mailbox:
    """aiosmtpd's handler: keeps every mail it accepts."""

    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        with self.lock:
            self.received.append(Received(mail, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.recipients]


class LocalSmtp:
    """The server on a port of its own, which a test may stop (the relay is down) and start again on the same port."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def env(self) -> dict[str, str]:
        """A node's settings to mail through this server."""
        return {
            "ACCORD_SMTP_HOST": "127.0.0.1",
            "ACCORD_SMTP_PORT": str(self.port),
            "ACCORD_SMTP_STARTTLS": "false",
            "ACCORD_SMTP_FROM": "Accord <accord@node.example>",
        }

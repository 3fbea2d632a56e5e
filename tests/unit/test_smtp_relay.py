"""The relay session against a real SMTP server that demands AUTH: the password read from its file, a wrong one a
failure to retry (never a refusal for good, never the password in the error), a 5xx for an address a refusal; a
mail's lines reach the relay as written."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from accord.config import Settings
from accord.notifications.relay import deliver
from tests.integration.nodes import free_port
from tests.integration.smtp_server import Mailbox

SECRET = "relay-secret-7781"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"accord" and data.password == SECRET.encode()
    return AuthResult(success=ok)


class RefusingMailbox(Mailbox):
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[tuple[RefusingMailbox, int]]:
    mailbox, port = RefusingMailbox(), free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,  # loopback in a test; a deployment keeps STARTTLS on
    )
    controller.start()
    yield mailbox, port
    controller.stop()


def mail_to(address: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = "accord@node.example", address, "x", f"<{address}>"
    mail.set_content("A notice.\n")
    return mail


def settings(port: int, password_file: Path, timeout_s: float = 5) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_username="accord",
        smtp_password_file=password_file,
        smtp_timeout_s=timeout_s,
    )


def test_the_relay_is_signed_in_to_with_the_password_from_its_file_and_a_dead_address_is_refused_for_good(
    relay: tuple[RefusingMailbox, int], tmp_path: Path
) -> None:
    mailbox, port = relay
    secret = tmp_path / "smtp-password"
    secret.write_text(SECRET + "\n")
    outcomes = deliver(settings(port, secret), {1: mail_to("duty@cbsa.example"), 2: mail_to("gone@cbsa.example")})
    assert outcomes[1].message_id == "<duty@cbsa.example>"
    assert outcomes[2].permanent and outcomes[2].message_id is None
    assert [r.recipients for r in mailbox.received] == [["duty@cbsa.example"]]


def test_a_wrong_password_is_a_failure_to_try_again_that_never_names_the_password(
    relay: tuple[RefusingMailbox, int], tmp_path: Path
) -> None:
    mailbox, port = relay
    secret = tmp_path / "smtp-password"
    secret.write_text("not-the-" + SECRET + "\n")
    outcomes = deliver(settings(port, secret, timeout_s=1), {1: mail_to("duty@cbsa.example")})
    assert outcomes[1].error and not outcomes[1].permanent
    assert "not-the-" not in outcomes[1].error and SECRET not in repr(settings(port, secret))
    assert not mailbox.received


def test_a_line_that_begins_with_from_reaches_the_relay_as_written(
    relay: tuple[RefusingMailbox, int], tmp_path: Path
) -> None:
    mailbox, port = relay
    secret = tmp_path / "smtp-password"
    secret.write_text(SECRET + "\n")
    mail = mail_to("duty@cbsa.example")
    mail.set_content("New alert from NCB (immediate)\n\nFrom NCB to CBSA\n")
    assert deliver(settings(port, secret), {1: mail})[1].message_id == "<duty@cbsa.example>"
    assert "\nFrom NCB to CBSA\n" in mailbox.received[0].text and ">From" not in mailbox.received[0].text

"""Who is told of what (the shipped rules), when a deadline counts as drawing near, what a mail may carry of a message,
and that nothing in a message or a directory entry can reach a mail's headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from accord.config import Settings
from accord.datafiles import load_agreement
from accord.directory.officers import checked_email
from accord.domain.handling import CommonLevel, Tlp
from accord.domain.notification_rules import DeadlineWarning, NotificationRule, NotificationRules, Trigger
from accord.errors import InvalidInput
from accord.i18n import Language
from accord.notifications import notification_rules
from accord.notifications.mail import Addressee, compose_mail, may_carry_content, one_line

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def settings(**overrides: Any) -> Settings:
    return Settings(data_dir=Path("unused"), smtp_host="127.0.0.1", port=8402, **overrides)


def row(handling: dict[str, Any], title: str = "Consignee of a 4-AP shipment", body: str = "Please confirm.") -> Any:
    content = {"handling": handling, "title": title, "body": body}
    return SimpleNamespace(content=json.dumps(content), purged_at=None)


FACTS = {
    "message": "0193a7c2-0000-7000-8000-000000000001",
    "kind": "alert",
    "priority": "immediate",
    "focus_area": "drugs",
    "sender_agency": "NCB",
    "recipient_agency": "CBSA",
    "deadline": (START + timedelta(hours=4)).isoformat(),
}
PROTECTED_B = {"classification": "Protected B", "level": "restricted", "tlp": "AMBER", "caveats": ["H0"]}
CLEAR = {"classification": "Unclassified", "level": "unclassified", "tlp": "CLEAR", "caveats": []}


def pressing() -> NotificationRule:
    rule = notification_rules().rule("pressing-request")
    assert rule is not None
    return rule


def mailed(message: Any, to: Addressee | None = None, **overrides: Any) -> Any:
    to = to or Addressee("Duty Desk", "duty@cbsa.example", Language.EN)
    mail = compose_mail(settings(**overrides), load_agreement(), pressing(), FACTS, to, message)
    return message_from_bytes(mail.as_bytes(), policy=policy.default)


def test_the_shipped_rules_tell_of_every_trigger_and_the_pressing_ones_cannot_be_muted() -> None:
    rules = notification_rules()
    assert {rule.trigger for rule in rules.rules} == set(Trigger)
    mandatory = {rule.id for rule in rules.rules if not rule.optional}
    assert {"pressing-request", "pressing-hold", "deadline-approaching", "ledger-alarm"} <= mandatory
    assert {"routine-message", "response-received", "workplan-proposal"} <= {r.id for r in rules.rules} - mandatory


def test_a_deadline_draws_near_at_a_quarter_of_its_time_and_never_later_than_a_day_before() -> None:
    warning = DeadlineWarning(share_left=0.25, at_most_hours=24)
    assert warning.warn_at(START, START + timedelta(hours=4)) == START + timedelta(hours=3)  # immediate: 1 h left
    assert warning.warn_at(START, START + timedelta(hours=48)) == START + timedelta(hours=36)  # urgent: 12 h left
    assert warning.warn_at(START, START + timedelta(days=30)) == START + timedelta(days=29)  # routine: a day


def test_a_rule_file_with_roles_for_another_audience_or_a_duplicate_id_is_refused() -> None:
    base = {"title": "A rule", "description": "What it tells of.", "channels": ["app"], "optional": True}
    misplaced_roles = {"id": "x-rule", "trigger": "ledger_alarm", "audience": "reviewers", "roles": ["legal"]}
    with pytest.raises(ValidationError, match="roles"):
        NotificationRule.model_validate(base | misplaced_roles)
    no_lead = {"id": "x-rule", "trigger": "deadline_approaching", "audience": "recipient"}
    with pytest.raises(ValidationError, match="deadline"):
        NotificationRule.model_validate(base | no_lead)
    one = base | {"id": "twice", "trigger": "ledger_alarm", "audience": "roles", "roles": ["operator"]}
    with pytest.raises(ValidationError, match="unique"):
        NotificationRules.model_validate({"rules": [one, one]})


def test_a_mail_for_a_protected_b_message_holds_neither_its_title_nor_its_body() -> None:
    mail = mailed(row(PROTECTED_B, title="Courier R. Example", body="He lands at YVR at 06:10."))
    text = mail.get_body(("plain",)).get_content()
    assert "Courier R. Example" not in text and "YVR" not in text
    assert "Courier" not in str(mail["Subject"])
    assert f"http://127.0.0.1:8402/messages/{FACTS['message']}" in text
    assert "immediate" in str(mail["Subject"]) and "NCB" in str(mail["Subject"])


def test_a_mail_carries_a_message_only_up_to_the_configured_marking_and_tlp() -> None:
    assert may_carry_content(settings(), json.loads(row(CLEAR).content))
    assert not may_carry_content(settings(), json.loads(row(PROTECTED_B).content))
    wider = settings(smtp_max_marking=CommonLevel.RESTRICTED, smtp_max_tlp=Tlp.AMBER)
    assert may_carry_content(wider, json.loads(row(PROTECTED_B).content))
    assert not may_carry_content(wider, json.loads(row(PROTECTED_B | {"tlp": "RED"}).content))
    assert not may_carry_content(wider, {"title": "no handling at all"})
    text = mailed(row(CLEAR, title="Seizure at the port")).get_body(("plain",)).get_content()
    assert "Seizure at the port" in text and "Please confirm." in text


def test_no_title_or_name_with_line_breaks_reaches_a_mail_header() -> None:
    title = "Seizure\r\nBcc: attacker@evil.example\n\nInjected body"
    to = Addressee("Duty\r\nCc: other@evil.example", "duty@cbsa.example", Language.FR)
    mail = mailed(row(CLEAR, title=title), to)
    assert mail["Bcc"] is None and mail["Cc"] is None
    assert "evil" not in str(mail["Subject"]) and str(mail["To"]).endswith("<duty@cbsa.example>")
    assert mail["Content-Language"] == "fr" and "immédiate" in str(mail["Subject"])
    assert "Seizure Bcc: attacker@evil.example Injected body" in mail.get_body(("plain",)).get_content()
    assert one_line("a\u2028b\x85c\td") == "a b c d"


@pytest.mark.parametrize(
    "address", ["no-at-sign", "a@b", "two@@at.example", "a b@c.example", "a@b.example\r\nBcc: c@d.example", ".a@b.ca"]
)
def test_an_officer_address_that_is_not_a_plain_mailbox_is_refused(address: str) -> None:
    with pytest.raises(InvalidInput):
        checked_email(address)
    assert checked_email(" j.doe+duty@cbsa-asfc.gc.ca ") == "j.doe+duty@cbsa-asfc.gc.ca"

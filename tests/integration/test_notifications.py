"""Notifications between two real nodes and a real SMTP server (aiosmtpd on loopback): who is told of what (duty
officers, reviewers, operators), in the app and by mail in their language, never a protected message's content in a
mail, never anyone who may not read the message, mutes of optional rules only, and mail that waits out a relay's
outage instead of being lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from accord.ledger.alarms import AlarmKind, raise_alarm
from accord.store.tables import notification_mail, notifications
from tests.conftest import databases_for
from tests.integration.nodes import (
    PASSWORD,
    PairTemplates,
    RunningNode,
    ask_and_answer,
    draft,
    running_pair,
    wait_for,
)
from tests.integration.smtp_server import LocalSmtp, Received
from tests.integration.test_web_sessions import csrf_of, sign_in

CBSA_DUTY = "cbsa.duty@cbsa.example"
NIGHT_DESK = "night.desk@cbsa.example"  # a CBSA duty officer cleared to Restricted only, reading in French
LEGAL = "legal@ps.example"
INDIAN_LAW = "DPDP Act 2023 s.17(1)(c); India–Canada arrangement"
PROTEST = "The courier was seen at the protest."  # held by Canada's neutrality screen


@pytest.fixture(scope="module")
def smtp() -> Iterator[LocalSmtp]:
    server = LocalSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nodes(
    templates: PairTemplates, tmp_path_factory: pytest.TempPathFactory, smtp: LocalSmtp
) -> Iterator[tuple[RunningNode, RunningNode]]:
    """A pair (on SQLite: the notifier's rules decide the same on either store) mailing through `smtp`, with
    CBSA's duty desk and a legal officer given addresses by the operator's commands."""
    root = tmp_path_factory.mktemp("notified")
    databases = databases_for("sqlite", root)
    env = smtp.env() | {
        "ACCORD_NOTIFY_POLL_S": "0.05",
        "ACCORD_NOTIFY_DEADLINE_SCAN_S": "0.2",
        "ACCORD_SMTP_RETRY_BASE_S": "0.3",
        "ACCORD_SMTP_RETRY_MAX_S": "0.6",
        "ACCORD_SMTP_TIMEOUT_S": "2",
    }
    with running_pair(templates, databases, root, env=env, offset_clock=True) as (ca, in_):
        night = ["--username", "ca.cbsa.night", "--agency", "CBSA", "--name", "Night Desk", "--role", "officer"]
        night += ["--clearance", "restricted", "--duty", "--email", NIGHT_DESK, "--language", "fr", "--password-stdin"]
        commands = [
            (["officer", "email", "ca.cbsa", CBSA_DUTY], None),
            (["officer", "duty", "ca.cbsa", "on"], None),
            (["officer", "email", "ca.legal", LEGAL], None),
            (["officer", "add", *night], PASSWORD),
        ]
        with ThreadPoolExecutor(len(commands)) as pool:  # each opens the node: side by side, not one after another
            done = list(pool.map(lambda c: ca.run_accord(*c[0], "--data", str(ca.data_dir), input=c[1]), commands))
        assert [d.returncode for d in done] == [0] * len(commands), [d.stderr for d in done]
        yield ca, in_
    databases.drop_all()


def from_india(in_: RunningNode, **overrides: Any) -> str:
    """An immediate alert from India's NCB to CBSA, marked Restricted / TLP:AMBER; override any field."""
    alert = draft(
        kind="alert",
        priority="immediate",
        recipient_agency="CBSA",
        handling={"classification": "Restricted", "tlp": "AMBER", "caveats": ["H0"]},
        legal_basis=INDIAN_LAW,
        title="Container MSKU 7702 to Vancouver",
        body="The consignee of the acetic anhydride has no import licence; the container lands at Vancouver tomorrow.",
    )
    with in_.client("in.ncb") as ncb:
        sent = ncb.post("/api/v1/messages", json=alert | overrides)
    assert sent.status_code == 201, sent.text
    assert sent.json()["delivery"]["state"] == "queued", sent.json()["policy"]
    message_id: str = sent.json()["id"]
    return message_id


def mail_about(smtp: LocalSmtp, address: str, message_id: str) -> Received:
    """The one mail `address` received about the message (waited for)."""
    found = wait_for(lambda: [r for r in smtp.mailbox.to(address) if message_id in r.text], timeout_s=20)
    assert len(found) == 1, [r.text for r in found]
    received: Received = found[0]
    return received


def notified(node: RunningNode, username: str, **params: Any) -> dict[str, Any]:
    with node.client(username) as client:
        listed = client.get("/api/v1/notifications", params=params)
    assert listed.status_code == 200, listed.text
    body: dict[str, Any] = listed.json()
    return body


def notices_about(node: RunningNode, username: str, message_id: str) -> list[dict[str, Any]]:
    return [n for n in notified(node, username, limit=200)["notifications"] if n["message_id"] == message_id]


def test_an_immediate_alert_from_india_reaches_the_cbsa_duty_desk_by_mail_with_a_link_and_not_its_content(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    ca, in_ = nodes
    message_id = from_india(in_)
    mail = mail_about(smtp, CBSA_DUTY, message_id)
    assert f"{ca.url}/messages/{message_id}" in mail.text
    assert "MSKU 7702" not in mail.text and "licence" not in mail.text, "a Restricted message never travels by mail"
    assert "MSKU" not in str(mail.mail["Subject"])
    assert "immediate" in str(mail.mail["Subject"]) and "NCB" in str(mail.mail["Subject"])
    assert mail.recipients == [CBSA_DUTY] and mail.mail["Auto-Submitted"] == "auto-generated"

    french = mail_about(smtp, NIGHT_DESK, message_id)  # the night desk reads Accord in French
    assert french.mail["Content-Language"] == "fr" and "immédiate" in french.text
    assert notices_about(ca, "ca.cbsa", message_id)[0]["rule"] == "pressing-request"
    assert not notices_about(ca, "ca.rcmp", message_id), "only the recipient agency's duty officers"


def test_a_message_above_an_officers_clearance_is_never_notified_to_them(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    ca, in_ = nodes
    secret = from_india(in_, handling={"classification": "Confidential", "tlp": "AMBER", "caveats": ["H0"]})
    mail_about(smtp, CBSA_DUTY, secret)
    assert notices_about(ca, "ca.cbsa", secret)
    assert not [r for r in smtp.mailbox.to(NIGHT_DESK) if secret in r.text]
    assert not notices_about(ca, "ca.cbsa.night", secret), "not even in the app, nor in the unread count"
    with ca.engine.connect() as conn:
        rows = conn.execute(select(notifications.c.officer_id).where(notifications.c.message_id == secret)).all()
    assert len(rows) == 1


def test_an_unclassified_clear_message_is_mailed_with_its_text_but_no_header_can_be_injected(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    _, in_ = nodes
    title = "Seizure at Nhava Sheva\r\nBcc: attacker@evil.example\r\n\r\nextra part"
    message_id = from_india(
        in_,
        handling={"classification": "Unclassified", "tlp": "CLEAR", "caveats": ["H0"]},
        title=title,
        body="Twelve drums of acetic anhydride.\r\nDetails follow.",
    )
    mail = mail_about(smtp, CBSA_DUTY, message_id)
    assert mail.recipients == [CBSA_DUTY], "no recipient smuggled in by the title"
    assert mail.mail["Bcc"] is None and "attacker" not in str(mail.mail["Subject"])
    assert set(mail.mail.keys()) == {
        "Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted", "Content-Language",
        "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
    }  # fmt: skip
    assert "Seizure at Nhava Sheva Bcc: attacker@evil.example extra part" in mail.text, "the title, as one line"
    assert "Twelve drums of acetic anhydride.\nDetails follow." in mail.text


def test_an_officer_mutes_an_optional_rule_but_never_a_mandatory_one(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    ca, in_ = nodes
    with ca.client("ca.cbsa") as cbsa:
        muted = cbsa.put("/api/v1/me/notifications", json={"muted": ["routine-message"]})
        assert muted.status_code == 200, muted.text
        refused = cbsa.put("/api/v1/me/notifications", json={"muted": ["routine-message", "pressing-request"]})
        assert refused.status_code == 422
        assert refused.json()["type"] == "urn:accord:problem:mandatory-notification"
        assert "pressing-request" in refused.json()["detail"]
        unknown = cbsa.put("/api/v1/me/notifications", json={"muted": ["no-such-rule"]})
        assert unknown.status_code == 422 and unknown.json()["type"].endswith("unknown-notification-rule")
        rules = {r["rule"]: r for r in cbsa.get("/api/v1/me/notifications").json()["rules"]}
    assert rules["routine-message"]["muted"] and rules["routine-message"]["optional"]
    assert not rules["pressing-request"]["muted"] and not rules["pressing-request"]["optional"]

    routine = from_india(in_, priority="routine", kind="request", title="Routine check of a licence")
    mail_about(smtp, NIGHT_DESK, routine)  # the other duty officer hears of it: the notifier has seen it
    assert notices_about(ca, "ca.cbsa.night", routine)
    assert not notices_about(ca, "ca.cbsa", routine)
    assert not [r for r in smtp.mailbox.to(CBSA_DUTY) if routine in r.text]


def test_mail_waits_out_the_relays_outage_and_is_sent_once_it_is_back(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    ca, in_ = nodes
    smtp.stop()
    try:
        message_id = from_india(in_, title="Sent while the relay is down")

        def failed_attempt() -> Any:
            with ca.engine.connect() as conn:
                return conn.execute(
                    select(notification_mail)
                    .join(notifications, notifications.c.id == notification_mail.c.notification_id)
                    .where(notifications.c.message_id == message_id, notification_mail.c.address == CBSA_DUTY)
                    .where(notification_mail.c.attempts >= 1)
                ).first()

        waiting = wait_for(failed_attempt, timeout_s=20)
        assert waiting.sent_at is None and waiting.last_error and waiting.next_attempt_at is not None
    finally:
        smtp.start()
    mail = mail_about(smtp, CBSA_DUTY, message_id)

    def settled() -> Any:  # the relay records the mail once its session has ended
        with ca.engine.connect() as conn:
            found = conn.execute(select(notification_mail).where(notification_mail.c.id == waiting.id)).one()
        return found if found.sent_at is not None else None

    row = wait_for(settled, timeout_s=10)
    assert row.smtp_message_id == mail.mail["Message-ID"] and row.next_attempt_at is None and row.attempts >= 2


def test_the_api_lists_notifications_newest_first_a_page_at_a_time_and_marks_them_read(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    ca, in_ = nodes
    first, second = from_india(in_, title="First"), from_india(in_, title="Second")
    mail_about(smtp, CBSA_DUTY, second)
    mail_about(smtp, CBSA_DUTY, first)
    page = notified(ca, "ca.cbsa", limit=1)
    assert page["notifications"][0]["message_id"] == second and page["next_before"]
    assert page["notifications"][0]["link"] == f"/messages/{second}"
    assert "MSKU" not in json.dumps(page) and "Second" not in json.dumps(page), "a notice never holds the content"
    older = notified(ca, "ca.cbsa", limit=1, before=page["next_before"])
    assert older["notifications"][0]["message_id"] == first
    unread = page["unread"]
    notice = page["notifications"][0]["id"]
    with ca.client("ca.cbsa") as cbsa, ca.client("ca.rcmp") as rcmp:
        assert rcmp.post(f"/api/v1/notifications/{notice}/read").status_code == 404, "only one's own"
        read = cbsa.post(f"/api/v1/notifications/{notice}/read")
        assert read.status_code == 200 and read.json()["id"] == notice
        again = cbsa.post(f"/api/v1/notifications/{notice}/read")
        assert again.json()["read_at"] == read.json()["read_at"]
    after = notified(ca, "ca.cbsa", limit=1)
    assert after["unread"] == unread - 1 and after["notifications"][0]["read_at"] is not None
    assert notified(ca, "ca.cbsa", unread="true", limit=200)["notifications"][0]["id"] != notice

    client, _ = sign_in(ca, "ca.cbsa")
    try:
        shown = client.get("/notifications")
        assert shown.status_code == 200 and f'data-notification="{notice}"' in shown.text
        assert f'title="unread notifications">{unread - 1}</span>' in shown.text  # the bell in the header
        assert f"{unread - 1} unread" in shown.text
        form = client.get("/notifications/settings")
        assert "Routine messages to your agency" in form.text and "Work-plan proposals" not in form.text
        saved = client.post("/notifications/settings", data={"csrf": csrf_of(form), "hear": ["routine-message"]})
        assert saved.status_code == 303  # unticked: answers to their requests
    finally:
        client.close()
    with ca.client("ca.cbsa") as cbsa:
        rules = {r["rule"]: r["muted"] for r in cbsa.get("/api/v1/me/notifications").json()["rules"]}
    assert rules["response-received"] and not rules["routine-message"] and not rules["pressing-request"]
    assert not rules["workplan-proposal"], "a rule not shown to them keeps its setting"


def test_held_disclosures_notify_the_reviewers_who_may_decide_them_and_the_mail_holds_no_protected_content(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    ca, _ = nodes
    with ca.client("ca.rcmp") as rcmp, ca.client("ca.legal") as legal:
        urgent = rcmp.post("/api/v1/messages", json=draft(priority="urgent", body=PROTEST, title="Courier R."))
        routine = rcmp.post("/api/v1/messages", json=draft(body=PROTEST))
        assert urgent.json()["delivery"]["state"] == routine.json()["delivery"]["state"] == "held"
        urgent_id, routine_id = urgent.json()["id"], routine.json()["id"]
        mail = mail_about(smtp, LEGAL, urgent_id)  # a Protected B disclosure
        assert PROTEST not in mail.text and "Courier R." not in mail.text
        assert f"{ca.url}/reviews" in mail.text
        # The notifier tells each reviewer in its own round: the mail above does not mean the other notices are in.
        deputy = wait_for(lambda: notices_about(ca, "ca.deputy", urgent_id))
        assert deputy, "the deputy head decides level 1 reviews too"
        assert wait_for(lambda: notices_about(ca, "ca.rcmp.lawyer", urgent_id)), (
            "a reviewer without an address: in the app"
        )
        assert not notices_about(ca, "ca.rcmp", urgent_id) and not notices_about(ca, "ca.coord", urgent_id)
        assert wait_for(lambda: notices_about(ca, "ca.legal", routine_id)), "a routine hold: in the app"
        assert not [r for r in smtp.mailbox.to(LEGAL) if routine_id in r.text], "…and not by mail"

        mailed = smtp.mailbox.to(LEGAL)
        escalated = legal.post(f"/api/v1/reviews/{urgent_id}", json={"action": "escalate", "reason": "Deputy."})
        assert escalated.status_code == 200, escalated.text
    escalation = wait_for(lambda: [n for n in notices_about(ca, "ca.deputy", urgent_id) if n["id"] != deputy[0]["id"]])
    assert "deputy head" in escalation[0]["headline"], "level 2: the deputy head decides"
    assert len(notices_about(ca, "ca.legal", urgent_id)) == 1 and len(smtp.mailbox.to(LEGAL)) == len(mailed)


def test_a_ledger_alarm_is_told_to_operators_and_oversight(nodes: tuple[RunningNode, RunningNode]) -> None:
    ca, _ = nodes
    raise_alarm(ca.engine, ca.node_id, "accord/in-node-1", AlarmKind.SPLIT_VIEW, "two roots for size 9", {})
    notice = wait_for(lambda: notified(ca, "ca.operator")["notifications"])[0]
    assert notice["rule"] == "ledger-alarm" and notice["link"] == "/audit"
    assert all(n["rule"] != "ledger-alarm" for n in notified(ca, "ca.cbsa", limit=200)["notifications"])


def test_an_unanswered_request_is_notified_as_its_deadline_draws_near(
    nodes: tuple[RunningNode, RunningNode], smtp: LocalSmtp
) -> None:
    """Last in the module: it runs Canada's clock ahead."""
    ca, in_ = nodes
    message_id = from_india(in_, kind="request", recipient_officer="ca.cbsa", title="Answer within four hours")
    mail_about(smtp, CBSA_DUTY, message_id)
    assert not [n for n in notices_about(ca, "ca.cbsa", message_id) if n["rule"] == "deadline-approaching"]
    ca.run_clock_ahead(3.25 * 3600)  # an immediate request's 4 hours: a quarter is left
    warned = wait_for(
        lambda: [n for n in notices_about(ca, "ca.cbsa", message_id) if n["rule"] == "deadline-approaching"]
    )
    assert datetime.fromisoformat(warned[0]["deadline"]) > datetime.now(UTC)
    assert not [n for n in notices_about(ca, "ca.cbsa.night", message_id) if n["rule"] == "deadline-approaching"]


def test_an_answer_is_told_to_the_officer_who_asked_and_a_burst_of_arrivals_to_its_recipients(
    nodes: tuple[RunningNode, RunningNode],
) -> None:
    """The notifier reads a run of arrivals together: each answer still names the officer whose request it answers,
    and each of several alerts arriving at once reaches the duty desk once."""
    ca, in_ = nodes
    answer = {"handling": {"classification": "Restricted"}, "title": "Re: consignee", "body": "Licence valid."}
    _, answer_id = ask_and_answer(ca, in_, "Consignee of the MSKU 7702 container", answer)
    alerts = [from_india(in_, title=f"Container MSKU 77{n:02d} to Vancouver") for n in range(5)]
    told = wait_for(lambda: notices_about(ca, "ca.rcmp", answer_id))
    assert [n["trigger"] for n in told] == ["message_received"]
    assert not notices_about(ca, "ca.rcmp.lawyer", answer_id), "the officer who asked, not the whole agency"
    for alert in alerts:
        wait_for(lambda alert=alert: notices_about(ca, "ca.cbsa", alert))
        arrivals = [n for n in notices_about(ca, "ca.cbsa", alert) if n["trigger"] == "message_received"]
        assert len(arrivals) == 1, arrivals

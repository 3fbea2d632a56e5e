"""What an officer hears of: every rule with whether it is optional and whether they muted it; muting replaces the
officer's choice as a whole, and a mandatory rule is refused before anything is stored."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from accord.directory.officers import Officer
from accord.domain.notification_rules import Audience, NotificationRule
from accord.exchange.review import may_review
from accord.i18n import _
from accord.node import Node
from accord.notifications.errors import MandatoryNotification, UnknownNotificationRule
from accord.notifications.rules import notification_rules
from accord.store.tables import notification_mutes


@dataclass(frozen=True, slots=True)
class RuleSetting:
    rule: NotificationRule
    muted: bool
    concerns: bool  # whether the rule can reach the officer at all (a reviewers' rule, a non-reviewer: no)


def concerns(rule: NotificationRule, officer: Officer) -> bool:
    match rule.audience:
        case Audience.REVIEWERS:
            return may_review(officer)
        case Audience.ROLES:
            return bool({role.value for role in officer.roles} & set(rule.roles))
    return True  # a message's audiences: any officer of an agency may be on its desk


def notification_settings(node: Node, officer: Officer) -> list[RuleSetting]:
    with node.engine.connect() as conn:
        muted = set(
            conn.execute(
                select(notification_mutes.c.rule).where(notification_mutes.c.officer_id == officer.id)
            ).scalars()
        )
    return [
        RuleSetting(rule, rule.optional and rule.id in muted, concerns(rule, officer))
        for rule in notification_rules().rules
    ]


def set_muted(node: Node, officer: Officer, muted: Collection[str]) -> list[RuleSetting]:
    """Mute exactly the optional rules in `muted` for the officer (and unmute the rest)."""
    optional = {rule.id: rule.optional for rule in notification_rules().rules}
    unknown = sorted(rule_id for rule_id in muted if rule_id not in optional)
    if unknown:
        raise UnknownNotificationRule(
            _("no notification rule {unknown}; the rules are {known}").format(
                unknown=", ".join(unknown), known=", ".join(optional)
            )
        )
    mandatory = sorted(rule_id for rule_id in muted if not optional[rule_id])
    if mandatory:
        raise MandatoryNotification(
            _("{rules} cannot be muted: they are mandatory; only {choices} can be").format(
                rules=", ".join(mandatory), choices=", ".join(r for r, ok in optional.items() if ok)
            )
        )
    now = node.clock.now()
    with node.engine.begin() as conn:
        conn.execute(delete(notification_mutes).where(notification_mutes.c.officer_id == officer.id))
        if muted:
            conn.execute(
                insert(notification_mutes),
                [{"officer_id": officer.id, "rule": rule_id, "muted_at": now} for rule_id in sorted(set(muted))],
            )
    return notification_settings(node, officer)

"""Who a rule tells of an occurrence: the officers of its audience who may read what it is about (need-to-know
first, by the same read policy as the inbox), and who have not muted an optional rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, select

from accord.directory.officers import Officer, officer_from_row
from accord.domain.notification_rules import Audience, NotificationRule
from accord.exchange.mailbox import read_attributes, readable_by
from accord.node import Node
from accord.notifications.occurrences import Occurrence
from accord.store.tables import notification_mutes, officers


def active_officers(node: Node, conn: Connection) -> list[Officer]:
    rows = conn.execute(
        select(officers)
        .where(officers.c.party == node.party.value, officers.c.active.is_(True))
        .order_by(officers.c.id)
    ).all()
    return [officer_from_row(row) for row in rows]


def audience_of(node: Node, rule: NotificationRule, occurrence: Occurrence, staff: Sequence[Officer]) -> list[Officer]:
    """The officers `rule` tells of `occurrence`, out of the node's active `staff`.

    An audience is a list of tiers, the first that holds someone who may read the message wins: a named officer, then
    the agency's duty officers, then all its officers, so that nothing pressing reaches nobody because the officer it
    names cannot read it or nobody of the agency is on duty."""
    may_read = _reader_check(node, occurrence)
    for tier in _tiers(rule, occurrence, staff):
        told = [officer for officer in tier if officer.username not in occurrence.excluded and may_read(officer)]
        if told:
            return told
    return []


def _tiers(rule: NotificationRule, occurrence: Occurrence, staff: Sequence[Officer]) -> list[list[Officer]]:
    of_agency = [o for o in staff if o.agency == occurrence.agency]
    on_duty = [o for o in of_agency if o.duty]
    match rule.audience:
        case Audience.DUTY_OFFICERS:
            return [on_duty, of_agency]
        case Audience.RECIPIENT | Audience.REQUESTER:
            return [[o for o in staff if o.username == occurrence.named], on_duty, of_agency]
        case Audience.REVIEWERS:
            return [[o for o in staff if {r.value for r in o.roles} & occurrence.roles]]
        case Audience.ROLES:
            return [[o for o in staff if {r.value for r in o.roles} & set(rule.roles)]]


def _reader_check(node: Node, occurrence: Occurrence) -> Callable[[Officer], bool]:
    if occurrence.message is None:
        return lambda officer: True
    message = occurrence.message

    @cache  # the inbox's rule; the message's attributes read once, and only if someone is to be checked
    def held() -> list[tuple[str, dict[str, Any], Row[Any]]]:
        return [(message.id, read_attributes(node, message), message)]

    return lambda officer: bool(readable_by(node, officer, held()))


def mutes(conn: Connection) -> dict[str, set[str]]:
    """Who muted what: the officers (by id) by rule id, read once for a round of notices."""
    found: defaultdict[str, set[str]] = defaultdict(set)
    for rule_id, officer_id in conn.execute(select(notification_mutes.c.rule, notification_mutes.c.officer_id)):
        found[rule_id].add(officer_id)
    return found


def muted_by(muted: Mapping[str, set[str]], rule: NotificationRule) -> set[str]:
    """The officers (by id) who muted `rule`, out of `mutes`; nobody, for a mandatory rule (a mute left from when it
    was optional does not count)."""
    return muted.get(rule.id, set()) if rule.optional else set()

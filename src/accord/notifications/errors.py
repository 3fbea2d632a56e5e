"""Errors of the notifications service."""

from __future__ import annotations

from accord.errors import InvalidInput, NotFound
from accord.i18n import N_


class MandatoryNotification(InvalidInput):
    slug = "mandatory-notification"
    title = N_("A mandatory notification cannot be muted")


class UnknownNotificationRule(InvalidInput):
    slug = "unknown-notification-rule"
    title = N_("No such notification rule")


class UnknownNotification(NotFound):
    slug = "unknown-notification"
    title = N_("No such notification of yours")

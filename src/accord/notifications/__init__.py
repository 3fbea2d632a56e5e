"""Notifications to officers: who is told of what is data (data/notifications/rules.yaml); the notifier follows the
ledger and tells each rule's audience, under need-to-know, in the app and by mail through the agency's relay."""

from accord.notifications.listing import (
    NotificationPage,
    ShownNotification,
    list_notifications,
    mark_all_read,
    mark_read,
    unread_count,
)
from accord.notifications.preferences import RuleSetting, notification_settings, set_muted
from accord.notifications.rules import notification_rules
from accord.notifications.worker import notify_deadlines, notify_new_events, run_notifier

__all__ = [
    "NotificationPage",
    "RuleSetting",
    "ShownNotification",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "notification_rules",
    "notification_settings",
    "notify_deadlines",
    "notify_new_events",
    "run_notifier",
    "set_muted",
    "unread_count",
]

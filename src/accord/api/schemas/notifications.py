"""Notifications as the API answers them: an officer's list (newest first, paged), one marked read, and the rules
an officer may mute."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.domain.notification_rules import Channel, Trigger
from accord.http.openapi import vocabulary


class NotificationView(ApiModel):
    id: str
    rule: str = Field(description="the rule it was made under (GET /api/v1/me/notifications lists them)")
    trigger: Trigger
    headline: str = Field(description="what happened, in the reader's language; never a message's content")
    details: list[str]
    link: str = Field(description="where to act, below the node's web address")
    deadline: datetime | None
    message_id: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationList(ApiModel):
    notifications: list[NotificationView]
    next_before: str | None = Field(description="the cursor of the next (older) page; null: this is the last")
    unread: int = Field(description="unread notifications (counted up to 100)")


class NotificationRead(ApiModel):
    id: str
    read_at: datetime


class AllRead(ApiModel):
    marked: int = Field(description="how many notifications were unread")


class RuleSettingView(ApiModel):
    rule: str
    title: str
    description: str
    trigger: Trigger
    channels: list[Channel]
    optional: bool = Field(description="whether it may be muted; a mandatory rule cannot be")
    muted: bool
    concerns: bool = Field(description="whether it can reach this officer at all, by their roles")


class NotificationSettings(ApiModel):
    rules: list[RuleSettingView]


# The optional rules of this node's rule file: a mandatory rule is not a value the body may hold.
OptionalRule = Annotated[str, Field(max_length=64, json_schema_extra=vocabulary("optional-notification-rule"))]


class MutedRules(ApiModel):
    muted: list[OptionalRule] = Field(
        max_length=64, description="the ids of the optional rules to mute; every other is heard"
    )

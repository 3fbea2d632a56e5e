"""Who is told of what (data/notifications/rules.yaml): each rule names a trigger, the messages it covers, an audience,
the channels it uses and whether an officer may mute it. Pure values and the arithmetic of a deadline's warning."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.domain.messages import MessageKind, Priority


class Trigger(StrEnum):
    """What happened at the node that someone must hear of."""

    MESSAGE_RECEIVED = "message_received"  # a message from the peer arrived
    DEADLINE_APPROACHING = "deadline_approaching"  # a received message's response deadline draws near, unanswered
    DISCLOSURE_HELD = "disclosure_held"  # the pack held an outgoing disclosure for review (or it was escalated)
    PROPOSAL_RECEIVED = "proposal_received"  # the peer proposed a change to the shared work plan
    LEDGER_ALARM = "ledger_alarm"  # the ledger raised an alarm (a split view, a truncated log, a collision)


class Audience(StrEnum):
    DUTY_OFFICERS = "duty_officers"  # the recipient agency's officers on duty (all its officers if none is)
    RECIPIENT = "recipient"  # the officer the message names, else the recipient agency's duty officers
    REQUESTER = "requester"  # the officer whose message this answers, else the recipient agency's duty officers
    REVIEWERS = "reviewers"  # those who may decide the hold at its level (not its drafter or editors: four eyes)
    ROLES = "roles"  # every officer of this node with one of `roles`


class Channel(StrEnum):
    APP = "app"  # the bell in the page header, /notifications and GET /api/v1/notifications
    EMAIL = "email"  # through the agency's SMTP relay, to the officer's address


class DeadlineWarning(BaseModel):
    """When a deadline counts as approaching: once `share_left` of the time to answer remains, but never later than
    `at_most_hours` before it (a month-long target warns a day ahead, not a week)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    share_left: float = Field(gt=0, lt=1)
    at_most_hours: float = Field(gt=0)

    def warn_at(self, received_at: datetime, deadline: datetime) -> datetime:
        lead = min((deadline - received_at) * self.share_left, timedelta(hours=self.at_most_hours))
        return deadline - max(lead, timedelta(0))


class NotificationRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,63}$")
    title: str = Field(min_length=3, max_length=120, description="what the officer is told of, on the settings page")
    description: str = Field(min_length=3, max_length=300)
    trigger: Trigger
    kinds: tuple[MessageKind, ...] = Field(default=(), description="message kinds it covers; empty: every kind")
    priorities: tuple[Priority, ...] = Field(default=(), description="priorities it covers; empty: every priority")
    audience: Audience
    roles: tuple[str, ...] = Field(default=(), description="for the `roles` audience: the roles told")
    channels: tuple[Channel, ...] = Field(min_length=1)
    optional: bool = Field(description="whether an officer may mute it")
    deadline: DeadlineWarning | None = None

    @model_validator(mode="after")
    def _consistent(self) -> NotificationRule:
        if (self.audience is Audience.ROLES) != bool(self.roles):
            raise ValueError("`roles` names the roles told, and only for the `roles` audience")
        if (self.trigger is Trigger.DEADLINE_APPROACHING) != (self.deadline is not None):
            raise ValueError("`deadline` says when a deadline is approaching, and only for that trigger")
        return self

    def covers(self, kind: str | None, priority: str | None) -> bool:
        """Whether a message of this kind and priority falls under the rule (an event with no message: always)."""
        return (not self.kinds or kind in self.kinds) and (not self.priorities or priority in self.priorities)


class NotificationRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[NotificationRule, ...]

    @model_validator(mode="after")
    def _unique(self) -> NotificationRules:
        ids = [rule.id for rule in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicates)}")
        return self

    def for_trigger(self, trigger: Trigger) -> tuple[NotificationRule, ...]:
        return tuple(rule for rule in self.rules if rule.trigger is trigger)

    def rule(self, rule_id: str) -> NotificationRule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

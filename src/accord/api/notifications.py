"""An officer's notifications (GET /api/v1/notifications, newest first, paged; mark read) and which optional ones
they hear (GET and PUT /api/v1/me/notifications)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from accord.api.schemas.notifications import (
    AllRead,
    MutedRules,
    NotificationList,
    NotificationRead,
    NotificationSettings,
    NotificationView,
    RuleSettingView,
)
from accord.domain.official import in_language
from accord.http.dependencies import NodeDep, OfficerDep
from accord.http.openapi import BODY_PROBLEMS, OFFICER_PROBLEMS, problems
from accord.notifications import (
    RuleSetting,
    ShownNotification,
    list_notifications,
    mark_all_read,
    mark_read,
    notification_settings,
    set_muted,
)
from accord.notifications.listing import MAX_PAGE

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/notifications", responses=problems(*OFFICER_PROBLEMS))
def notifications(
    node: NodeDep,
    officer: OfficerDep,
    before: Annotated[UUID | None, Query(description="the cursor: the `next_before` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    unread: Annotated[bool, Query(description="true: unread ones only")] = False,
) -> NotificationList:
    """The officer's notifications, newest first, `limit` at a time; follow `next_before` until it is null."""
    page = list_notifications(node, officer, before=str(before) if before else None, limit=limit, unread_only=unread)
    return NotificationList(
        notifications=[_view(item) for item in page.items], next_before=page.next_before, unread=page.unread
    )


@router.post("/notifications/{notification_id}/read", responses=problems(401, 404, 422))
def read_one(
    node: NodeDep, officer: OfficerDep, notification_id: Annotated[UUID, Path(description="the notification's id")]
) -> NotificationRead:
    """Mark one of the officer's notifications read (marking it again changes nothing)."""
    return NotificationRead(id=str(notification_id), read_at=mark_read(node, officer, str(notification_id)))


@router.post("/notifications/read", responses=problems(401))
def read_all(node: NodeDep, officer: OfficerDep) -> AllRead:
    """Mark all of the officer's notifications read."""
    return AllRead(marked=mark_all_read(node, officer))


@router.get("/me/notifications", responses=problems(401))
def settings(node: NodeDep, officer: OfficerDep) -> NotificationSettings:
    """Every notification rule, whether it may be muted and whether the officer muted it."""
    return NotificationSettings(rules=[_setting(s) for s in notification_settings(node, officer)])


# 422 `mandatory-notification` for a rule that may not be muted, `unknown-notification-rule` for one that does not
# exist; either way nothing changes.
@router.put("/me/notifications", responses=problems(*BODY_PROBLEMS))
def mute(node: NodeDep, officer: OfficerDep, choice: MutedRules) -> NotificationSettings:
    """Mute exactly these optional rules (and hear every other)."""
    return NotificationSettings(rules=[_setting(s) for s in set_muted(node, officer, choice.muted)])


def _view(item: ShownNotification) -> NotificationView:
    return NotificationView(
        id=item.id,
        rule=item.rule,
        trigger=item.trigger,
        headline=item.headline,
        details=list(item.details),
        link=item.path,
        deadline=item.deadline,
        message_id=item.message_id,
        created_at=item.created_at,
        read_at=item.read_at,
    )


def _setting(setting: RuleSetting) -> RuleSettingView:
    rule = setting.rule
    return RuleSettingView(
        rule=rule.id,
        title=in_language(rule.title),
        description=in_language(rule.description),
        trigger=rule.trigger,
        channels=list(rule.channels),
        optional=rule.optional,
        muted=setting.muted,
        concerns=setting.concerns,
    )

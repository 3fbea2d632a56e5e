"""The shared work plan: objectives, actions with a lead agency on each side, and the rules a change must keep."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.domain.parties import Party

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"


class ItemKind(StrEnum):
    OBJECTIVE = "objective"
    ACTION = "action"


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


# The workflow: an action is started before it is done; done and cancelled are final (a new action reopens work).
ALLOWED_TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.PLANNED: frozenset({ActionStatus.IN_PROGRESS, ActionStatus.CANCELLED}),
    ActionStatus.IN_PROGRESS: frozenset({ActionStatus.BLOCKED, ActionStatus.DONE, ActionStatus.CANCELLED}),
    ActionStatus.BLOCKED: frozenset({ActionStatus.IN_PROGRESS, ActionStatus.CANCELLED}),
    ActionStatus.DONE: frozenset(),
    ActionStatus.CANCELLED: frozenset(),
}


class Milestone(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    due: date
    done_on: date | None = None


class ObjectiveDoc(BaseModel):
    """What both nodes hold of an objective; changed only by an accepted proposal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=4000)
    focus_area: str | None = Field(default=None, description="a focus area code; none for cross-cutting objectives")


class _ActionFields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=4000)
    leads: dict[Party, str] = Field(description="the lead agency on each side")
    due: date
    status: ActionStatus = ActionStatus.PLANNED
    milestones: tuple[Milestone, ...] = Field(default=(), max_length=50)
    linked_cases: tuple[str, ...] = Field(default=(), max_length=200)


class ActionDoc(_ActionFields):
    """What both nodes hold of an action; changed only by an accepted proposal."""

    objective: str = Field(pattern=CODE_PATTERN)


class DefaultAction(_ActionFields):
    code: str = Field(pattern=CODE_PATTERN)


class DefaultObjective(ObjectiveDoc):
    code: str = Field(pattern=CODE_PATTERN)
    actions: tuple[DefaultAction, ...] = ()


class WorkPlanDefinition(BaseModel):
    """The default plan in the agreement file; both nodes start from it, so both start identical."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: date
    objectives: tuple[DefaultObjective, ...]

    def items(self) -> list[tuple[ItemKind, str, BaseModel]]:
        """Every item as (kind, code, document), objectives before their actions."""
        found: list[tuple[ItemKind, str, BaseModel]] = []
        for objective in self.objectives:
            found.append((ItemKind.OBJECTIVE, objective.code, ObjectiveDoc(**_doc_fields(objective, ObjectiveDoc))))
            for action in objective.actions:
                fields = _doc_fields(action, ActionDoc) | {"objective": objective.code}
                found.append((ItemKind.ACTION, action.code, ActionDoc(**fields)))
        return found


def _doc_fields(model: BaseModel, doc_type: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in doc_type.model_fields if name != "objective"}


DOC_TYPES: dict[ItemKind, type[ObjectiveDoc] | type[ActionDoc]] = {
    ItemKind.OBJECTIVE: ObjectiveDoc,
    ItemKind.ACTION: ActionDoc,
}


def apply_changes(kind: ItemKind, current: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    """The document after `changes`; a new item (current None) must give every required field.

    Raises ValueError naming the offending fields when the result is not a valid document.
    """
    doc_type = DOC_TYPES[kind]
    unknown = sorted(set(changes) - set(doc_type.model_fields))
    if unknown:
        raise ValueError(f"{kind} has no field(s) {unknown}; fields: {sorted(doc_type.model_fields)}")
    merged = dict(current or {}) | changes
    return doc_type.model_validate(merged).model_dump(mode="json")


def transition_error(before: ActionStatus, after: ActionStatus) -> str | None:
    """Why the workflow forbids going from `before` to `after`, or None when it allows it."""
    if before == after or after in ALLOWED_TRANSITIONS[before]:
        return None
    allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[before])) or "nothing (it is final)"
    return f"the workflow does not let an action go from {before} to {after}; from {before} it may go to {allowed}"

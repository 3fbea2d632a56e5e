"""What a reviewer changes in a held disclosure before it leaves: caveats added, assurances recorded, and redactions
(a subject's field, a whole subject, an attachment). The same conditions make the preview, the approval and a
revision, so what the reviewer saw is what leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.domain.handling import Caveat
from accord.domain.messages import Assurance, Message
from accord.errors import InvalidInput
from accord.i18n import _

REMOVABLE_FIELDS = frozenset({"name", "date_of_birth", "nationality", "identifiers", "aliases", "role"})
_EMPTIED = {"identifiers": (), "aliases": ()}  # list fields become empty, the others absent


class ReviewConditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    add_caveats: tuple[Caveat, ...] = ()
    remove_fields: tuple[str, ...] = Field(default=(), max_length=200, description="e.g. 'subjects[0].date_of_birth'")
    remove_subjects: tuple[int, ...] = Field(default=(), max_length=200, description="subjects left out, by index")
    remove_attachments: tuple[str, ...] = Field(
        default=(), max_length=50, description="attachments left out, by sha256"
    )
    assurance: Assurance | None = None
    assurances: tuple[Assurance, ...] = Field(default=(), max_length=10)

    @model_validator(mode="after")
    def _assurances_already_given(self) -> ReviewConditions:
        today = datetime.now(UTC).date() + timedelta(days=1)  # a day's grace: the other state's date may be ahead
        late = [a.reference for a in self.recorded_assurances if a.issued_on > today]
        if late:
            raise ValueError(f"an assurance is recorded once given; {late[0]} is dated in the future")
        return self

    @property
    def recorded_assurances(self) -> tuple[Assurance, ...]:
        return ((self.assurance,) if self.assurance else ()) + self.assurances

    @property
    def empty(self) -> bool:
        return self == ReviewConditions()


def apply_conditions(message: Message, conditions: ReviewConditions) -> Message:
    """The message as it would leave with the conditions; indexes and names refer to the message as it is held."""
    subjects: list[dict[str, Any]] = [s.model_dump() for s in message.subjects]
    for path in conditions.remove_fields:
        index, name = field_path(path, len(subjects))
        subjects[index][name] = _EMPTIED.get(name)
    for index in conditions.remove_subjects:
        if not 0 <= index < len(subjects):
            raise InvalidInput(
                _("subject {index} cannot be removed: the message has {count} subjects").format(
                    index=index, count=len(subjects)
                )
            )
    kept = [s for i, s in enumerate(subjects) if i not in set(conditions.remove_subjects)]
    held = {a.sha256 for a in message.attachments}
    unknown = [sha for sha in conditions.remove_attachments if sha not in held]
    if unknown:
        raise InvalidInput(_("the message carries no attachment {unknown}").format(unknown=unknown[0]))
    attachments = [a.model_dump() for a in message.attachments if a.sha256 not in set(conditions.remove_attachments)]
    handling = message.handling.model_copy(
        update={"caveats": tuple(dict.fromkeys(message.handling.caveats + conditions.add_caveats))}
    )
    recorded = tuple(a.model_dump() for a in message.assurances + conditions.recorded_assurances)
    return Message.model_validate(
        message.model_dump()
        | {
            "subjects": kept,
            "attachments": attachments,
            "handling": handling.model_dump(),
            "assurances": tuple({repr(sorted(a.items())): a for a in recorded}.values()),
        }
    )


def field_path(path: str, count: int) -> tuple[int, str]:
    """`subjects[N].<field>` as (N, field), or a clear error."""
    head, _sep, name = path.partition(".")
    if not head.startswith("subjects[") or not head.endswith("]") or name not in REMOVABLE_FIELDS:
        raise InvalidInput(
            _("{path!r}: fields are removed as subjects[N].<{join}>").format(
                path=path, join="|".join(sorted(REMOVABLE_FIELDS))
            )
        )
    try:
        index = int(head[len("subjects[") : -1])
    except ValueError as exc:
        raise InvalidInput(_("{path!r}: N must be a number").format(path=path)) from exc
    if not 0 <= index < count:
        raise InvalidInput(_("{path!r}: the message has {count} subjects").format(path=path, count=count))
    return index, name


def removed_by(message: Message, conditions: ReviewConditions) -> list[str]:
    """What the redactions leave out, in words (for the preview and the decision's record); the conditions are
    valid for the message (`apply_conditions` accepted them)."""
    dropped = set(conditions.remove_subjects)
    gone = [f"the whole of {_label(message, i)}" for i in sorted(dropped)]
    for path in conditions.remove_fields:
        index, name = field_path(path, len(message.subjects))
        if index not in dropped:
            gone.append(f"the {name.replace('_', ' ')} of {_label(message, index)}")
    names = {a.sha256: a.name for a in message.attachments}
    gone += [f"attachment {names[sha]}" for sha in conditions.remove_attachments]
    return gone


def _label(message: Message, index: int) -> str:
    subject = message.subjects[index]
    role = f", {subject.role}" if subject.role else ""
    return f"{subject.name or 'subject ' + str(index + 1)} ({subject.kind.value}{role})"

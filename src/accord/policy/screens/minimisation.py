"""Minimisation: personal data the stated purpose does not need — identifiers of victims and witnesses, and lists of
persons. The persons a disclosure describes are counted across its subjects, its title and body, and its attachments
(counted by the send path, which reads them; see `AttachmentPersons`); above the pack's threshold, or with an
attachment that could not be read, the message waits for a legal officer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from accord.domain.messages import Message, SubjectKind
from accord.i18n import N_
from accord.policy.language import name_key
from accord.policy.persons import person_records
from accord.policy.screens.contribution import Contribution
from accord.policy.screens.neutrality import network_free_text

# Why an attachment was not counted, when the send path gathered nothing for it: recorded in English, translated
# where shown.
NOT_READ = N_("its contents were not read before the decision")


class MinimisationRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    roles_without_identifiers: tuple[str, ...] = ()
    # Persons one disclosure may describe before it is a list that hit/no-hit matching should carry instead.
    max_persons: int = Field(default=10, ge=1, le=10_000)


@dataclass(frozen=True, slots=True)
class AttachmentPersons:
    """What the send path found in one attachment: the person records it holds, or why it could not be read."""

    sha256: str
    name: str
    persons: int = 0
    not_screened: str | None = None  # why the attachment could not be counted (then `persons` is what was counted)

    @property
    def screened(self) -> bool:
        return self.not_screened is None


def screen_minimisation(
    message: Message, rules: MinimisationRules, attachments: tuple[AttachmentPersons, ...] | None
) -> Contribution:
    """`attachments`: the counts the send path gathered, one per attachment; None when it gathered none (then every
    attachment the message carries counts as not screened)."""
    flagged = []
    for index, subject in enumerate(message.subjects):
        role = (subject.role or "").casefold()
        if role in rules.roles_without_identifiers and subject.identifiers:
            flagged.append(f"subjects[{index}].identifiers ({role})")
        if role in rules.roles_without_identifiers and subject.date_of_birth:
            flagged.append(f"subjects[{index}].date_of_birth ({role})")
    counted = {a.sha256: a for a in attachments or ()}
    per_attachment = [
        counted.get(a.sha256) or AttachmentPersons(a.sha256, a.name, 0, NOT_READ) for a in message.attachments
    ]
    subjects = sum(1 for s in message.subjects if s.kind is SubjectKind.PERSON) + _network_persons_unnamed(message)
    in_text = person_records().count_text("\n".join([message.title, message.body, *network_free_text(message)]))
    in_attachments = sum(a.persons for a in per_attachment)
    total = subjects + in_text + in_attachments
    unscreened = [a for a in per_attachment if not a.screened]
    bulk: dict[str, Any] | None = None
    if total > rules.max_persons:
        bulk = {
            "persons": total,
            "threshold": rules.max_persons,
            "subjects": subjects,
            "title_and_body": in_text,
            "attachments": {a.name: a.persons for a in per_attachment if a.persons},
        }
    return Contribution(
        {
            "persons_described": total,
            "persons_threshold": rules.max_persons,
            "attachments_not_screened": len(unscreened),
        },
        {
            "minimisation": flagged or None,
            "bulk_personal_data": bulk,
            "attachments_not_screened": [{"name": a.name, "why": a.not_screened} for a in unscreened] or None,
        },
    )


def _network_persons_unnamed(message: Message) -> int:
    """Persons among the shared network entities that no person subject names (the send path requires one for
    each; counted here so the screen never depends on it)."""
    if message.network is None:
        return 0
    named = {name_key(n) for s in message.subjects if s.kind is SubjectKind.PERSON for n in (s.name, *s.aliases) if n}
    unnamed = 0
    for entity in message.network.entities:
        if entity.get("schema") != "Person":
            continue
        names = (entity.get("properties") or {}).get("name") or []
        unnamed += not any(isinstance(n, str) and name_key(n) in named for n in names)
    return unnamed

"""Offences: the declared offence (an ICCS code) against the focus area's scope and against what the free text
describes, and whether the offence — declared, or found in the text — is capital-eligible in the receiving state
for a person the message names as suspect or accused (then a no-death-penalty assurance is needed)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.domain.messages import AssuranceKind, Message, MessageKind, Subject, SubjectKind
from accord.i18n import N_
from accord.policy.offences import (
    FoundInText,
    capital_provisions,
    offence_lexicon,
    offence_taxonomy,
    overlaps,
    statutes_of,
)
from accord.policy.screens.contribution import Contribution
from accord.policy.wording import fill

# The screen's words in its findings, recorded in English and translated where shown (accord.policy.findings).
PROVISION = N_("{citation}, for {offence}")
UNNAMED = N_("(unnamed)")
ROLE_NOT_STATED = N_("role not stated")
MISMATCH = N_("the offence declared is {declared}, but the text also describes {described}, outside the focus area")

# The kinds that open an exchange about a case and so must say what offence it concerns when they name a person.
OFFENCE_REQUIRED_KINDS = frozenset({MessageKind.REQUEST, MessageKind.SHARE, MessageKind.ALERT, MessageKind.INCIDENT})


class OffenceRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # focus area -> ICCS codes (sections or below) the shared work plan covers in it
    in_scope: dict[str, tuple[str, ...]] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_codes(self) -> OffenceRules:
        taxonomy = offence_taxonomy()
        unknown = sorted({c for codes in self.in_scope.values() for c in codes if taxonomy.get(c) is None})
        if unknown:
            raise ValueError(f"in_scope names codes that are not ICCS codes Accord knows: {', '.join(unknown)}")
        return self


def screen_offences(message: Message, rules: OffenceRules) -> Contribution:
    taxonomy = offence_taxonomy()
    declared = message.offence
    found = offence_lexicon().find(free_text(message))
    persons = [s for s in message.subjects if s.kind is SubjectKind.PERSON]
    scope = rules.in_scope.get(message.focus_area, ())
    in_scope = declared is None or overlaps(declared, scope)
    # The text describes an offence the declared one does not cover and the focus area does not either: the
    # disclosure is really about something else (a murder inside a drug request), which a reviewer must see.
    unexplained = [c for c in found.offences if declared and not _related(c, declared) and not overlaps(c, scope)]
    mismatch = bool(unexplained)
    incriminated = [(i, s) for i, s in enumerate(message.subjects) if _may_be_prosecuted(s)]
    codes = ([declared] if declared else []) + [c for c in found.offences if c != declared]
    capital = capital_provisions(statutes_of(message.recipient.party), codes, found.circumstances)
    assurances = {a.kind for a in message.assurances}
    return Contribution(
        {
            "offence": declared or "",
            "offence_in_scope": in_scope,
            "offence_missing": declared is None and bool(persons) and message.kind in OFFENCE_REQUIRED_KINDS,
            "offence_text_mismatch": mismatch,
            "capital_offence": bool(capital),
            "suspect_named": bool(incriminated),
            "no_death_penalty_assurance": AssuranceKind.NO_DEATH_PENALTY in assurances,
        },
        {
            "offence": (
                {"code": declared, "label": taxonomy.display(declared), "in_scope": in_scope} if declared else None
            ),
            "offences_in_text": {taxonomy.display(c): words for c, words in found.offences.items()} or None,
            "offence_text_mismatch": (
                _mismatch_sentence(declared, unexplained, found, taxonomy.display) if declared and mismatch else None
            ),
            "capital_offence_in_destination": (
                {
                    "provisions": sorted(
                        {
                            fill(PROVISION, {"citation": p.citation, "offence": taxonomy.display(code)})
                            for code, p in capital
                        }
                    ),
                    "suspects": [f"subjects[{i}] {s.name or UNNAMED} ({_role(s)})" for i, s in incriminated],
                    "circumstances": {c.value: words for c, words in found.circumstances.items()} or None,
                }
                if capital and incriminated
                else None
            ),
        },
    )


def free_text(message: Message) -> str:
    """What the officer wrote in words: the title, the body and an incident's modus operandi."""
    parts = [message.title, message.body]
    if message.incident is not None and message.incident.modus_operandi:
        parts.append(message.incident.modus_operandi)
    return "\n".join(parts)


def _may_be_prosecuted(subject: Subject) -> bool:
    """A person named as suspect or accused, or whose role is not stated (it cannot be excluded); never a victim,
    witness or other."""
    return subject.kind is SubjectKind.PERSON and (subject.role is None or subject.role.incriminated)


def _role(subject: Subject) -> str:
    return subject.role.value if subject.role is not None else ROLE_NOT_STATED


def _related(code: str, declared: str) -> bool:
    """Offences of the same ICCS division (level 2) describe the same conduct closely enough: a drug case that
    mentions heroin and precursors. Sections are too broad for this (09 holds both hacking and terrorism)."""
    return overlaps(code[:4], [declared[:4]])


def _mismatch_sentence(declared: str, unexplained: list[str], found: FoundInText, display: Callable[[str], str]) -> str:
    described = "; ".join(f"{display(c)} ({', '.join(found.offences[c])})" for c in unexplained)
    return fill(MISMATCH, {"declared": display(declared), "described": described})

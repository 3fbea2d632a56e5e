"""Neutrality (INTERPOL Constitution Art. 3 and its Repository of Practice; Canadian Charter ss. 2, 15; Constitution
of India Arts. 14, 15, 19, 25–28): whether a disclosure is in truth about a person's religion, politics, protest,
journalism, advocacy or ethnicity — from what the officer declares and, independently of it, from what the text
says and asks, and from the screening of the request a reply answers.

Four findings, each its own Cedar attribute:
- `protected_ground`: a ground the officer declared that the pack lists (the pack refuses these);
- `sensitive_text`: protected matters detected in the free text (title, body, subjects' roles), multilingual,
  matched as whole words; a term of contextual weight (a temple, a gurdwara, "Sikh") counts only when its sentence
  asks for associations, meetings, beliefs, membership or funding, or when the message states no criminal conduct;
- `neutrality_structure`: the structural signal — the only subjects are persons, the text asks for associations,
  meetings, contacts, beliefs, membership, attendance or funding, and states no criminal conduct;
- `neutrality_reply`: the message answers a request held or refused on neutrality at this node.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.domain.messages import Message, MessageKind, SubjectKind
from accord.domain.parties import Party
from accord.errors import AccordError
from accord.i18n import N_
from accord.policy.language import Hit
from accord.policy.persons import person_records
from accord.policy.screens._neutrality_lexicons import (
    ASKED,
    CONDUCT,
    PERSONS,
    CompiledTerms,
    Weight,
    compiled,
    load_term_file,
    screen_terms,
    shipped_term_files,
)
from accord.policy.screens.contribution import Contribution
from accord.policy.wording import fill

# Kinds that carry an officer's request or answer in free text; a notification or an incident carries its
# offence-related items in structured fields.
_STRUCTURAL_KINDS = frozenset({MessageKind.REQUEST, MessageKind.SHARE, MessageKind.ALERT, MessageKind.RESPONSE})
_SENTENCE_END = re.compile(r"[.!?;:\n\u0964\u0965]+")  # the danda (।, ॥) ends a sentence in Hindi and Punjabi
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_GURMUKHI = re.compile(r"[\u0A00-\u0A7F]")

# The screen's sentences, recorded in English (in decisions and with a message screened on arrival) and said again in
# the reader's language where shown (accord.policy.findings).
DECLARED_GROUND = N_("declared protected ground {ground}")
DETECTED_GROUND = N_("{ground} ({concept}): {words} [{languages}]")
STRUCTURE_BECAUSE = N_("{who}, it asks for {asked} ({words}) and states no criminal conduct")
NO_SUBJECT = N_("its text is about a person and it names no subject")
ONLY_PERSONS = "its only subjects are {count} person(s)"  # recorded; said again with its plural forms where shown
PERSONS_ONLY = N_("persons only")
PERSON_IN_TEXT = N_("none; a person in the text")
NO_CONDUCT = N_("none stated")


class NeutralityRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    protected_grounds: tuple[str, ...]  # declared grounds the pack refuses
    lexicons: tuple[str, ...] = Field(min_length=1, description="files of data/neutrality: the protected grounds")
    asked: str = ASKED  # the file of what is asked about a person
    conduct: str = CONDUCT  # the file of criminal conduct and offence-related items
    persons: str = PERSONS  # the file of words that refer to a person

    @model_validator(mode="after")
    def _files_load(self) -> NeutralityRules:
        try:
            for names in (self.lexicons, (self.asked,), (self.conduct,), (self.persons,)):
                compiled(names)
        except AccordError as exc:
            raise ValueError(exc.detail) from exc
        return self


def context_of(name: str) -> Party | None:
    """The party whose own context a term file of data/neutrality holds (None: shared by both)."""
    return load_term_file(name).party


def load_term_files() -> None:
    """Every shipped term file of data/neutrality, validated (start-up). One compiled already is not compiled again:
    shipped files are read once a process (`accord.datafiles.load`), and a process forked with them compiled (a node
    of the test suite's launcher) keeps what it was given rather than spend a second building it again."""
    for name in shipped_term_files():
        compiled((name,))


class NeutralityOutcome(StrEnum):
    CLEAR = "clear"
    HELD = "held"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class AnsweredRequest:
    """The request a reply answers, and how it fared on neutrality at this node."""

    message_id: str
    outcome: NeutralityOutcome
    where: str  # "this node's decision when it sent the request" or "this node's screening when it arrived"
    because: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NeutralityAssessment:
    declared: tuple[str, ...]
    detected: tuple[dict[str, Any], ...]
    structure: dict[str, Any] | None

    @property
    def outcome(self) -> NeutralityOutcome:
        if self.declared:
            return NeutralityOutcome.REFUSED
        if self.detected or self.structure:
            return NeutralityOutcome.HELD
        return NeutralityOutcome.CLEAR

    def reasons(self) -> tuple[str, ...]:
        """The assessment in sentences, for a person and for the ledger."""
        said = [fill(DECLARED_GROUND, {"ground": g}) for g in self.declared]
        said += [
            fill(
                DETECTED_GROUND,
                {
                    "ground": d["ground"],
                    "concept": d["concept"],
                    "words": ", ".join(repr(w) for w in d["words"]),
                    "languages": ", ".join(d["languages"]),
                },
            )
            for d in self.detected
        ]
        if self.structure:
            said.append(str(self.structure["because"]))
        return tuple(said)

    def findings(self) -> dict[str, Any]:
        # Ties broken by the word itself: words equal when folded ("Anti-national", "anti-national") would otherwise
        # keep the set's order, which differs from one process to another (string hashing is salted per process).
        words = sorted({w for d in self.detected for w in d["words"]}, key=lambda w: (w.casefold(), w))
        return {
            "protected_grounds": list(self.declared) or None,
            "protected_grounds_detected": list(self.detected) or None,
            "sensitive_terms": words or None,
            "neutrality_structure": self.structure,
        }


def assess_neutrality(message: Message, rules: NeutralityRules) -> NeutralityAssessment:
    """What the message declares and what its text shows, on the pack's term lists."""
    text = screened_text(message)
    terms = screen_terms(rules.lexicons, rules.asked, rules.conduct, rules.persons)
    grounds, asked_terms = terms.grounds, terms.asked
    hits = terms.find(text)
    asked, conduct = hits.asked, hits.conduct
    # A contextual term (a temple, "Sikh", a vote) is a protected matter where the message states no criminal
    # conduct at all, or where its own sentence asks about the person and states none ("who he meets at the
    # gurdwara"); it is a place or a description where the conduct is stated ("heroin seized at the temple").
    # In a line that records a person (a name with a date of birth or identifier) a contextual word is part of the
    # name: "Ashok Jain", "Pooja Saini", "Harpreet Singh" name people, not a faith.
    found = hits.grounds
    strong = [grounds.concepts[h.concept].weight is Weight.STRONG for h in found]
    detected = [h for h, is_strong in zip(found, strong, strict=True) if is_strong]
    if not all(strong):  # a contextual term: read where conduct is stated and what each sentence asks
        records = person_records().record_line_spans(text)
        sentences = _sentence_starts(text)
        only_asking = {_sentence_of(sentences, h.start) for h in asked} - {
            _sentence_of(sentences, h.start) for h in conduct
        }
        detected = [
            h
            for h, is_strong in zip(found, strong, strict=True)
            if is_strong
            or (
                not any(start <= h.start < end for start, end in records)
                and (not conduct or _sentence_of(sentences, h.start) in only_asking)
            )
        ]
    strongly_asked = [h for h in asked if asked_terms.concepts[h.concept].weight is Weight.STRONG]
    return NeutralityAssessment(
        declared=tuple(sorted({g.strip().casefold() for g in message.grounds} & set(rules.protected_grounds))),
        detected=tuple(_describe(grounds, detected)),
        structure=_structure(message, strongly_asked, conduct, hits.persons),
    )


def screen_neutrality(
    message: Message, rules: NeutralityRules, answered: AnsweredRequest | None = None
) -> Contribution:
    assessment = assess_neutrality(message, rules)
    inherited = answered is not None and answered.outcome is not NeutralityOutcome.CLEAR
    reply: dict[str, Any] | None = None
    if answered is not None and inherited:
        reply = {
            "request": answered.message_id,
            "outcome": answered.outcome.value,
            "where": answered.where,
            "because": list(answered.because),
        }
    return Contribution(
        {
            "protected_ground": bool(assessment.declared),
            "sensitive_text": bool(assessment.detected),
            "neutrality_structure": assessment.structure is not None,
            "neutrality_reply": inherited,
        },
        assessment.findings() | {"neutrality_reply": reply},
    )


def screened_text(message: Message) -> str:
    """The free text the officer wrote: title, body and the subjects' roles (a role is free text too), and the free
    text of the network entities the message shares (notes, descriptions, religion, ethnicity, political views…)."""
    roles = [s.role for s in message.subjects if s.role]
    return "\n".join([message.title, message.body, *roles, *network_free_text(message)])


# Every FollowTheMoney value written in words (names, notes, descriptions, religion, ethnicity, political views,
# positions, addresses…): a property list would let the next property through. Dates, identifiers, phones, countries,
# numbers and links to other entities are structured, and persons' names travel as subjects too.
_WORD_TYPES = frozenset({"string", "text", "name", "address", "html"})


def network_free_text(message: Message) -> list[str]:
    """The free-text values of the shared entities, one line per value."""
    if message.network is None:
        return []
    from followthemoney import model  # here: a second to import, needed only by a message that shares entities

    lines: list[str] = []
    for entity in message.network.entities:
        schema = model.get(str(entity.get("schema") or ""))
        for name, values in (entity.get("properties") or {}).items():
            prop = schema.get(name) if schema is not None else None
            # A property the model does not know is refused at both ends; screened all the same if it comes here.
            if prop is not None and prop.type.name not in _WORD_TYPES:
                continue
            lines += [str(v) for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]
    return lines


def _describe(grounds: CompiledTerms, hits: list[Hit]) -> list[dict[str, Any]]:
    """One entry per concept found: its ground, the words as written, the languages of the terms they matched and
    the scripts they are written in ("dharna" is a term of English, Hindi and Punjabi alike)."""
    found: dict[str, dict[str, Any]] = {}
    for hit in hits:
        ground = grounds.concepts[hit.concept].ground or hit.concept
        _add_hit(found.setdefault(hit.concept, {"ground": ground, "concept": hit.concept}), hit)
    return list(found.values())


def _add_hit(entry: dict[str, Any], hit: Hit) -> None:
    for key, value in (
        ("words", hit.surface),
        ("languages", hit.term.language.value),
        ("scripts", _script(hit.surface)),
    ):
        if value not in entry.setdefault(key, []):
            entry[key].append(value)


def _structure(
    message: Message, asked: list[Hit], conduct: Sequence[Hit], persons: Sequence[Hit]
) -> dict[str, Any] | None:
    if message.kind not in _STRUCTURAL_KINDS or not asked or conduct:
        return None
    if message.incident is not None or message.notification is not None or message.stix is not None:
        return None
    if any(s.kind is not SubjectKind.PERSON for s in message.subjects):
        return None  # an organisation or an object in the request: it is about more than a person's life
    concepts: dict[str, dict[str, Any]] = {}
    for hit in asked:
        _add_hit(concepts.setdefault(hit.concept, {"concept": hit.concept}), hit)
    named = sum(1 for s in message.subjects if s.kind is SubjectKind.PERSON)
    if not named and not persons:
        return None  # about no one: a message arranging a meeting between agencies, say
    who = fill(ONLY_PERSONS, {"count": str(named)}) if named else NO_SUBJECT
    words = ", ".join(repr(w) for entry in concepts.values() for w in entry["words"])
    return {
        "subjects": PERSONS_ONLY if named else PERSON_IN_TEXT,
        "asked_for": list(concepts.values()),
        "criminal_conduct": NO_CONDUCT,
        "because": fill(STRUCTURE_BECAUSE, {"who": who, "asked": ", ".join(concepts), "words": words}),
    }


def _sentence_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text)]


def _sentence_of(starts: list[int], offset: int) -> int:
    return bisect_right(starts, offset) - 1


def _script(surface: str) -> str:
    if _GURMUKHI.search(surface):
        return "Gurmukhi"
    if _DEVANAGARI.search(surface):
        return "Devanagari"
    return "Latin"

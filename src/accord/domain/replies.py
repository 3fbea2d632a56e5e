"""What an answer takes from the message it answers: its title (Re: …) and its handling, which an answer may make
stricter but never weaker — the answer discusses what the request disclosed, under the originator's handling codes
(FIRST TLP 2.0: a recipient never lowers a label; Europol H0–H3 bind every use of the information)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from accord.domain.drafts import HandlingDraft
from accord.domain.forwarding import TLP_ORDER
from accord.domain.handling import CommonLevel, Handling, Tlp

TITLE_LIMIT = 300
_REPLY_PREFIXES = ("re:", "re :", "ré :", "ré:", "rép. :", "rép.:")


def reply_title(title: str) -> str:
    """'Re: <title>', once: an answer to an answer does not pile up prefixes."""
    if title.strip().casefold().startswith(_REPLY_PREFIXES):
        return title[:TITLE_LIMIT]
    return f"Re: {title}"[:TITLE_LIMIT]


@dataclass(frozen=True, slots=True)
class Weakening:
    """One way a proposed handling is weaker than the handling of the message answered."""

    aspect: str  # "classification" or "tlp"
    proposed: str
    required: str


def markings_at_or_above(markings: Mapping[str, CommonLevel], level: CommonLevel) -> tuple[str, ...]:
    """The answering party's markings an answer to a message at `level` may carry, in the agreement's order."""
    return tuple(marking for marking, mapped in markings.items() if mapped.rank >= level.rank)


def answering_marking(markings: Mapping[str, CommonLevel], level: CommonLevel) -> str | None:
    """The answering party's own marking for an answer to a message at `level`: the first of its markings (in the
    agreement's order, lowest first) at that common level, else the first above it; None when the party has none
    that high (an answer the channel cannot carry at the original's level)."""
    allowed = markings_at_or_above(markings, level)
    if not allowed:
        return None
    lowest = min(markings[marking].rank for marking in allowed)
    return next(marking for marking in allowed if markings[marking].rank == lowest)


def inherited_handling(
    original: Handling, markings: Mapping[str, CommonLevel], *, answered_officer: str | None
) -> HandlingDraft:
    """The handling an answer gets when its author gives none: the original's level in the answering party's own
    scheme, its TLP, caveats and restriction; a TLP:RED answer is for the officer who asked."""
    marking = answering_marking(markings, original.level)
    if marking is None:
        raise ValueError(f"no marking of the answering party reaches {original.level}")
    chosen = HandlingDraft(classification=marking, tlp=original.tlp)
    return with_original_codes(chosen, original, answered_officer=answered_officer)


@dataclass(frozen=True, slots=True)
class AnswerStart:
    """What an answer form starts from: the title, the inherited handling, and the markings and TLPs it may choose
    (none looser than the message answered's)."""

    title: str
    handling: HandlingDraft
    markings: tuple[str, ...]
    tlps: tuple[Tlp, ...]


def answer_start(
    title: str, original: Handling, markings: Mapping[str, CommonLevel], *, answered_officer: str | None
) -> AnswerStart:
    """ValueError when the answering party has no marking at the original's level."""
    return AnswerStart(
        title=reply_title(title),
        handling=inherited_handling(original, markings, answered_officer=answered_officer),
        markings=markings_at_or_above(markings, original.level),
        tlps=TLP_ORDER[TLP_ORDER.index(original.tlp) :],
    )


def weakenings(proposed: HandlingDraft, proposed_level: CommonLevel, original: Handling) -> list[Weakening]:
    """Every way `proposed` (at `proposed_level` on the common ladder) is weaker than `original`: a lower level or
    a looser TLP. None: allowed (the caveats and restriction are carried over by `with_original_codes`)."""
    found: list[Weakening] = []
    if proposed_level.rank < original.level.rank:
        found.append(Weakening("classification", f"{proposed.classification} ({proposed_level})", str(original.level)))
    if TLP_ORDER.index(proposed.tlp) < TLP_ORDER.index(original.tlp):
        found.append(Weakening("tlp", f"TLP:{proposed.tlp}", f"TLP:{original.tlp}"))
    return found


def with_original_codes(proposed: HandlingDraft, original: Handling, *, answered_officer: str | None) -> HandlingDraft:
    """The answer keeps every handling code and the restriction of the message answered, beside its own (as a
    forward or a quotation does); a TLP:RED answer that names no one is for the officer who asked."""
    caveats = tuple(dict.fromkeys((*proposed.caveats, *original.caveats)))
    restrictions = "; ".join(dict.fromkeys(r for r in (proposed.restrictions, original.restrictions) if r)) or None
    named = proposed.named_recipients
    if proposed.tlp is Tlp.RED and not named:
        named = (answered_officer,) if answered_officer else original.named_recipients
    return proposed.model_copy(update={"caveats": caveats, "restrictions": restrictions, "named_recipients": named})

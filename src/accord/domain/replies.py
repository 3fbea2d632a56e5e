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


def answering_marking(markings: Mapping[str, CommonLevel], level: CommonLevel) -> str | None:
    """The answering party's own marking for an answer to a message at `level`: the first of its markings (in the
    agreement's order, lowest first) at that common level, else the first above it; None when the party has none
    that high (an answer the channel cannot carry at the original's level)."""
    at_or_above = [(marking, mapped) for marking, mapped in markings.items() if mapped.rank >= level.rank]
    if not at_or_above:
        return None
    lowest = min(mapped.rank for _marking, mapped in at_or_above)
    return next(marking for marking, mapped in at_or_above if mapped.rank == lowest)


def inherited_handling(
    original: Handling, markings: Mapping[str, CommonLevel], *, answered_officer: str | None
) -> HandlingDraft:
    """The handling an answer gets when its author gives none: the original's level in the answering party's own
    scheme, its TLP, caveats and restriction; a TLP:RED answer is for the officer who asked."""
    marking = answering_marking(markings, original.level)
    if marking is None:
        raise ValueError(f"no marking of the answering party reaches {original.level}")
    named = original.named_recipients
    if original.tlp is Tlp.RED and answered_officer:
        named = (answered_officer,)
    return HandlingDraft(
        classification=marking,
        tlp=original.tlp,
        caveats=original.caveats,
        restrictions=original.restrictions,
        named_recipients=named,
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


def with_original_codes(proposed: HandlingDraft, original: Handling) -> HandlingDraft:
    """The answer keeps every handling code and the restriction of the message answered, beside its own (as a
    forward or a quotation does)."""
    caveats = tuple(dict.fromkeys((*proposed.caveats, *original.caveats)))
    restrictions = "; ".join(dict.fromkeys(r for r in (proposed.restrictions, original.restrictions) if r)) or None
    return proposed.model_copy(update={"caveats": caveats, "restrictions": restrictions})

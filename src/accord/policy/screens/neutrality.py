"""Neutrality (INTERPOL Constitution Art. 3 practice; both constitutions' protection of religion and political
opinion): protected grounds the request is grounded in, and sensitive terms in its free text."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from accord.domain.messages import Message
from accord.policy.screens.contribution import Contribution


class NeutralityRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    protected_grounds: tuple[str, ...]
    sensitive_terms: tuple[str, ...]


def screen_neutrality(message: Message, rules: NeutralityRules) -> Contribution:
    protected = sorted(set(message.grounds) & set(rules.protected_grounds))
    terms = _sensitive_terms(f"{message.title}\n{message.body}", rules.sensitive_terms)
    return Contribution(
        {"protected_ground": bool(protected), "sensitive_text": bool(terms)},
        {"protected_grounds": protected or None, "sensitive_terms": terms or None},
    )


def _sensitive_terms(text: str, terms: tuple[str, ...]) -> list[str]:
    """Terms found as words (or word beginnings) in the free text, case-insensitively."""
    found = {match.group(0) for match in _terms_pattern(terms).finditer(text.casefold())}
    return sorted(t for t in terms if t.casefold() in found)


@lru_cache(maxsize=8)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    longest_first = sorted((t.casefold() for t in terms), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in longest_first) + ")")

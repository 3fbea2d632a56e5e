"""The screens' findings as sentences a legal officer reads, with their values ("Mistreatment risk 3 is above the
threshold 2 because …"), not key names. A finding no sentence is written for yet is still said with its values."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from accord.domain.messages import Message

Sentence = Callable[[Any], str]


def _words(values: Any) -> str:
    if isinstance(values, Mapping):
        return "; ".join(f"{_human(k)} {_words(v)}" for k, v in values.items() if v not in (None, "", [], ()))
    if isinstance(values, list | tuple | set):
        items = [_words(v) for v in values]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else "none"
    if isinstance(values, bool):
        return "yes" if values else "no"
    return str(values)


def _human(key: str) -> str:
    return key.replace("_", " ")


def _quoted(values: Any) -> str:
    return _words([f"“{v}”" for v in values]) if isinstance(values, list | tuple) else f"“{values}”"


def _risk(finding: Any) -> str:
    if not isinstance(finding, Mapping) or "score" not in finding:
        return f"Mistreatment risk: {_words(finding)}."
    score, threshold = finding["score"], finding.get("threshold")
    if threshold is None:
        compared = ""
    elif score > threshold:
        compared = f" is above the threshold {threshold}"
    else:
        compared = f" is within the threshold {threshold}"
    because = finding.get("because")
    return f"Mistreatment risk {score}{compared}" + (f" because of {_words(because)}." if because else ".")


def _personal(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return f"Personal data: {_words(finding)}."
    persons = finding.get("persons", 0)
    schemes = finding.get("identifier_schemes") or []
    named = f"It names {persons} person{'s' if persons != 1 else ''}" if persons else "It names no person"
    return named + (f" and carries {_words(schemes)} identifiers." if schemes else ".")


def _offence(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return f"The offence: {_words(finding)}."
    category = finding.get("category") or finding.get("code") or "not given"
    scope = finding.get("in_scope")
    said = f"The declared offence is {category}"
    if scope is None:
        return said + "."
    return said + (", within the focus area's scope." if scope else ", outside the focus area's scope.")


def _minimisation(finding: Any) -> str:
    return f"More personal data than the purpose needs: {_words(finding)}."


_SENTENCES: dict[str, Sentence] = {
    "mistreatment_risk": _risk,
    "personal_data": _personal,
    "offence": _offence,
    "protected_grounds": lambda v: f"The request is grounded in protected matters: {_words(v)}.",
    "sensitive_terms": lambda v: f"The text mentions {_quoted(v)}, which touch protected matters.",
    "capital_offence_in_destination": lambda v: (
        f"The offence {_words(v)} can carry the death penalty in the receiving state."
    ),
    "minimisation": _minimisation,
    "tlp_red_without_named_recipient": lambda v: "It is TLP:RED but the recipient officer is not named.",
    "h3_without_restriction": lambda v: "It carries handling code H3 without stating the restriction.",
}


_SUBJECT_FIELD = re.compile(r"subjects\[(\d+)\]\.(\w+)")


def describe_findings(findings: Mapping[str, Any], message: Message | None = None) -> list[str]:
    """One sentence per finding, with its values; with the message, `subjects[N].field` is said as the field of the
    subject by name."""
    sentences = []
    for key, value in findings.items():
        if value in (None, False, "", [], {}):
            continue
        sentence = _SENTENCES.get(key)
        text = sentence(value) if sentence else f"{_human(key).capitalize()}: {_words(value)}."
        sentences.append(_SUBJECT_FIELD.sub(lambda m: _subject_field(message, m), text) if message else text)
    return sentences


def _subject_field(message: Message, match: re.Match[str]) -> str:
    index, name = int(match[1]), match[2]
    if index >= len(message.subjects):
        return match[0]
    subject = message.subjects[index]
    return f"the {_human(name)} of {subject.name or f'subject {index + 1}'}"

"""The screens' findings as sentences a legal officer reads, with their values ("It describes 500 persons, more than
the 10 one disclosure may carry (500 in applicants.csv)"), not key names. A finding no sentence is written for yet is
still said with its values."""

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


def _assessment(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return f"Mistreatment-risk assessment: {_words(finding)}."
    missing = finding.get("without_assessment") or []
    said = []
    if missing:
        said.append(f"No valid mistreatment-risk assessment is recorded for {_words(missing)} in this case.")
    for made in finding.get("assessments") or []:
        said.append(
            f"{made.get('assessor', 'An assessor')} assessed on {made.get('assessed_on')}: "
            f"{made.get('meaning') or _human(str(made.get('conclusion')))} (valid until {made.get('valid_until')})."
        )
    if finding.get("missing_measures"):
        said.append(f"Measures the assessment requires are not on the message: {_words(finding['missing_measures'])}.")
    return " ".join(said) or f"Mistreatment-risk assessment: {_words(finding)}."


def _capital(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return f"The offence {_words(finding)} can carry the death penalty in the receiving state."
    provisions = finding.get("provisions") or []
    suspects = [re.sub(r"^subjects\[\d+\]\s+", "", str(s)) for s in finding.get("suspects") or []]
    said = f"Death is a possible sentence in the receiving state under {_words(provisions)}"
    if suspects:
        said += f", and the message names {_words(suspects)}"
    circumstances = finding.get("circumstances") or {}
    if circumstances:
        said += "; the text states " + _words([f"{_human(k)} (“{', '.join(v)}”)" for k, v in circumstances.items()])
    return said + "."


def _detected(found: Any) -> str:
    if not isinstance(found, list):
        return f"The text touches protected matters: {_words(found)}."
    parts = [
        f"{_human(str(f.get('ground') or f.get('concept')))} ({_quoted(f.get('words') or [])}, "
        f"{_words(f.get('languages') or [])})"
        for f in found
        if isinstance(f, Mapping)
    ]
    return f"The text touches protected matters: {_words(parts)}."


def _structure(finding: Any) -> str:
    if isinstance(finding, Mapping) and finding.get("because"):
        return f"The request looks like one about a person's lawful life, not a crime: {finding['because']}."
    return f"The request looks like one about a person's lawful life, not a crime: {_words(finding)}."


def _reply(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return f"It answers a request held on neutrality: {_words(finding)}."
    because = finding.get("because") or []
    return (
        f"It answers request {finding.get('request')}, which was {finding.get('outcome')} on neutrality "
        f"({finding.get('where')})" + (f": {_words(because)}." if because else ".")
    )


def _bulk(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return f"Many persons: {_words(finding)}."
    persons, threshold = finding.get("persons"), finding.get("threshold")
    where = {k: v for k, v in finding.items() if k in ("subjects", "title_and_body") and v}
    attachments = finding.get("attachments") or {}
    places = [f"{v} in {_human(k)}" for k, v in where.items()] + [f"{v} in {name}" for name, v in attachments.items()]
    return f"It describes {persons} persons, more than the {threshold} one disclosure may carry" + (
        f" ({_words(places)})." if places else "."
    )


def _unscreened(finding: Any) -> str:
    if not isinstance(finding, list):
        return f"Attachments not screened: {_words(finding)}."
    parts = [f"{f.get('name')} ({f.get('why')})" for f in finding if isinstance(f, Mapping)]
    return f"The screens could not read {_words(parts)}, so nobody knows whom it describes."


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
    category = finding.get("label") or finding.get("category") or finding.get("code") or "not given"
    scope = finding.get("in_scope")
    said = f"The declared offence is {category}"
    if scope is None:
        return said + "."
    return said + (", within the focus area's scope." if scope else ", outside the focus area's scope.")


def _minimisation(finding: Any) -> str:
    return f"More personal data than the purpose needs: {_words(finding)}."


_SENTENCES: dict[str, Sentence] = {
    "mistreatment_assessment": _assessment,
    "personal_data": _personal,
    "offence": _offence,
    "protected_grounds": lambda v: f"The request is grounded in protected matters: {_words(v).replace('_', ' ')}.",
    "sensitive_terms": lambda v: f"The text mentions {_quoted(v)}, which touch protected matters.",
    "capital_offence_in_destination": _capital,
    "offences_in_text": lambda v: (
        f"The text describes {_words([f'{k} ({_quoted(w)})' for k, w in v.items()])}."
        if isinstance(v, Mapping)
        else f"The text describes {_words(v)}."
    ),
    "offence_text_mismatch": lambda v: f"{str(v)[:1].upper()}{str(v)[1:]}.",
    "protected_grounds_detected": _detected,
    "neutrality_structure": _structure,
    "neutrality_reply": _reply,
    "bulk_personal_data": _bulk,
    "attachments_not_screened": _unscreened,
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
        if value in (None, False, "", [], {}) or (
            key == "sensitive_terms" and findings.get("protected_grounds_detected")
        ):
            continue  # the detected grounds say the same words with their grounds
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

"""The screens' findings as sentences a legal officer reads, with their values ("It describes 500 persons, more than
the 10 one disclosure may carry (500 in applicants.csv)"), not key names. A finding no sentence is written for yet is
still said with its values.

The findings are recorded in English (a decision is the legal record); these sentences are for display only, in the
reader's language: the screens' own words inside a finding are said again through their templates
(accord.policy.wording), names, identifiers, citations and the words an officer typed as recorded."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from babel.lists import format_list

from accord.domain.messages import Message
from accord.domain.official import in_language
from accord.domain.words import protected_ground_word, subject_role_word
from accord.i18n import _, current_language, ngettext, pgettext
from accord.policy.screens.minimisation import NOT_READ
from accord.policy.screens.mistreatment import MISSING_ASSURANCE, MISSING_CAVEAT
from accord.policy.screens.neutrality import (
    DECLARED_GROUND,
    DETECTED_GROUND,
    NO_CONDUCT,
    NO_SUBJECT,
    ONLY_PERSONS,
    PERSON_IN_TEXT,
    PERSONS_ONLY,
    STRUCTURE_BECAUSE,
)
from accord.policy.screens.offences import MISMATCH, PROVISION, ROLE_NOT_STATED, UNNAMED
from accord.policy.wording import fill, recover, retell, retell_any

Sentence = Callable[[Any], str]


def _words(values: Any) -> str:
    if isinstance(values, Mapping):  # a finding no sentence is written for: its keys are ids, said as they are
        return "; ".join(f"{_human(k)} {_words(v)}" for k, v in values.items() if v not in (None, "", [], ()))
    if isinstance(values, list | tuple | set):
        return _listed([_words(v) for v in values])
    if isinstance(values, bool):
        return pgettext("finding value", "yes") if values else pgettext("finding value", "no")
    return str(values)


def _listed(items: list[str]) -> str:
    """A list as the reader's language writes one ("a, b and c"; CLDR)."""
    if not items:
        return pgettext("finding value", "none")
    return format_list(items, locale=current_language().locale)


def _human(key: str) -> str:
    return key.replace("_", " ")


def _quoted(values: Any) -> str:
    if isinstance(values, list | tuple):
        return _listed([_quote(v) for v in values])
    return _quote(values)


def _quote(value: Any) -> str:
    return _("“{words}”").format(words=value)


def _ground(ground: str) -> str:
    """A protected ground's words (the packs and term files name them by id)."""
    return protected_ground_word(ground)


def _circumstance(circumstance: str) -> str:
    words = {
        "repeat_conviction": _("repeat conviction"),
        "death_resulted": _("death resulted"),
        "ransom": _("ransom"),
        "minor_victim": _("minor victim"),
        "life_convict": _("life convict"),
    }
    return words.get(circumstance, _human(circumstance))


def _role(role: str) -> str:
    return _(ROLE_NOT_STATED) if role == ROLE_NOT_STATED else subject_role_word(role)


def _field(name: str) -> str:
    words = {"identifiers": _("identifiers"), "date_of_birth": _("date of birth"), "name": _("name")}
    return words.get(name, _human(name))


def _assessment(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return _("Mistreatment-risk assessment: {finding}.").format(finding=_words(finding))
    missing = finding.get("without_assessment") or []
    said = []
    if missing:
        said.append(
            _("No valid mistreatment-risk assessment is recorded for {persons} in this case.").format(
                persons=_words(missing)
            )
        )
    for made in finding.get("assessments") or []:
        meaning = made.get("meaning")
        said.append(
            _("{assessor} assessed on {assessed_on}: {conclusion} (valid until {valid_until}).").format(
                assessor=made.get("assessor") or _("An assessor"),
                assessed_on=made.get("assessed_on"),
                conclusion=_(meaning) if meaning else _human(str(made.get("conclusion"))),
                valid_until=made.get("valid_until"),
            )
        )
    measures = finding.get("mitigation_not_applied") or finding.get("missing_measures")
    if measures:
        shown = [retell_any(str(m), (MISSING_CAVEAT, MISSING_ASSURANCE)) for m in measures]
        said.append(
            _("Measures the assessment requires are not on the message: {measures}.").format(measures=_words(shown))
        )
    return " ".join(said) or _("Mistreatment-risk assessment: {finding}.").format(finding=_words(finding))


def _capital(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return _("The offence {offence} can carry the death penalty in the receiving state.").format(
            offence=_words(finding)
        )
    provisions = _words([retell_any(str(p), (PROVISION,)) for p in finding.get("provisions") or []])
    suspects = _words([_suspect(re.sub(r"^subjects\[\d+\]\s+", "", str(s))) for s in finding.get("suspects") or []])
    circumstances = _words(
        [
            _("{circumstance} (“{words}”)").format(circumstance=_circumstance(k), words=", ".join(v))
            for k, v in (finding.get("circumstances") or {}).items()
        ]
    )
    if finding.get("suspects") and finding.get("circumstances"):
        sentence = _(
            "Death is a possible sentence in the receiving state under {provisions}, and the message names "
            "{suspects}; the text states {circumstances}."
        )
    elif finding.get("suspects"):
        sentence = _(
            "Death is a possible sentence in the receiving state under {provisions}, and the message names {suspects}."
        )
    elif finding.get("circumstances"):
        sentence = _(
            "Death is a possible sentence in the receiving state under {provisions}; the text states {circumstances}."
        )
    else:
        sentence = _("Death is a possible sentence in the receiving state under {provisions}.")
    return sentence.format(provisions=provisions, suspects=suspects, circumstances=circumstances)


def _suspect(recorded: str) -> str:
    """A suspect as recorded ("H. Example (suspect)"), with the screen's own words translated."""
    values = recover("{name} ({role})", recorded)
    if values is None:
        return recorded
    name = _(UNNAMED) if values["name"] == UNNAMED else values["name"]
    return _("{name} ({role})").format(name=name, role=_role(values["role"]))


def _detected(found: Any) -> str:
    if not isinstance(found, list):
        return _("The text touches protected matters: {found}.").format(found=_words(found))
    parts = [
        _("{ground} ({words}, {languages})").format(
            ground=_ground(str(f.get("ground") or f.get("concept"))),
            words=_quoted(f.get("words") or []),
            languages=_words(f.get("languages") or []),
        )
        for f in found
        if isinstance(f, Mapping)
    ]
    return _("The text touches protected matters: {found}.").format(found=_words(parts))


def _structure(finding: Any) -> str:
    if isinstance(finding, Mapping) and finding.get("because"):
        because = _structure_because(str(finding["because"]))
    else:
        because = _words(_structure_words(finding))
    return _("The request looks like one about a person's lawful life, not a crime: {because}.").format(because=because)


def _structure_words(finding: Any) -> Any:
    """The structure finding's recorded words (persons only, none stated), translated."""
    if not isinstance(finding, Mapping):
        return finding
    own = (PERSONS_ONLY, PERSON_IN_TEXT, NO_CONDUCT)
    return {k: _(v) if v in own else v for k, v in finding.items()}


def _structure_because(because: str) -> str:
    return retell(because, STRUCTURE_BECAUSE, lambda field, value: _who(value) if field == "who" else value) or because


def _who(recorded: str) -> str:
    persons = recover(ONLY_PERSONS, recorded)
    if persons is not None and persons["count"].isdigit():
        count = int(persons["count"])
        return ngettext("its only subject is {count} person", "its only subjects are {count} persons", count).format(
            count=count
        )
    return _(NO_SUBJECT) if recorded == NO_SUBJECT else recorded


def _neutrality_reason(reason: str) -> str:
    """A reason the neutrality screen recorded ("declared protected ground religion"), in the reader's language."""

    def said(field: str, value: str) -> str:
        if field == "ground":
            return _ground(value)
        return _who(value) if field == "who" else value

    return retell_any(reason, (DECLARED_GROUND, DETECTED_GROUND, STRUCTURE_BECAUSE), said)


def _reply(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return _("It answers a request held on neutrality: {finding}.").format(finding=_words(finding))
    because = [_neutrality_reason(str(b)) for b in finding.get("because") or []]
    outcome = finding.get("outcome")
    if outcome == "held":
        sentence = (
            _("It answers request {request}, which was held on neutrality ({where}): {because}.")
            if because
            else _("It answers request {request}, which was held on neutrality ({where}).")
        )
    elif outcome == "refused":
        sentence = (
            _("It answers request {request}, which was refused on neutrality ({where}): {because}.")
            if because
            else _("It answers request {request}, which was refused on neutrality ({where}).")
        )
    else:
        sentence = (
            _("It answers request {request}, which was {outcome} on neutrality ({where}): {because}.")
            if because
            else _("It answers request {request}, which was {outcome} on neutrality ({where}).")
        )
    return sentence.format(
        request=finding.get("request"),
        outcome=outcome,
        where=in_language(str(finding.get("where"))),
        because=_words(because),
    )


def _bulk(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return _("Many persons: {finding}.").format(finding=_words(finding))
    persons, threshold = finding.get("persons"), finding.get("threshold")
    where = {_("subjects"): finding.get("subjects"), _("title and body"): finding.get("title_and_body")}
    attachments = finding.get("attachments") or {}
    places = [
        _("{count} in {where}").format(count=count, where=name)
        for name, count in [*where.items(), *attachments.items()]
        if count
    ]
    count = persons if isinstance(persons, int) else 0
    if places:
        sentence = ngettext(
            "It describes {persons} person, more than the {threshold} one disclosure may carry ({places}).",
            "It describes {persons} persons, more than the {threshold} one disclosure may carry ({places}).",
            count,
        )
    else:
        sentence = ngettext(
            "It describes {persons} person, more than the {threshold} one disclosure may carry.",
            "It describes {persons} persons, more than the {threshold} one disclosure may carry.",
            count,
        )
    return sentence.format(persons=persons, threshold=threshold, places=_words(places))


def _unscreened(finding: Any) -> str:
    if not isinstance(finding, list):
        return _("Attachments not screened: {finding}.").format(finding=_words(finding))
    parts = [
        _("{name} ({why})").format(name=f.get("name"), why=in_language(str(f.get("why") or NOT_READ)))
        for f in finding
        if isinstance(f, Mapping)
    ]
    return _("The screens could not read {attachments}, so nobody knows whom it describes.").format(
        attachments=_words(parts)
    )


def _personal(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return _("Personal data: {finding}.").format(finding=_words(finding))
    persons = finding.get("persons", 0)
    persons = persons if isinstance(persons, int) else 0
    schemes = finding.get("identifier_schemes") or []
    if persons and schemes:
        sentence = ngettext(
            "It names {count} person and carries {schemes} identifiers.",
            "It names {count} persons and carries {schemes} identifiers.",
            persons,
        )
    elif persons:
        sentence = ngettext("It names {count} person.", "It names {count} persons.", persons)
    elif schemes:
        sentence = _("It names no person and carries {schemes} identifiers.")
    else:
        sentence = _("It names no person.")
    return sentence.format(count=persons, schemes=_words(schemes))


def _offence(finding: Any) -> str:
    if not isinstance(finding, Mapping):
        return _("The offence: {finding}.").format(finding=_words(finding))
    category = finding.get("label") or finding.get("category") or finding.get("code") or _("not given")
    scope = finding.get("in_scope")
    if scope is None:
        sentence = _("The declared offence is {offence}.")
    elif scope:
        sentence = _("The declared offence is {offence}, within the focus area's scope.")
    else:
        sentence = _("The declared offence is {offence}, outside the focus area's scope.")
    return sentence.format(offence=category)


def _minimisation(finding: Any) -> str:
    return _("More personal data than the purpose needs: {fields}.").format(fields=_words(finding))


def _offences_in_text(found: Any) -> str:
    if not isinstance(found, Mapping):
        return _("The text describes {offences}.").format(offences=_words(found))
    offences = [_("{offence} ({words})").format(offence=k, words=_quoted(w)) for k, w in found.items()]
    return _("The text describes {offences}.").format(offences=_words(offences))


def _mismatch(recorded: Any) -> str:
    values = recover(MISMATCH, str(recorded))
    if values is None:
        return f"{str(recorded)[:1].upper()}{str(recorded)[1:]}."
    return fill(
        _("The offence declared is {declared}, but the text also describes {described}, outside the focus area."),
        values,
    )


_SENTENCES: dict[str, Sentence] = {
    "mistreatment_assessment": _assessment,
    "personal_data": _personal,
    "offence": _offence,
    "protected_grounds": lambda v: _("The request is grounded in protected matters: {grounds}.").format(
        grounds=_words([_ground(str(g)) for g in v]) if isinstance(v, list | tuple) else _words(v).replace("_", " ")
    ),
    "sensitive_terms": lambda v: _("The text mentions {terms}, which touch protected matters.").format(
        terms=_quoted(v)
    ),
    "capital_offence_in_destination": _capital,
    "offences_in_text": _offences_in_text,
    "offence_text_mismatch": _mismatch,
    "protected_grounds_detected": _detected,
    "neutrality_structure": _structure,
    "neutrality_reply": _reply,
    "bulk_personal_data": _bulk,
    "attachments_not_screened": _unscreened,
    "minimisation": _minimisation,
    "tlp_red_without_named_recipient": lambda v: _("It is TLP:RED but the recipient officer is not named."),
    "h3_without_restriction": lambda v: _("It carries handling code H3 without stating the restriction."),
}


_SUBJECT_FIELD = re.compile(r"subjects\[(\d+)\]\.(\w+)(?: \((\w+)\))?")


def describe_findings(findings: Mapping[str, Any], message: Message | None = None) -> list[str]:
    """One sentence per finding, with its values, in the current language; with the message, `subjects[N].field` is
    said as the field of the subject by name."""
    sentences = []
    for key, value in findings.items():
        if value in (None, False, "", [], {}) or (
            key == "sensitive_terms" and findings.get("protected_grounds_detected")
        ):
            continue  # the detected grounds say the same words with their grounds
        sentence = _SENTENCES.get(key)
        text = (
            sentence(value)
            if sentence
            else _("{finding}: {values}.").format(finding=_human(key).capitalize(), values=_words(value))
        )
        sentences.append(_SUBJECT_FIELD.sub(lambda m: _subject_field(message, m), text) if message else text)
    return sentences


def _subject_field(message: Message, match: re.Match[str]) -> str:
    index, name, role = int(match[1]), match[2], match[3]
    if index >= len(message.subjects):
        return match[0]
    subject = message.subjects[index]
    said = _("the {field} of {subject}").format(
        field=_field(name), subject=subject.name or _("subject {number}").format(number=index + 1)
    )
    return _("{field} ({role})").format(field=said, role=_role(role)) if role else said

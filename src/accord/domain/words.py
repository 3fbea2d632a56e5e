"""The words for the values of Accord's enumerations that every screen, explanation and report shows, in the reader's
language; a value with no word (a newer peer's, a pack's own) reads as itself. Each word carries its enumeration as
context: one English word may need different words (or genders) in French and Hindi depending on what it qualifies."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from accord.i18n import pgettext

_PRIORITIES: Mapping[str, Callable[[], str]] = {
    "routine": lambda: pgettext("priority", "routine"),
    "urgent": lambda: pgettext("priority", "urgent"),
    "immediate": lambda: pgettext("priority", "immediate"),
}

_MESSAGE_KINDS: Mapping[str, Callable[[], str]] = {
    "request": lambda: pgettext("message kind", "request"),
    "response": lambda: pgettext("message kind", "response"),
    "share": lambda: pgettext("message kind", "share"),
    "alert": lambda: pgettext("message kind", "alert"),
    "correction": lambda: pgettext("message kind", "correction"),
    "withdrawal": lambda: pgettext("message kind", "withdrawal"),
    "retraction": lambda: pgettext("message kind", "retraction"),
    # TRANSLATORS: a pre-export notification of a precursor shipment (PEN, as in PEN Online).
    "pen": lambda: pgettext("message kind", "pen"),
    # TRANSLATORS: a precursor incident (a seizure, a stopped shipment, a diversion, a suspicious order).
    "incident": lambda: pgettext("message kind", "incident"),
    # TRANSLATORS: a message asking the originator's consent to forward its message inside the other state.
    "forward-consent": lambda: pgettext("message kind", "forward consent"),
    # TRANSLATORS: a message telling the originator its message was forwarded inside the other state.
    "forward-notice": lambda: pgettext("message kind", "forward notice"),
}

_SUBJECT_ROLES: Mapping[str, Callable[[], str]] = {
    "suspect": lambda: pgettext("subject role", "suspect"),
    # TRANSLATORS: charged, or detained on a charge.
    "accused": lambda: pgettext("subject role", "accused"),
    "victim": lambda: pgettext("subject role", "victim"),
    "witness": lambda: pgettext("subject role", "witness"),
    # TRANSLATORS: an associate, a relative, a contact: neither suspected nor a victim or a witness.
    "other": lambda: pgettext("subject role", "other"),
}

# A protected matter (INTERPOL Constitution Art. 3, the neutrality screen), as the packs and term files name them.
_PROTECTED_GROUNDS: Mapping[str, Callable[[], str]] = {
    "political_opinion": lambda: pgettext("protected ground", "political opinion"),
    "political_activity": lambda: pgettext("protected ground", "political activity"),
    "religion": lambda: pgettext("protected ground", "religion"),
    "ethnicity": lambda: pgettext("protected ground", "ethnicity"),
    "race": lambda: pgettext("protected ground", "race"),
    "caste": lambda: pgettext("protected ground", "caste"),
    "lawful_advocacy": lambda: pgettext("protected ground", "lawful advocacy"),
    "protest": lambda: pgettext("protected ground", "protest"),
    "journalism": lambda: pgettext("protected ground", "journalism"),
}


def _word(words: Mapping[str, Callable[[], str]], value: object, unknown: Callable[[str], str] = str) -> str:
    text = "" if value is None else str(value)
    word = words.get(text)
    return word() if word else unknown(text)


def priority_word(value: object) -> str:
    return _word(_PRIORITIES, value)


def message_kind_word(value: object) -> str:
    return _word(_MESSAGE_KINDS, value)


def subject_role_word(value: object) -> str:
    return _word(_SUBJECT_ROLES, value)


def protected_ground_word(value: object) -> str:
    """A pack's own ground the catalogues have no word for reads as its name."""
    return _word(_PROTECTED_GROUNDS, value, lambda text: text.replace("_", " "))

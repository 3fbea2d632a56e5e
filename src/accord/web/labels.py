"""What the web UI calls the values of Accord's enumerations (a priority, a delivery state, a message kind…) in the
officer's language. Forms, links and style classes keep the value; only the word on the page is translated.

Each word carries its enumeration as context: one English word ("refused", "read", "other") may need different words
(or genders) in French and Hindi depending on what it qualifies."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from accord.domain.words import message_kind_word, priority_word, protected_ground_word, subject_role_word
from accord.i18n import pgettext


def _word(words: Mapping[str, str], value: object) -> str:
    """The word for `value`; a value the UI has no word for (a newer peer's) is shown as it is."""
    text = "" if value is None else str(value)
    return words.get(text, text)


def priority(value: object) -> str:
    return priority_word(value)


def delivery_state(value: object) -> str:
    return _word(
        {
            "queued": pgettext("message state", "queued"),
            "sent": pgettext("message state", "sent"),
            "delivered": pgettext("message state", "delivered"),
            "read": pgettext("message state", "read"),
            "failed": pgettext("message state", "failed"),
            "held": pgettext("message state", "held"),
            "refused": pgettext("message state", "refused"),
            "received": pgettext("message state", "received"),
        },
        value,
    )


def message_kind(value: object) -> str:
    return message_kind_word(value)


def amendment(value: object) -> str:
    """What a later correction, withdrawal or retraction did to a message (a mark beside its title)."""
    return _word(
        {
            "corrected": pgettext("message amended", "corrected"),
            "withdrawn": pgettext("message amended", "withdrawn"),
            "retracted": pgettext("message amended", "retracted"),
        },
        value,
    )


def subject_kind(value: object) -> str:
    return _word(
        {
            "person": pgettext("subject kind", "person"),
            "organisation": pgettext("subject kind", "organisation"),
            "vessel": pgettext("subject kind", "vessel"),
            "vehicle": pgettext("subject kind", "vehicle"),
            "account": pgettext("subject kind", "account"),
            "device": pgettext("subject kind", "device"),
            "shipment": pgettext("subject kind", "shipment"),
        },
        value,
    )


def subject_role(value: object) -> str:
    return subject_role_word(value)


def purpose(value: object) -> str:
    return _word(
        {
            # TRANSLATORS: the purpose of a disclosure: to prevent, detect or investigate crime.
            "intelligence": pgettext("purpose", "intelligence"),
            # TRANSLATORS: the purpose of a disclosure: to act now (stop a shipment, locate a person).
            "operational": pgettext("purpose", "operational"),
            # TRANSLATORS: the purpose of a disclosure: for use in judicial proceedings.
            "evidence": pgettext("purpose", "evidence"),
        },
        value,
    )


def assurance_kind(value: object) -> str:
    return _word(
        {
            "no-death-penalty": pgettext("assurance kind", "no death penalty"),
            "humane-treatment": pgettext("assurance kind", "humane treatment"),
            "use-limitation": pgettext("assurance kind", "use limitation"),
        },
        value,
    )


def factor_rating(value: object) -> str:
    return _word(
        {
            "low": pgettext("risk factor rating", "low"),
            "moderate": pgettext("risk factor rating", "moderate"),
            "high": pgettext("risk factor rating", "high"),
        },
        value,
    )


def pen_decision(value: object) -> str:
    return _word(
        {
            "cleared": pgettext("pre-export notification decision", "cleared"),
            "objected": pgettext("pre-export notification decision", "objected"),
            "info_requested": pgettext("pre-export notification decision", "info requested"),
        },
        value,
    )


def forward_state(value: object) -> str:
    return _word(
        {
            "forwarded": pgettext("forward state", "forwarded"),
            "awaiting-consent": pgettext("forward state", "awaiting consent"),
            "refused": pgettext("forward state", "refused"),
            "consent-refused": pgettext("forward state", "consent refused"),
            "consent-granted": pgettext("forward state", "consent granted"),
        },
        value,
    )


def review_action(value: object) -> str:
    return _word(
        {
            "approve": pgettext("review action", "approve"),
            "refuse": pgettext("review action", "refuse"),
            "escalate": pgettext("review action", "escalate"),
            # TRANSLATORS: the sending agency or a reviewer changed the held message (not a decision).
            "revise": pgettext("review action", "revise"),
        },
        value,
    )


def role(value: object) -> str:
    return _word(
        {
            "officer": pgettext("officer role", "officer"),
            "analyst": pgettext("officer role", "analyst"),
            # TRANSLATORS: a legal officer, who reviews held disclosures.
            "legal": pgettext("officer role", "legal"),
            "deputy_head": pgettext("officer role", "deputy head"),
            "coordinator": pgettext("officer role", "coordinator"),
            # TRANSLATORS: the node operator.
            "operator": pgettext("officer role", "operator"),
            "oversight": pgettext("officer role", "oversight"),
        },
        value,
    )


def subject_field(value: object) -> str:
    """A field of a subject a reviewer may remove before a disclosure leaves."""
    return _word(
        {
            "name": pgettext("subject field", "name"),
            "date_of_birth": pgettext("subject field", "date of birth"),
            "nationality": pgettext("subject field", "nationality"),
            "identifiers": pgettext("subject field", "identifiers"),
            "aliases": pgettext("subject field", "aliases"),
            "role": pgettext("subject field", "role"),
        },
        value,
    )


def protected_ground(value: object) -> str:
    return protected_ground_word(value)


def ledger_log(value: object) -> str:
    """Whose ledger an entry is in: this node's or its peer's."""
    return _word({"own": pgettext("ledger", "own"), "peer": pgettext("ledger", "peer")}, value)


# What the templates call them: `labels.priority(m.priority)`.
LABELS: Mapping[str, Callable[[object], str]] = {
    "priority": priority,
    "delivery_state": delivery_state,
    "message_kind": message_kind,
    "amendment": amendment,
    "subject_kind": subject_kind,
    "subject_role": subject_role,
    "purpose": purpose,
    "assurance_kind": assurance_kind,
    "factor_rating": factor_rating,
    "pen_decision": pen_decision,
    "forward_state": forward_state,
    "review_action": review_action,
    "role": role,
    "subject_field": subject_field,
    "protected_ground": protected_ground,
    "ledger_log": ledger_log,
}

"""What the report and the work-plan screen show for the enumerations they print (the API keeps the values)."""

from __future__ import annotations

from collections.abc import Callable

from accord.domain.official import in_language
from accord.domain.words import priority_word
from accord.domain.workplan import ActionStatus
from accord.i18n import N_, _, pgettext

# Looked up when shown, with a context: "done" is one English word for what French writes by the noun it qualifies.
# TRANSLATORS: the status of a work-plan action; an action is "une mesure" in French (feminine).
_STATUSES: dict[str, Callable[[], str]] = {
    ActionStatus.PLANNED.value: lambda: pgettext("action status", "planned"),
    ActionStatus.IN_PROGRESS.value: lambda: pgettext("action status", "in progress"),
    ActionStatus.BLOCKED.value: lambda: pgettext("action status", "blocked"),
    ActionStatus.DONE.value: lambda: pgettext("action status", "done"),
    ActionStatus.CANCELLED.value: lambda: pgettext("action status", "cancelled"),
}

# The opening messages counted per week, by kind (a legend of several bars, so plural).
MESSAGE_KINDS = {
    "request": N_("requests"),
    "share": N_("shares"),
    "alert": N_("alerts"),
    "pen": N_("pre-export notifications"),
    "incident": N_("incidents"),
}

_INCIDENT_KINDS = {
    "seizure": N_("seizure"),
    "stopped_shipment": N_("stopped shipment"),
    "diversion": N_("diversion"),
    "suspicious_order": N_("suspicious order"),
}


def _readable(value: str) -> str:
    return value.replace("_", " ")


def status_label(status: str) -> str:
    """An action's status as a reader reads it: "in progress" for in_progress."""
    label = _STATUSES.get(status)
    return label() if label else _readable(status)


def priority_label(priority: str) -> str:
    return priority_word(priority)


def message_kind_label(kind: str) -> str:
    known = MESSAGE_KINDS.get(kind)
    return _(known) if known else f"{kind}s"


def incident_kind_label(kind: str) -> str:
    known = _INCIDENT_KINDS.get(kind)
    return _(known) if known else _readable(kind)


CROSS_CUTTING = "cross-cutting"  # the code of the report's section of objectives outside the focus areas


def report_title(agreement_title: str) -> str:
    """The report's name, then the agreement's title (the data's text, as the catalogue translates it): a heading of
    two names, as a cover page sets them."""
    return _("Joint progress report") + " — " + in_language(agreement_title)


def section_name(code: str, name: str) -> str:
    """A section's heading: a focus area's name from the agreement (as the catalogue translates the data's text), or
    the cross-cutting section's."""
    return _("Cross-cutting objectives") if code == CROSS_CUTTING else in_language(name)

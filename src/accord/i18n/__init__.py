"""The languages Accord speaks (English, French, Hindi): the language of the work at hand, its message catalogues
(gettext, compiled from src/accord/locale/*/LC_MESSAGES/accord.po) and Babel's formatting of dates and numbers."""

from accord.i18n.catalogue import N_, gettext, ngettext, pgettext
from accord.i18n.formats import (
    format_count,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_size,
)
from accord.i18n.language import (
    LANGUAGE_NAMES,
    Language,
    current_language,
    end_request,
    language_scope,
    negotiate,
    parse_language,
    prefer,
    process_language,
    request_language,
)

_ = gettext

__all__ = [
    "LANGUAGE_NAMES",
    "N_",
    "Language",
    "_",
    "current_language",
    "end_request",
    "format_count",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_percent",
    "format_size",
    "gettext",
    "language_scope",
    "negotiate",
    "ngettext",
    "parse_language",
    "pgettext",
    "prefer",
    "process_language",
    "request_language",
]

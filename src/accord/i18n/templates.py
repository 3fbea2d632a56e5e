"""Jinja's i18n extension wired to Accord's catalogues: `{{ _("…") }}`, `{% trans %}` and `ngettext` in templates,
translated into the language of the request being rendered; Babel's formats as filters."""

from __future__ import annotations

from typing import Protocol

from jinja2 import Environment

from accord.i18n.catalogue import gettext, ngettext, pgettext
from accord.i18n.formats import (
    format_count,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_size,
)
from accord.i18n.language import LANGUAGE_NAMES, Language, current_language


class OfficiallyNamed(Protocol):
    """Anything with official names in Accord's languages (an agency): known by its method, so this lowest layer
    imports nothing of the domain."""

    def name_in(self, language: Language | None = None) -> str: ...


def official_name(named: OfficiallyNamed, language: Language | None = None) -> str:
    """`{{ official_name(agency) }}`: its official name in the language being rendered (English where it has none)."""
    return named.name_in(language)


def install_i18n(environment: Environment) -> None:
    """Newstyle gettext (RFC-free, Jinja's own): `_("%(n)s records", n=3)` formats and escapes its arguments."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext)  # type: ignore[attr-defined]
    environment.globals.update(
        current_language=current_language, languages=LANGUAGE_NAMES, Language=Language, official_name=official_name
    )
    environment.filters.update(
        count=format_count,
        decimal=format_decimal,
        percent=format_percent,
        date=format_date,
        datetime=format_datetime,
        size=format_size,
    )

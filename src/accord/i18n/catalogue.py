"""The message catalogues: English is the source language; French and Hindi come from the .po files under
accord/locale, compiled to .mo at build time (read from the .po itself where a build has not compiled it since)."""

from __future__ import annotations

import gettext as _gettext
from functools import cache
from importlib import resources
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from accord.i18n.language import Language, current_language

DOMAIN = "accord"


@cache
def translations(language: Language) -> _gettext.NullTranslations:
    if language is Language.EN:
        return NullTranslations()
    folder = resources.files("accord") / "locale" / language.value / "LC_MESSAGES"
    compiled, source = Path(str(folder / f"{DOMAIN}.mo")), Path(str(folder / f"{DOMAIN}.po"))
    # The .mo the build compiled, unless the .po has changed since (a translator's edit not yet built).
    if compiled.is_file() and (not source.is_file() or compiled.stat().st_mtime >= source.stat().st_mtime):
        with compiled.open("rb") as mo:
            return Translations(mo, domain=DOMAIN)
    if source.is_file():
        with source.open("rb") as po:
            catalogue = read_po(po, locale=language.locale)
        buffer = BytesIO()
        write_mo(buffer, catalogue)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    return NullTranslations()


def gettext(message: str) -> str:
    """`message` in the current language (itself where the catalogue has no translation)."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for `n` things, by the plural rules of the current language."""
    return translations(current_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A message whose translation depends on where it is used (one English word, two French ones)."""
    return translations(current_language()).pgettext(context, message)


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is defined; it is translated where it is shown."""
    return message

"""Official forms of a name in the other languages Accord speaks: an institution's or a marking's own French or
Hindi form where one exists, its English form otherwise (never a translation made up for the screen); and the
other text of the data files (a focus area's name, a caveat's words), which the catalogues translate."""

from __future__ import annotations

import re

from accord.i18n import Language, _, current_language, language_scope

_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")


def french_form(value: str | None) -> str | None:
    """A pydantic validator's check of an official French form: Latin letters, no surrounding spaces."""
    if value is not None and (value != value.strip() or not _LATIN_LETTER.search(value)):
        raise ValueError("an official French form is written in Latin letters, without surrounding spaces")
    return value


def hindi_form(value: str | None) -> str | None:
    """A pydantic validator's check of an official Hindi form: Devanagari (a romanised form is not official), no
    surrounding spaces."""
    if value is not None and (value != value.strip() or not _DEVANAGARI.search(value)):
        raise ValueError("an official Hindi form is written in Devanagari, without surrounding spaces")
    return value


def official_form(english: str, french: str | None, hindi: str | None, language: Language | None = None) -> str:
    """The form for `language` (default: the current language), the English one where that language has none."""
    chosen = {Language.FR: french, Language.HI: hindi}.get(language or current_language())
    return chosen or english


def in_language(text: str, language: Language | None = None) -> str:
    """Text of a data file (extracted into the catalogues) in `language` (default: the current language); as written
    where the catalogue has no translation (text an officer has since changed, say)."""
    if language is None:
        return _(text)
    with language_scope(language):
        return _(text)

"""Which language the work at hand is in: set per request (the officer's choice, the browser's cookie, the API
client's Accept-Language or the node's default) and read wherever text is produced."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from enum import StrEnum

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale


class Language(StrEnum):
    EN = "en"
    FR = "fr"
    HI = "hi"

    @property
    def locale(self) -> Locale:
        """The CLDR locale whose conventions (dates, numbers) the language is written in."""
        return Locale.parse(_LOCALES[self])


_LOCALES = {Language.EN: "en_CA", Language.FR: "fr_CA", Language.HI: "hi_IN"}

# Each language by its own name, as a language switch shows it (a reader looks for the name they read).
LANGUAGE_NAMES = {Language.EN: "English", Language.FR: "Français", Language.HI: "हिन्दी"}


@dataclass(slots=True)
class _Choice:
    """Mutable on purpose: a request's dependencies run in copies of its context, and the officer they resolve may
    still set the language the rest of the request is written in."""

    language: Language
    explicit: bool  # asked for by this request itself (cookie, Accept-Language): the officer's setting does not win


_choice: ContextVar[_Choice | None] = ContextVar("accord_language", default=None)


def current_language() -> Language:
    choice = _choice.get()
    return choice.language if choice else process_language()


def process_language() -> Language:
    """Outside a request (a CLI command, a node's own threads): ACCORD_LANGUAGE, else the POSIX locale variables, as
    every gettext program reads them; English when none names one of ours."""
    for variable in ("ACCORD_LANGUAGE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        for tag in value.split(":"):
            if tag and tag not in ("C", "POSIX") and not tag.startswith(("C.", "POSIX.")):
                try:
                    return parse_language(tag.split(".")[0])
                except ValueError:
                    break
        if value:
            return Language.EN
    return Language.EN


def parse_language(value: str) -> Language:
    """A language tag of ours ('fr', 'fr-CA', 'hi_IN', 'EN'); ValueError names the ones there are."""
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    try:
        return Language(primary)
    except ValueError:
        known = ", ".join(language.value for language in Language)
        raise ValueError(f"unknown language {value!r}; Accord speaks {known}") from None


def negotiate(accept_language: str | None) -> Language | None:
    """The best of our languages for an Accept-Language field (RFC 9110 §12.5.4), or None when it names none."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    preferred = [tag.replace("-", "_") for _, _, tag in sorted(ranked)]
    if "*" in preferred:
        preferred = [tag for tag in preferred if tag != "*"] + ["en"]
    try:
        chosen = negotiate_locale(preferred, [language.value for language in Language], sep="_")
    except UnknownLocaleError:
        chosen = None
    if chosen is None:
        for tag in preferred:  # 'fr_BE' or 'hi_Latn' still choose French or Hindi
            try:
                return parse_language(tag)
            except ValueError:
                continue
        return None
    return Language(chosen)


def request_language(language: Language, *, explicit: bool) -> Token[_Choice | None]:
    """Begin a request's work in `language`; reset the token it returns when the request ends."""
    return _choice.set(_Choice(language, explicit))


def end_request(token: Token[_Choice | None]) -> None:
    _choice.reset(token)


def prefer(language: Language | None) -> None:
    """The signed-in officer's own language, unless the request asked for one itself."""
    choice = _choice.get()
    if language is not None and choice is not None and not choice.explicit:
        choice.language = language


@contextmanager
def language_scope(language: Language) -> Iterator[None]:
    """Work in `language` for a while (a CLI command, a report printed in a given language)."""
    token = _choice.set(_Choice(language, True))
    try:
        yield
    finally:
        _choice.reset(token)

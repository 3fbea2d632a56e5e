"""The language of the work at hand: Accept-Language negotiation, the process's language from its environment,
plural forms and Babel's formats per language, and a request's choice the officer's setting does not override."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accord.i18n import (
    Language,
    _,
    current_language,
    end_request,
    format_count,
    format_date,
    format_percent,
    format_size,
    language_scope,
    negotiate,
    ngettext,
    parse_language,
    prefer,
    process_language,
    request_language,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CA,fr;q=0.9,en;q=0.8", Language.FR),
        ("en-US,en;q=0.9", Language.EN),
        ("hi-IN", Language.HI),
        ("pa-IN, hi;q=0.5", Language.HI),  # Punjabi first, which Accord does not speak: Hindi next
        ("fr;q=0, hi", Language.HI),  # q=0 means "not this one" (RFC 9110 §12.4.2)
        ("fr-BE", Language.FR),
        ("*", Language.EN),
        ("de-DE", None),
        ("", None),
        ("garbage;;q=x", None),
    ],
)
def test_accept_language_chooses_the_best_of_our_languages(header: str, expected: Language | None) -> None:
    assert negotiate(header) == expected


def test_a_language_tag_is_read_in_any_case_and_separator_and_an_unknown_one_is_named() -> None:
    assert parse_language("FR_ca") is Language.FR and parse_language("hi-IN") is Language.HI
    with pytest.raises(ValueError, match="unknown language 'de'; Accord speaks en, fr, hi"):
        parse_language("de")


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"ACCORD_LANGUAGE": "fr"}, Language.FR),
        ({"LANG": "hi_IN.UTF-8"}, Language.HI),
        ({"LANGUAGE": "fr_CA:en", "LANG": "en_CA.UTF-8"}, Language.FR),
        ({"LANG": "C.UTF-8"}, Language.EN),
        ({"LANG": "de_DE.UTF-8"}, Language.EN),
        ({}, Language.EN),
    ],
)
def test_a_command_speaks_the_language_of_its_environment(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: Language
) -> None:
    for name in ("ACCORD_LANGUAGE", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert process_language() is expected


def test_the_officer_s_language_applies_unless_the_request_chose_one() -> None:
    token = request_language(Language.EN, explicit=False)
    try:
        prefer(Language.HI)
        assert current_language() is Language.HI
    finally:
        end_request(token)
    token = request_language(Language.FR, explicit=True)
    try:
        prefer(Language.HI)
        assert current_language() is Language.FR
    finally:
        end_request(token)


def test_messages_and_plural_forms_follow_the_language() -> None:
    with language_scope(Language.FR):
        assert _("Sign in") not in ("", "Sign in")
        one, two = (ngettext("{count} minute", "{count} minutes", n).format(count=n) for n in (1, 2))
        assert one != two
        zero = ngettext("{count} minute", "{count} minutes", 0).format(count=0)
        assert zero.replace("0", "1") == one  # French counts zero in the singular
    with language_scope(Language.EN):
        assert ngettext("{count} minute", "{count} minutes", 0).format(count=0) == "0 minutes"


def test_numbers_dates_and_shares_are_written_as_each_language_writes_them() -> None:
    day = datetime(2026, 11, 29, tzinfo=UTC)
    with language_scope(Language.EN):
        assert (format_count(1234567), format_percent(0.25), format_date(day)) == ("1,234,567", "25%", "Nov 29, 2026")
    with language_scope(Language.FR):
        assert format_count(1234567) == "1\u00a0234\u00a0567"
        assert format_percent(0.25) == "25\u00a0%"
        assert format_date(day) == "29 nov. 2026"
    with language_scope(Language.HI):
        assert format_count(1234567) == "12,34,567"  # lakh grouping


def test_file_sizes_are_written_in_each_language_s_units() -> None:
    with language_scope(Language.EN):
        assert [format_size(n) for n in (1, 12, 2048, 1536000)] == ["1 byte", "12 bytes", "2\u00a0kB", "1.5\u00a0MB"]
    with language_scope(Language.FR):
        assert [format_size(n) for n in (1, 12, 1536000)] == ["1 octet", "12 octets", "1,5\u00a0Mo"]

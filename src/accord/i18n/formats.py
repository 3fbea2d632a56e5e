"""Dates, numbers and shares written as the current language writes them (Babel, CLDR)."""

from __future__ import annotations

from datetime import date, datetime

from babel import dates, numbers

from accord.i18n.language import current_language


def format_datetime(moment: datetime, pattern: str = "medium") -> str:
    return dates.format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=current_language().locale)


def format_date(day: date | datetime, pattern: str = "medium") -> str:
    return dates.format_date(day, pattern, locale=current_language().locale)


def format_decimal(value: float, pattern: str | None = None) -> str:
    return numbers.format_decimal(value, pattern, locale=current_language().locale)


def format_count(value: int) -> str:
    return numbers.format_decimal(value, locale=current_language().locale)


def format_percent(share: float, pattern: str | None = None) -> str:
    """A share (0.25) as a percentage: '25%' in English, '25 %' in French (CLDR)."""
    return numbers.format_percent(share, pattern, locale=current_language().locale)

"""Dates, numbers and shares written as the current language writes them (Babel, CLDR)."""

from __future__ import annotations

from datetime import date, datetime

from babel import dates, numbers, units

from accord.i18n.catalogue import ngettext
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


_SIZE_UNITS = (("digital-gigabyte", 1024**3), ("digital-megabyte", 1024**2), ("digital-kilobyte", 1024))


def format_size(size: int) -> str:
    """A file's size as a reader reads it: '12 bytes', '1.5 MB' / '1,5 Mo' (binary multiples, one decimal)."""
    for unit, factor in _SIZE_UNITS:
        if size >= factor:
            shown = units.format_unit(round(size / factor, 1), unit, "short", locale=current_language().locale)
            return shown.replace(" ", "\u00a0")  # a figure and its unit stay on one line
    return ngettext("{count} byte", "{count} bytes", size).format(count=format_count(size))

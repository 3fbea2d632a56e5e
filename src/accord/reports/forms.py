"""How the progress report writes days, moments, durations, shares and counts in the language it is printed in.

French and Hindi follow their CLDR conventions (Babel). English keeps the forms the report has always carried, so a
quarter's report reads like the last one beside it on the ministers' table: ISO dates (Canada's own short form), 24-hour
UTC times and a spaced percent sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from accord.i18n import (
    Language,
    _,
    current_language,
    format_count,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
)

PLACEHOLDER = "—"  # a figure that cannot be computed (no request answered, nothing decided)
_ONE_DECIMAL = "#,##0.0"
_DAYS_FROM_HOURS = 48  # from two days on, a duration reads better in days


@dataclass(frozen=True, slots=True)
class _Patterns:
    """CLDR patterns (or Babel's format names) of one language."""

    day: str
    moment: str
    chart_day: str
    percent: str | None  # None: the language's own percent pattern


_ENGLISH = _Patterns(day="yyyy-MM-dd", moment="yyyy-MM-dd HH:mm 'UTC'", chart_day="MM-dd", percent="#,##0 %")


@cache
def _patterns(language: Language) -> _Patterns:
    if language is Language.EN:
        return _ENGLISH
    locale = language.locale
    day = locale.date_formats["medium"].pattern
    time = locale.time_formats["short"].pattern
    moment = locale.datetime_formats["medium"].replace("{1}", day).replace("{0}", time)
    return _Patterns(day=day, moment=f"{moment} 'UTC'", chart_day=str(locale.datetime_skeletons["MMMd"]), percent=None)


def _as_day(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value[:10])


def format_day(value: date | str | None) -> str:
    """A day (a date, or ISO text): 2026-11-29, 29 nov. 2026, 29 नव॰ 2026."""
    if not value:
        return PLACEHOLDER
    return format_date(_as_day(value), _patterns(current_language()).day)


def format_chart_day(value: date | str) -> str:
    """A day as a chart's axis labels it, without the year: 11-29, 29 nov., 29 नव॰."""
    return format_date(_as_day(value), _patterns(current_language()).chart_day)


def format_moment(value: datetime | str | None) -> str:
    """A moment in UTC, to the minute (the report's times are all UTC)."""
    if not value:
        return PLACEHOLDER
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(moment, _patterns(current_language()).moment)


def format_hours(value: float | None) -> str:
    """A duration measured in hours: in hours under two days, in days from then on (12.5 h, 3.2 d)."""
    if value is None:
        return PLACEHOLDER
    if value < _DAYS_FROM_HOURS:
        # TRANSLATORS: a duration in hours, e.g. "12.5 h"; French writes a no-break space before the unit.
        return _("{hours} h").format(hours=format_decimal(value, _ONE_DECIMAL))
    # TRANSLATORS: a duration in days, e.g. "3.2 d"; French writes a no-break space before the unit.
    return _("{days} d").format(days=format_decimal(value / 24, _ONE_DECIMAL))


def format_share(value: float | None) -> str:
    """A share (0..1) as a whole percentage: 25 %."""
    if value is None:
        return PLACEHOLDER
    return format_percent(value, _patterns(current_language()).percent)


def format_number(value: float | None) -> str:
    """A count, or a figure of a breakdown: 1,234 / 1 234 / 1,234."""
    if value is None:
        return PLACEHOLDER
    if isinstance(value, int) or float(value).is_integer():
        return format_count(int(value))
    return format_decimal(value)


def format_indicator(value: float | None, unit: str) -> str:
    """An indicator's value by its unit: "share" (0..1), "hours", or a count."""
    if unit == "share":
        return format_share(value)
    if unit == "hours":
        return format_hours(value)
    return format_number(value)

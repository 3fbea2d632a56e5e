"""Reporting periods: a quarter (2026-Q4), a month (2026-11), a year (2026) or a range (2026-10-01..2026-12-31)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from accord.errors import InvalidInput
from accord.i18n import _

MAX_RANGE_DAYS = 3653  # ten years
_FORMS = "a quarter (2026-Q4), a month (2026-11), a year (2026) or a date range (2026-10-01..2026-12-31)"

# The periods `parse_period` takes, as one regular expression (for the API's OpenAPI document and its checks): years
# 1000 to 9998 (a period's end, the day after, is still a date), real calendar days (29 February in leap years only).
# That a range ends on or after its first day, within ten years, is a rule between its two dates no pattern states.
_YEAR = r"(?:[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
_LEAP_YEAR = r"(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = (
    rf"(?:{_YEAR}-{_MONTH}-(?:0[1-9]|1[0-9]|2[0-8])|{_YEAR}-(?:0[13-9]|1[0-2])-(?:29|30)"
    rf"|{_YEAR}-(?:0[13578]|1[02])-31|{_LEAP_YEAR}-02-29)"
)
PERIOD_PATTERN = rf"^(?:{_YEAR}|{_YEAR}-[Qq][1-4]|{_YEAR}-{_MONTH}|{_DAY}\.\.{_DAY})$"


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime  # inclusive, UTC midnight
    end: datetime  # exclusive, UTC midnight

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def months(self) -> list[str]:
        """The calendar months the period touches, as YYYY-MM."""
        found, day = [], self.start.date().replace(day=1)
        while day <= self.last_day:
            found.append(f"{day:%Y-%m}")
            day = _month_start(day.year, day.month + 1)
        return found


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(text: str) -> Period:
    value = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", value, re.IGNORECASE):
            year, quarter = int(m[1]), int(m[2])
            first = date(year, 3 * quarter - 2, 1)
            return Period(f"{year}-Q{quarter}", _midnight(first), _midnight(_month_start(year, 3 * quarter + 1)))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
            year, month = int(m[1]), int(m[2])
            return Period(value, _midnight(date(year, month, 1)), _midnight(_month_start(year, month + 1)))
        if re.fullmatch(r"\d{4}", value):
            year = int(value)
            return Period(value, _midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1)))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", value):
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < first:
                raise InvalidInput(_("the period {value!r} ends before it starts").format(value=value))
            if (last - first).days >= MAX_RANGE_DAYS:
                # A report measures the period week by week: a range of centuries would take minutes and gigabytes.
                raise InvalidInput(
                    _("the period {value!r} is longer than a date range may be (ten years)").format(value=value)
                )
            return Period(value, _midnight(first), _midnight(last + timedelta(days=1)))
    except ValueError as exc:
        raise InvalidInput(_("{value!r} is not a real period: {exc}").format(value=value, exc=exc)) from exc
    raise InvalidInput(_("{value!r} is not a period; give {FORMS}").format(value=value, FORMS=_FORMS))

"""Reporting periods: a quarter (2026-Q4), a month (2026-11), a year (2026) or a range (2026-10-01..2026-12-31)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from accord.errors import InvalidInput

_FORMS = "a quarter (2026-Q4), a month (2026-11), a year (2026) or a date range (2026-10-01..2026-12-31)"


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
                raise InvalidInput(f"the period {value!r} ends before it starts")
            return Period(value, _midnight(first), _midnight(last + timedelta(days=1)))
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not a real period: {exc}") from exc
    raise InvalidInput(f"{value!r} is not a period; give {_FORMS}")

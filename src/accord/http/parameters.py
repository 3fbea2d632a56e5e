"""Parameters exactly as the OpenAPI document declares them. Dates and times (`format: date`, `date-time`): RFC 3339
text only, where pydantic alone also reads a number as a Unix timestamp, which the document does not allow. Text of a
form the document gives as a `pattern`: refused with what the form is, not with the regular expression."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

# RFC 3339 §5.6: full-date, and date-time with its time zone (a time without one is not a date-time).
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def matching(pattern: re.Pattern[str], form: str) -> BeforeValidator:
    """A check that text has the form `pattern` describes, refusing other text as "'…' is not `form`"."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {form}")
        return value

    return BeforeValidator(check)


Rfc3339Date = Annotated[date, matching(_FULL_DATE, "an RFC 3339 date, e.g. 2026-11-28")]
Rfc3339DateTime = Annotated[
    datetime, matching(_DATE_TIME, "an RFC 3339 date-time with a time zone, e.g. 2026-11-28T09:00:00Z")
]

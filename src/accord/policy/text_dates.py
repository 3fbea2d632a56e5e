"""Dates in free text, for the minimisation screen: "1980-02-03", "03/02/1980", "3rd March 1980", "March 3, 1980",
"15 अगस्त 1990", with the month names of the vocabulary in any case.

One regular expression says what a date is. Searched as it is, it is tried at every position of a text, and at each
it tries every month name case-insensitively: 0.45 µs a character, 0.7 ms for a message's 1,500 characters, the
largest part of the screen. Here it is tried only where a date can start: every date holds a digit run (a number
of its own, or the day or year after a month name and spaces), so a date starts at a digit run that follows no
digit, or at a month name's length before the spaces ahead of one. Trying the expression at each of those positions
in order finds what searching the whole text finds, match for match (`tests/unit/test_text_dates.py`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Final

_DIGIT_RUN: Final = re.compile(r"[0-9]+")  # each match a whole run: it starts where no digit comes before
_TEXTS_REMEMBERED: Final = 256


class TextDates:
    """The dates of the month names `months` (none may end with a space: a date's month is followed by `\\s+`)."""

    def __init__(self, months: Sequence[str]) -> None:
        if not months or any(not m or m[-1].isspace() for m in months):
            raise ValueError("month names are words: none is empty or ends with a space")
        names = "|".join(re.escape(m) for m in sorted(months, key=len, reverse=True))
        self.pattern: Final = re.compile(
            r"(?<![0-9])(?:[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
            r"|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
            rf"|[0-9]{{1,2}}(?:st|nd|rd|th|er)?\s+(?:{names})\.?,?\s+[0-9]{{4}}"
            rf"|(?:{names})\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+[0-9]{{4}})(?![0-9])",
            re.IGNORECASE,
        )
        # Case-insensitive matching in `re` is a character for a character: a name matches as many as it has.
        self._lengths: Final = sorted({len(m) for m in months})
        # A character a name can start with, case-insensitively as the expression reads it: a class of the names'
        # first letters matches the same characters as the letters do (tested over every character).
        self.name_start: Final = re.compile(
            "[" + "".join(sorted({re.escape(m[0]) for m in months})) + "]", re.IGNORECASE
        )
        # A field is asked both whether it holds a date and what is left without its dates.
        self.spans: Callable[[str], tuple[tuple[int, int], ...]] = lru_cache(maxsize=_TEXTS_REMEMBERED)(
            self._find_spans
        )

    def search(self, text: str) -> tuple[int, int] | None:
        """Where the first date in `text` starts and ends, as `pattern.search(text)` finds it."""
        found = self.spans(text)
        return found[0] if found else None

    def subn(self, replacement: str, text: str) -> tuple[str, int]:
        """`text` with each date replaced, and how many there were, as `pattern.subn(replacement, text)` gives (the
        replacement is taken literally)."""
        found = self.spans(text)
        if not found:
            return text, 0
        parts: list[str] = []
        done = 0
        for start, end in found:
            parts += (text[done:start], replacement)
            done = end
        parts.append(text[done:])
        return "".join(parts), len(found)

    def _find_spans(self, text: str) -> tuple[tuple[int, int], ...]:
        """Where each date starts and ends, as `pattern.finditer` finds them (dates do not overlap); `spans` is this,
        remembered for the texts read lately."""
        spans: list[tuple[int, int]] = []
        done = 0
        for start in self._starts(text):
            if start < done:
                continue
            found = self.pattern.match(text, start)
            if found is not None:
                done = found.end()
                spans.append((start, done))
        return tuple(spans)

    def _starts(self, text: str) -> list[int]:
        """Every position a date can start at, in order (a few that cannot, too)."""
        starts: set[int] = set()
        for run in _DIGIT_RUN.finditer(text):
            digit = run.start()
            starts.add(digit)
            # A month name, then perhaps a full stop, then the spaces before this digit run. A name does not end
            # with a space, and neither does a full stop, so the spaces are all those before the digit.
            spaces = digit
            while spaces and text[spaces - 1].isspace():  # `\s` is `str.isspace` (tested over every character)
                spaces -= 1
            if spaces == digit:
                continue
            for end in (spaces, spaces - 1) if text[spaces - 1 : spaces] == "." else (spaces,):
                starts.update(
                    end - length
                    for length in self._lengths
                    if length <= end and self.name_start.match(text, end - length) is not None
                )
        return sorted(starts)


__all__ = ["TextDates"]

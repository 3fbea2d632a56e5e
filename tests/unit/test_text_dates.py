"""Dates found by trying the expression only where a date can start (`accord.policy.text_dates`) are those that
searching the whole text finds: the same first date, the same replacements, whatever the text and the month names."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.policy.persons import PersonRecordVocabulary, person_records
from accord.policy.text_dates import TextDates

SHIPPED = person_records().vocabulary.months
SPACES = ["\u00a0", "\u2003", "\u3000", "\t", "\n", "\x1c", "\x85"]

# Texts built from what dates are made of, so that most texts hold some and many hold near-misses.
FRAGMENTS = st.sampled_from(
    [
        *SHIPPED,
        *(m.upper() for m in SHIPPED),
        *(m.title() for m in SHIPPED),
        " ",
        "  ",
        *SPACES,
        ".",
        ",",
        "-",
        "/",
        "st",
        "nd",
        "th",
        "ER",
        "a",
        "Kumar",
        "x",
        "ſ",  # matches "s" case-insensitively
        "K",  # the Kelvin sign: matches "k"
    ]
)
DIGITS = st.integers(min_value=0, max_value=99_999).map(str)
SPACE_RUNS = st.lists(st.sampled_from([" ", *SPACES]), min_size=0, max_size=3).map("".join)


def _case(month: str, how: int) -> str:
    return (month, month.upper(), month.title(), month.swapcase())[how]


@st.composite
def _date_like(draw: st.DrawFn, months: st.SearchStrategy[str]) -> str:
    """A date in one of the shapes, or one with a part missing, doubled or out of place."""
    month = _case(draw(months), draw(st.integers(0, 3)))
    day = draw(st.sampled_from(["3", "03", "31", "123", ""]))
    year = draw(st.sampled_from(["1980", "80", "19800", "2026", ""]))
    dot, comma = draw(st.sampled_from(["", ".", ".."])), draw(st.sampled_from(["", ",", ",,"]))
    suffix = draw(st.sampled_from(["", "st", "nd", "RD", "th", "er", "x"]))
    sep = draw(st.sampled_from(["-", "/", ".", " "]))
    spaces = [draw(SPACE_RUNS) for _ in range(2)]
    shapes = [
        f"{year}{sep}{day}{sep}{day}",
        f"{day}{sep}{day}{sep}{year}",
        f"{day}{suffix}{spaces[0]}{month}{dot}{comma}{spaces[1]}{year}",
        f"{month}{dot}{spaces[0]}{day}{suffix}{comma}{spaces[1]}{year}",
    ]
    return draw(st.sampled_from(shapes))


def _texts(months: st.SearchStrategy[str], noise: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(_date_like(months), noise, DIGITS), max_size=12).map("".join)


TEXTS = _texts(st.sampled_from(SHIPPED), FRAGMENTS)


def _span(found: re.Match[str] | None) -> tuple[int, int] | None:
    return None if found is None else found.span()


def test_a_space_of_the_expression_is_a_space_of_python() -> None:
    space = re.compile(r"\s")
    assert all((space.match(chr(c)) is not None) == chr(c).isspace() for c in range(sys.maxunicode + 1))


def test_a_class_of_the_names_first_letters_matches_what_the_letters_match() -> None:
    """Case-insensitively, as the date expression reads a name: `ſ` is an `s`, the Kelvin sign a `k`."""
    dates = TextDates([*SHIPPED, "kelvin", "ſtrange", "ǅ", "Σ"])
    letters = re.compile("|".join(re.escape(m[0]) for m in [*SHIPPED, "kelvin", "ſtrange", "ǅ", "Σ"]), re.IGNORECASE)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (dates.name_start.match(char) is None) == (letters.match(char) is None), hex(code)


@settings(max_examples=1500)
@given(TEXTS)
def test_the_shipped_months_find_what_the_whole_search_finds(text: str) -> None:
    dates = TextDates(SHIPPED)
    assert dates.search(text) == _span(dates.pattern.search(text))
    assert dates.subn(" ", text) == dates.pattern.subn(" ", text)


MONTH_LETTERS = st.sampled_from(["a", "m", "A", "M", ".", "é", "म", "ਮ", "1", "-", "y", "\u00a0"])
MONTHS = st.lists(
    st.lists(MONTH_LETTERS, min_size=1, max_size=5).map("".join).filter(lambda m: not m[-1].isspace()),
    min_size=1,
    max_size=6,
    unique=True,
)
ODD_NOISE = st.sampled_from(["a", "m", "M", "A", ".", "é", "म", "ਮ", "y", ",", " ", "\u2003", "th"])


@settings(max_examples=1000)
@given(st.data(), MONTHS)
def test_any_month_names_find_what_the_whole_search_finds(data: st.DataObject, months: list[str]) -> None:
    """Names that end with a full stop, hold digits or spaces, or are one letter long, all of various lengths."""
    dates = TextDates(months)
    text = data.draw(_texts(st.sampled_from(months), ODD_NOISE))
    assert dates.search(text) == _span(dates.pattern.search(text))
    assert dates.subn("~", text) == dates.pattern.subn("~", text)


@pytest.mark.parametrize("months", [["march "], ["", "may"], [" june"]])
def test_month_names_with_spaces_around_them_are_refused(months: list[str]) -> None:
    if months[0].endswith(" ") or not months[0]:
        with pytest.raises(ValueError, match="month names are words"):
            TextDates(months)
    vocabulary = person_records().vocabulary.model_dump()
    with pytest.raises(ValueError, match="a month name is a word"):
        PersonRecordVocabulary.model_validate(vocabulary | {"months": [*vocabulary["months"], *months]})


@pytest.mark.parametrize(
    "text",
    [
        "on SEPTEMBER.\u2003 3rd, 1980",  # the longest name, then a full stop
        "septembre.  31 2026 and 1 août 1990",
        "15 अगस्त 1990, ਮਾਰਚ 3, 1980",
        "x3 March 1980",  # a letter before the day: still a date
        "13 March 1980",  # the day is the digit run, not its last digit
        "2026-11-30/1",
    ],
)
def test_dates_in_officers_texts_are_found_as_the_whole_search_finds_them(text: str) -> None:
    dates = TextDates(SHIPPED)
    found = dates.search(text)
    assert found is not None
    assert found == _span(dates.pattern.search(text))
    assert dates.subn("_", text) == dates.pattern.subn("_", text)


def test_a_text_without_a_date_is_given_back_unchanged() -> None:
    dates = TextDates(SHIPPED)
    text = "Reference CA-RCMP-00000001. Consignee of 4-AP, invoice 22 of the 3rd"
    assert dates.search(text) is None
    assert dates.subn(" ", text) == (text, 0)
    assert dates.subn(" ", "born 3 March 1980 and 1990-01-02.") == ("born   and  .", 2)

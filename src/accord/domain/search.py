"""Words as full-text search reads them, in any script: what a text's words are, what a typed query asks for, and
where a query's words stand in a text (for highlighting). Both stores index these words, so a word matches alike on
SQLite and PostgreSQL whatever either one's own tokeniser or the server's locale would do.

A word is a run of letters, marks and digits (Unicode categories L*, M*, N*, and Co). Marks are part of the word:
Devanagari and Gurmukhi vowel signs, virama and nukta are combining marks (Mn, Mc), and a tokeniser that takes them
for separators cuts एसिटिक into एस, क and ट. Joiners inside a word (ZWJ, ZWNJ, soft hyphen) are dropped. Words are
compared case-folded and without the Latin script's accents (the Combining Diacritical Marks block, U+0300–U+036F,
after compatibility decomposition), so "precurseur" finds "précurseur" — while an Indic mark, outside that block,
stays.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain

from accord.domain.ascii_runs import ascii_runs, ascii_separators, split_ascii

MAX_WORD_CHARS = 64  # longer runs (a base64 blob, a hash) are cut: both sides cut alike
MAX_DOCUMENT_CHARS = 200_000  # one message's distinct words, spaces included: far below PostgreSQL's tsvector limit
MAX_QUERY_WORDS = 16
MAX_QUERY_CHARS = 200
PREFIX_MARK = "*"

_DROPPED = frozenset({"\u00ad", "\u200c", "\u200d", "\u2060"})  # soft hyphen, ZWNJ, ZWJ, word joiner
_ACCENTS = range(0x0300, 0x0370)


def is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Co"


def fold(text: str) -> str:
    """Case-folded, without Latin accents or joiners; NFC, so that equal words are equal strings."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if ord(c) not in _ACCENTS and c not in _DROPPED)
    return unicodedata.normalize("NFC", kept)


def _runs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of word characters (joiners included) in `text`."""
    return (match.span() for match in _runs_in(text).finditer(text))


@cache
def _run_pattern() -> re.Pattern[str]:
    """A run of word characters: one character class listing every code point `is_word_char` accepts in the Unicode
    database of this Python (built once per process, a quarter of a second), so the runs are found by the regular
    expression engine rather than one character at a time."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        inside = is_word_char(char) or char in _DROPPED
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append((start, code - 1))
            start = None
    if start is not None:
        ranges.append((start, sys.maxunicode))
    # The engine tests a class's characters above U+FFFF one range after another, so a class of them all makes every
    # space and comma cost two hundred comparisons: those ranges form a second class, tried only past U+FFFF.
    basic = [(a, min(b, 0xFFFF)) for a, b in ranges if a <= 0xFFFF]
    astral = [(max(a, 0x10000), b) for a, b in ranges if b > 0xFFFF]
    return re.compile(f"(?:[{_members(basic)}]|(?=[\U00010000-\U0010ffff])[{_members(astral)}])+")


@cache
def _ascii_run_pattern() -> re.Pattern[str]:
    return ascii_runs(_run_pattern())


def _runs_in(text: str) -> re.Pattern[str]:
    return _ascii_run_pattern() if text.isascii() else _run_pattern()


def _members(ranges: list[tuple[int, int]]) -> str:
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


def build_word_pattern() -> None:
    """Build the word pattern now (a node's start-up) rather than when the first message is indexed."""
    _run_pattern()
    _ascii_run_pattern()
    _ascii_separators()


@lru_cache(maxsize=65_536)
def _folded_words(run: str) -> tuple[str, ...]:
    """A run's words once folded (folding can itself make a separator: NFKD turns ½ into 1⁄2); a text's words
    repeat, so each is folded once."""
    folded = fold(run)
    return tuple(word[:MAX_WORD_CHARS] for word in _run_pattern().findall(folded))


@cache
def _ascii_separators() -> bytes:
    return ascii_separators(_run_pattern())


def words(text: str) -> list[str]:
    """The folded words of `text`, in order."""
    if text.isascii():  # folding an ASCII word is lowering it, and lowering a text moves no word's bounds
        found = split_ascii(text.lower(), _ascii_separators())
        return found if max(map(len, found), default=0) <= MAX_WORD_CHARS else [w[:MAX_WORD_CHARS] for w in found]
    return list(chain.from_iterable(map(_folded_words, _run_pattern().findall(text))))


def document(*texts: str) -> str:
    """What a store indexes for a record: its distinct words in order of first appearance, separated by one space,
    cut at MAX_DOCUMENT_CHARS (a word is never cut there)."""
    distinct = dict.fromkeys(chain.from_iterable(map(words, texts)))
    if sum(map(len, distinct)) + len(distinct) <= MAX_DOCUMENT_CHARS:  # as a rule: the words are those of a message
        return " ".join(distinct)
    kept: list[str] = []
    size = 0
    for word in distinct:
        size += len(word) + 1
        if size > MAX_DOCUMENT_CHARS:
            break
        kept.append(word)
    return " ".join(kept)


@dataclass(frozen=True, slots=True)
class SearchTerm:
    word: str
    prefix: bool = False  # typed with a trailing `*`: any word that begins with it

    def matches(self, word: str) -> bool:
        return word.startswith(self.word) if self.prefix else word == self.word


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What an officer typed, read as words that must all be present. Nothing typed is syntax: quotes, parentheses,
    `-`, `NEAR`, `AND`/`OR` are separators or words like any other; only a `*` right after a word asks for a prefix."""

    typed: str
    terms: tuple[SearchTerm, ...]

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, word: str) -> bool:
        return any(term.matches(word) for term in self.terms)


def parse_query(typed: str) -> SearchQuery:
    terms: dict[SearchTerm, None] = {}
    for a, b in _runs(typed):
        found = _folded_words(typed[a:b])
        prefix = typed[b : b + 1] == PREFIX_MARK
        for index, word in enumerate(found):
            terms[SearchTerm(word, prefix and index == len(found) - 1)] = None
    return SearchQuery(typed, tuple(terms))


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    hit: bool


def highlight(text: str, query: SearchQuery) -> list[Segment]:
    """`text` cut into the runs of the query's words (hit) and the rest, joined they give `text` back. The caller
    escapes each segment; nothing here is markup."""
    segments: list[Segment] = []
    last = 0
    for a, b in _runs(text):
        if any(query.matches(word) for word in _folded_words(text[a:b])):
            if a > last:
                segments.append(Segment(text[last:a], False))
            segments.append(Segment(text[a:b], True))
            last = b
    if last < len(text):
        segments.append(Segment(text[last:], False))
    return segments


def mentions(text: str, query: SearchQuery) -> bool:
    return any(query.matches(word) for word in words(text))

"""Multilingual term matching for the screens: text in English, French, Hindi and Punjabi (native scripts and
romanised) is cut into word tokens, and a lexicon's terms match whole tokens or token sequences — never substrings.

Each token gets two keys. The *plain* key is the casefolded word without diacritics ("religieux", "gurdwara"). The
*Indic* key folds the spelling variation of romanised Hindi and Punjabi, and Devanagari and Gurmukhi words are first
transliterated to Latin (indic-transliteration, IAST), so "ਖਾਲਿਸਤਾਨ", "खालिस्तान", "Khalistan" and "Khaalistaan" share
one key. A lexicon term says its language; English and French terms match on the plain key, Hindi and Punjabi terms
(in any script) on the Indic key. A term ending in `*` matches any word that begins with it ("protest*")."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import NamedTuple

# A message's screens read its whole text and, for person records, each of its fields: enough that the whole text is
# still remembered when the last screen reads it.
_TEXTS_REMEMBERED = 512
_WORD = re.compile(r"[\w\u0900-\u097F\u0A00-\u0A7F]+", re.UNICODE)
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_GURMUKHI = re.compile(r"[\u0A00-\u0A7F]")
# Nukta (a dot that modifies a consonant) is spelt inconsistently in practice; the marks below carry no letter.
_IGNORED_MARKS = frozenset({"\u093c", "\u0a3c", "\u200c", "\u200d", "\u0a70", "\u0a71"})
# Romanised Hindi/Punjabi: long vowels written doubled, w/v, ph/f, z/j, q/k, and the schwa that Devanagari does
# not write but romanisations often do; after these folds, doubled letters collapse.
_INDIC_FOLDS: tuple[tuple[str, str], ...] = (
    ("aa", "a"),
    ("ee", "i"),
    ("ii", "i"),
    ("oo", "u"),
    ("uu", "u"),
    ("w", "v"),
    ("ph", "f"),
    ("z", "j"),
    ("q", "k"),
    ("ck", "k"),
    ("sh", "s"),  # ਸ਼/श: the nukta that marks sh in Gurmukhi is often left out
    ("ai", "e"),
    ("ay", "e"),
    ("ua", "va"),  # ਦੁਆਰਾ / dwara
)


class Language(StrEnum):
    ENGLISH = "en"
    FRENCH = "fr"
    HINDI = "hi"  # Devanagari or romanised
    PUNJABI = "pa"  # Gurmukhi or romanised

    @property
    def indic(self) -> bool:
        return self in (Language.HINDI, Language.PUNJABI)


class Token(NamedTuple):  # a tuple: a message's text has hundreds, and a frozen dataclass is 4 times as slow to make
    surface: str
    start: int
    end: int
    plain: str
    indic: str


@dataclass(frozen=True, slots=True)
class Term:
    """A lexicon entry: one word or phrase in one language; `*` at the end matches any continuation of the last
    word."""

    text: str
    language: Language


@dataclass(frozen=True, slots=True)
class Hit:
    concept: str
    term: Term
    surface: str  # the words of the text that matched, as written
    start: int
    end: int


@lru_cache(maxsize=_TEXTS_REMEMBERED)
def tokenise(text: str) -> tuple[Token, ...]:
    """The text's words with their keys; memoised, since every screen of a pack reads the same message text."""
    reading = _read(text)
    plain, indic = reading.words
    return tuple(
        Token(text[start:end], start, end, p, i)
        for start, end, p, i in zip(reading.starts, reading.ends, plain, indic, strict=True)
    )


def has_words(text: str) -> bool:
    """Whether `tokenise(text)` finds a word, without working out the words' keys."""
    return _WORD.search(text) is not None


def name_key(name: str) -> tuple[str, ...]:
    """A name as its words' spelling- and script-tolerant keys, sorted: "Singh, Harpreet", "Harpreet Singh" and
    "हरप्रीत सिंह" are one name."""
    return tuple(sorted(w.indic for w in tokenise(name)))


def plain_key(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def indic_key(word: str) -> str:
    """A spelling-tolerant key for a Hindi or Punjabi word written in Devanagari, Gurmukhi or Latin letters."""
    latin = _to_latin(word)
    latin = "".join(c for c in unicodedata.normalize("NFKD", latin.casefold()) if not unicodedata.combining(c))
    for written, folded in _INDIC_FOLDS:
        latin = latin.replace(written, folded)
    # Inherent vowels: Devanagari/Gurmukhi transliterations carry every schwa, romanisations drop many.
    if len(latin) > 1:
        latin = latin[0] + latin[1:].replace("a", "")
    return re.sub(r"(.)\1+", r"\1", latin)


@dataclass(frozen=True, slots=True)
class _Index:
    """A lexicon's patterns (concept, term, its words' keys, whether its last word is a stem) and, for plain and for
    Indic keys, which patterns a word with a given key can begin."""

    patterns: list[tuple[str, Term, tuple[str, ...], bool]]
    starters: tuple[_Starters, _Starters]  # by `indic`


@dataclass(frozen=True, slots=True)
class _Starting:
    """The patterns a word's key begins: one-word patterns (they match wherever the word is), patterns of several
    words by the key of their second word, and two-word patterns whose second word is a stem."""

    single: tuple[int, ...]
    by_second: dict[str, tuple[int, ...]]
    stemmed_second: tuple[int, ...]


@dataclass(slots=True)
class _Memory:
    """The keys looked up so far, and those among them that begin a pattern."""

    seen: set[str] = field(default_factory=set)
    starting: dict[str, _Starting] = field(default_factory=dict)
    starting_keys: set[str] = field(default_factory=set)


class _Starters:
    """The patterns a word's key can begin: those whose first key it is, and the one-word stems it begins with.

    A text is matched by set operations over its distinct keys rather than by a loop over its words: the keys this
    lexicon has already looked up are remembered (those that begin a pattern with their patterns), so a text's keys
    cost one set difference and one intersection, and only a word not seen before is looked up."""

    _REMEMBERED = 200_000  # distinct keys kept before the memory starts again (reference numbers are all new)

    def __init__(
        self,
        patterns: list[tuple[str, Term, tuple[str, ...], bool]],
        first: dict[str, list[int]],
        stems: dict[str, list[int]],
    ) -> None:
        self._patterns, self._first, self._stems = patterns, first, stems
        self._stem_lengths = sorted({len(stem) for stem in stems})
        self._lock = threading.Lock()
        self._memory = _Memory()  # replaced, never emptied, when full: a reader keeps the one it took

    def starting(self, keys: frozenset[str]) -> list[tuple[str, _Starting]]:
        """Each of `keys` that begins a pattern, with the patterns it begins."""
        memory = self._memory
        if not keys <= memory.seen:
            memory = self._look_up(keys)
        starting = memory.starting
        return [(key, starting[key]) for key in keys & memory.starting_keys]

    def _look_up(self, keys: frozenset[str]) -> _Memory:
        with self._lock:
            memory = self._memory
            unseen = keys - memory.seen
            if len(memory.seen) + len(unseen) > self._REMEMBERED:
                memory = self._memory = _Memory()
                unseen = keys
            for key in unseen:
                patterns = list(self._first.get(key, ()))
                for end in self._stem_lengths:
                    if end > len(key):
                        break
                    patterns += self._stems.get(key[:end], ())
                if patterns:
                    memory.starting[key] = self._split(patterns)
                    memory.starting_keys.add(key)
            memory.seen |= unseen
            return memory

    def _split(self, patterns: list[int]) -> _Starting:
        single: list[int] = []
        by_second: dict[str, list[int]] = {}
        stemmed_second: list[int] = []
        for p in patterns:
            _, _, keys, prefix = self._patterns[p]
            if len(keys) == 1:
                single.append(p)
            elif prefix and len(keys) == 2:
                stemmed_second.append(p)
            else:
                by_second.setdefault(keys[1], []).append(p)
        return _Starting(tuple(single), {k: tuple(v) for k, v in by_second.items()}, tuple(stemmed_second))


@dataclass(frozen=True, slots=True)
class _Reading:
    """A text's words as keys (plain and Indic), where each distinct key occurs, and where each word starts and
    ends: plain lists rather than a `Token` per word, which a long text makes by the hundred."""

    words: tuple[list[str], list[str]]  # by `indic`
    keys: tuple[frozenset[str], frozenset[str]]
    positions: tuple[dict[str, list[int]], dict[str, list[int]]]
    starts: list[int]
    ends: list[int]


@lru_cache(maxsize=_TEXTS_REMEMBERED)
def _read(text: str) -> _Reading:
    plain: list[str] = []
    indic: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    plain_at: dict[str, list[int]] = {}
    indic_at: dict[str, list[int]] = {}
    for i, match in enumerate(_WORD.finditer(text)):
        plain_key, indic_key = _token_keys(match.group())
        plain.append(plain_key)
        indic.append(indic_key)
        starts.append(match.start())
        ends.append(match.end())
        plain_at.setdefault(plain_key, []).append(i)
        indic_at.setdefault(indic_key, []).append(i)
    return _Reading((plain, indic), (frozenset(plain_at), frozenset(indic_at)), (plain_at, indic_at), starts, ends)


class Lexicon:
    """Terms grouped by concept (a protected ground, an offence code): `find` returns every concept whose terms
    occur in a text as whole words."""

    def __init__(self, concepts: Mapping[str, Iterable[Term]]) -> None:
        self._terms = [(concept, term) for concept, terms in concepts.items() for term in terms]
        for concept, term in self._terms:
            if not has_words(term.text.rstrip("*")):
                raise ValueError(f"lexicon term {term.text!r} for {concept!r} has no words")

    @cached_property
    def _index(self) -> _Index:
        """Built when the lexicon first reads a text, not when its file is validated at start-up: the keys of Hindi and
        Punjabi terms need the transliteration tables (see `_to_latin`)."""
        patterns: list[tuple[str, Term, tuple[str, ...], bool]] = []
        first: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
        stems: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
        for concept, term in self._terms:
            prefix = term.text.endswith("*")
            words = tokenise(term.text.rstrip("*"))
            indic = term.language.indic
            keys = tuple(w.indic if indic else w.plain for w in words)
            (stems if prefix and len(keys) == 1 else first)[indic].setdefault(keys[0], []).append(len(patterns))
            patterns.append((concept, term, keys, prefix))
        starters = (_Starters(patterns, first[0], stems[0]), _Starters(patterns, first[1], stems[1]))
        return _Index(patterns, starters)

    def find(self, text: str) -> list[Hit]:
        index = self._index
        reading = _read(text)
        found: list[tuple[int, int]] = []  # (pattern, position of its first word)
        for indic in (False, True):
            positions, words = reading.positions[indic], reading.words[indic]
            last = len(words) - 1
            for key, starting in index.starters[indic].starting(reading.keys[indic]):
                at = positions[key]
                found += ((p, i) for p in starting.single for i in at)
                if starting.by_second:
                    found += ((p, i) for i in at if i < last for p in starting.by_second.get(words[i + 1], ()))
                found += ((p, i) for p in starting.stemmed_second for i in at)
        hits: list[tuple[int, Hit]] = []
        for p, i in found:
            concept, term, keys, prefix = index.patterns[p]
            if _matches(reading.words[term.language.indic], i, keys, prefix):
                start, end = reading.starts[i], reading.ends[i + len(keys) - 1]
                hits.append((p, Hit(concept, term, text[start:end], start, end)))
        return [hit for _, hit in sorted(hits, key=lambda h: (h[1].start, h[1].concept, h[0]))]

    def concepts(self, text: str) -> dict[str, list[str]]:
        """Each concept found, with the words of the text that matched it."""
        found: dict[str, list[str]] = {}
        for hit in self.find(text):
            words = found.setdefault(hit.concept, [])
            if hit.surface not in words:
                words.append(hit.surface)
        return found


def _matches(words: list[str], at: int, keys: tuple[str, ...], prefix: bool) -> bool:
    """Whether the pattern's keys are the words from `at` on, the last one as a stem if `prefix`."""
    last = len(keys) - 1
    if at + last >= len(words):
        return False
    if any(words[at + n] != keys[n] for n in range(last)):
        return False
    word = words[at + last]
    return word == keys[last] or (prefix and word.startswith(keys[last]))


@lru_cache(maxsize=65536)
def _token_keys(word: str) -> tuple[str, str]:
    return plain_key(word), indic_key(word)


def _to_latin(word: str) -> str:
    word = "".join(c for c in unicodedata.normalize("NFD", word) if c not in _IGNORED_MARKS)
    if not (_DEVANAGARI.search(word) or _GURMUKHI.search(word)):
        return word
    # indic_transliteration parses its 88 scheme files at import (~0.3 s): only a word in an Indic script needs it.
    from indic_transliteration import sanscript

    if _DEVANAGARI.search(word):
        word = sanscript.transliterate(word, sanscript.DEVANAGARI, sanscript.IAST)
    if _GURMUKHI.search(word):
        word = sanscript.transliterate(word, sanscript.GURMUKHI, sanscript.IAST)
    return word


__all__ = ["Hit", "Language", "Lexicon", "Term", "Token", "has_words", "indic_key", "plain_key", "tokenise"]

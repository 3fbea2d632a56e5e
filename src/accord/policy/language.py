"""Multilingual term matching for the screens: text in English, French, Hindi and Punjabi (native scripts and
romanised) is cut into word tokens, and a lexicon's terms match whole tokens or token sequences — never substrings.

Each token gets two keys. The *plain* key is the casefolded word without diacritics ("religieux", "gurdwara"). The
*Indic* key folds the spelling variation of romanised Hindi and Punjabi, and Devanagari and Gurmukhi words are first
transliterated to Latin (indic-transliteration, IAST), so "ਖਾਲਿਸਤਾਨ", "खालिस्तान", "Khalistan" and "Khaalistaan" share
one key. A lexicon term says its language; English and French terms match on the plain key, Hindi and Punjabi terms
(in any script) on the Indic key. A term ending in `*` matches any word that begins with it ("protest*")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache

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


@dataclass(frozen=True, slots=True)
class Token:
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


@lru_cache(maxsize=64)
def tokenise(text: str) -> tuple[Token, ...]:
    """The text's words with their keys; memoised, since every screen of a pack reads the same message text."""
    return tuple(_token(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text))


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
    """A lexicon's patterns (concept, term, its words' keys, whether its last word is a stem), indexed by their first
    word's key (plain or Indic) and one-word stems by the stem, so that a text is read once rather than once per
    term."""

    patterns: list[tuple[str, Term, tuple[str, ...], bool]]
    by_first: dict[tuple[bool, str], list[int]]
    stems: dict[tuple[bool, str], list[int]]
    stem_lengths: dict[bool, list[int]]  # the lengths of the stems there are, so a word tries only those


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
        index = _Index([], {}, {}, {})
        for concept, term in self._terms:
            prefix = term.text.endswith("*")
            words = tokenise(term.text.rstrip("*"))
            keys = tuple(w.indic if term.language.indic else w.plain for w in words)
            at = len(index.patterns)
            index.patterns.append((concept, term, keys, prefix))
            where = (term.language.indic, keys[0])
            (index.stems if prefix and len(keys) == 1 else index.by_first).setdefault(where, []).append(at)
        for indic in (False, True):
            index.stem_lengths[indic] = sorted({len(key) for on, key in index.stems if on is indic})
        return index

    def find(self, text: str) -> list[Hit]:
        index = self._index
        tokens = tokenise(text)
        found: list[tuple[int, int]] = []  # (pattern, position of its first word)
        by_first, stems, stem_lengths = index.by_first, index.stems, index.stem_lengths
        for i, token in enumerate(tokens):
            for indic, key in ((False, token.plain), (True, token.indic)):
                starting = by_first.get((indic, key))
                if starting:
                    found.extend((p, i) for p in starting)
                for end in stem_lengths[indic]:
                    if end > len(key):
                        break
                    stemmed = stems.get((indic, key[:end]))
                    if stemmed:
                        found.extend((p, i) for p in stemmed)
        hits: list[tuple[int, Hit]] = []
        for p, i in found:
            concept, term, keys, prefix = index.patterns[p]
            window = tokens[i : i + len(keys)]
            if len(window) == len(keys) and _matches(window, keys, term.language.indic, prefix):
                start, end = window[0].start, window[-1].end
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


def _matches(window: Sequence[Token], keys: tuple[str, ...], indic: bool, prefix: bool) -> bool:
    for position, (token, key) in enumerate(zip(window, keys, strict=True)):
        actual = token.indic if indic else token.plain
        last = position == len(keys) - 1
        if actual == key or (last and prefix and actual.startswith(key)):
            continue
        return False
    return True


@lru_cache(maxsize=65536)
def _token_keys(word: str) -> tuple[str, str]:
    return plain_key(word), indic_key(word)


def _token(word: str, start: int, end: int) -> Token:
    plain, indic = _token_keys(word)
    return Token(word, start, end, plain, indic)


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

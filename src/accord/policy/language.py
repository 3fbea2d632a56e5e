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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from itertools import accumulate, product
from typing import NamedTuple, overload

from accord.domain.ascii_runs import ascii_runs, ascii_separators, split_ascii

# A message's screens read its whole text and, for person records, each of its fields: enough that the whole text is
# still remembered when the last screen reads it.
_TEXTS_REMEMBERED = 512
# Devanagari and Gurmukhi letters and signs, less the danda and double danda (।, ॥) that end a Hindi or Punjabi
# sentence: a word before one is the word alone ("जाति।" is जाति).
_WORD_CHARACTER = r"[\w\u0900-\u0963\u0966-\u097F\u0A00-\u0A7F]"
# The invisible format characters (Unicode's category Cf: zero-width space and joiners, soft hyphen, word joiner,
# byte-order mark, bidirectional controls…): one inside a word leaves it one word ("Khalis\u200btan" is Khalistan),
# and a word's keys (`plain_key`, `indic_key`) are worked out without it. The ranges are Unicode's, checked against
# the running Python's database by the tests.
FORMAT_CHARACTERS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_FORMAT = re.compile(f"[{FORMAT_CHARACTERS}]+")
_WORD = re.compile(f"{_WORD_CHARACTER}+(?:[{FORMAT_CHARACTERS}]+{_WORD_CHARACTER}+)*", re.UNICODE)
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_GURMUKHI = re.compile(r"[\u0A00-\u0A7F]")
_REPEATED = re.compile(r"(.)\1+")  # a letter written twice or more
_ASPIRATION = re.compile(r"(?<=[^aeiouh])h")  # the h of kh, dh, bh…
# Nukta (a dot that modifies a consonant) is spelt inconsistently in practice; the marks below carry no letter.
_IGNORED_MARKS = frozenset({"\u093c", "\u0a3c", "\u0a70", "\u0a71"})  # the joiners are format characters
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
    screen: str  # the Indic key with how the word ends (`_screen_key`): what Hindi and Punjabi terms match


@dataclass(frozen=True, slots=True)
class Term:
    """A lexicon entry: one word or phrase in one language; `*` at the end matches any continuation of the last
    word."""

    text: str
    language: Language


class Hit(NamedTuple):  # a tuple, as `Token` is: a text can have dozens
    concept: str
    term: Term
    surface: str  # the words of the text that matched, as written
    start: int
    end: int


@lru_cache(maxsize=_TEXTS_REMEMBERED)
def tokenise(text: str) -> tuple[Token, ...]:
    """The text's words with their keys; memoised, since every screen of a pack reads the same message text."""
    reading = _read(text)
    plain, screen = reading.words
    return tuple(
        Token(text[start:end], start, end, p, i, s)
        for (start, end), p, i, s in zip(reading.spans(), plain, reading.indic, screen, strict=True)
    )


def word_keys(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The distinct plain and Indic keys of the words `tokenise` finds, without a token for each word."""
    reading = _read(text)
    return reading.keys[0], reading.indic_keys()


def without_format_characters(text: str) -> str:
    """`text` less its invisible format characters (Unicode Cf: zero-width space and joiners, soft hyphen, word
    joiner, BOM, direction marks): inside a date or an identifier, one would hide it from a pattern."""
    return text if text.isascii() else _FORMAT.sub("", text)


def has_words(text: str) -> bool:
    """Whether `tokenise(text)` finds a word, without working out the words' keys."""
    return _WORD.search(text) is not None


@lru_cache(maxsize=1)
def _ascii_word() -> re.Pattern[str]:
    return ascii_runs(_WORD)


@lru_cache(maxsize=1)
def _ascii_separators() -> bytes:
    return ascii_separators(_WORD)


def _ascii_words(text: str) -> list[str]:
    """The words of an all-ASCII text, as `_ascii_word` finds them, without the pattern (its positions are found only
    for a text with a hit)."""
    return split_ascii(text, _ascii_separators())


@lru_cache(maxsize=2)
def _splitting(ascii_only: bool) -> re.Pattern[str]:
    """The word pattern as a group: splitting by it gives the text between words and the words, alternately."""
    return re.compile(f"({(_ascii_word() if ascii_only else _WORD).pattern})")


def name_key(name: str) -> tuple[str, ...]:
    """A name as its words' spelling- and script-tolerant keys, sorted: "Singh, Harpreet", "Harpreet Singh" and
    "हरप्रीत सिंह" are one name."""
    return tuple(sorted(w.indic for w in tokenise(name)))


def plain_key(word: str) -> str:
    if word.isascii():  # nothing to decompose, no combining mark: a word new to the text (a reference) is often so
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", _FORMAT.sub("", word).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def indic_key(word: str) -> str:
    """A spelling-tolerant key for a Hindi or Punjabi word written in Devanagari, Gurmukhi or Latin letters."""
    latin = _to_latin(word)
    latin = plain_key(latin)
    for written, folded in _INDIC_FOLDS:
        latin = latin.replace(written, folded)
    # Inherent vowels: Devanagari/Gurmukhi transliterations carry every schwa, romanisations drop many.
    if len(latin) > 1:
        latin = latin[0] + latin[1:].replace("a", "")
    return _REPEATED.sub(r"\1", latin)


@dataclass(frozen=True, slots=True)
class _Index:
    """A lexicon's patterns (concept, term, its words' keys, whether its last word is a stem) and, for plain and for
    Indic keys, which patterns a word with a given key can begin."""

    patterns: list[tuple[str, Term, tuple[str, ...], bool]]
    starters: tuple[_Starters, _Starters]  # by `indic`
    concepts: list[str]  # each pattern's concept, as its hits name it


class Matches(Sequence[Hit]):
    """A lexicon's matches in a text. How many there are is known at once; the hits themselves (where each is, the
    words as written, in the text's order) are worked out when first read, so a screen that only asks whether a
    lexicon matched (criminal conduct is stated, a word for a person occurs) does not pay for each of them."""

    __slots__ = ("_concepts", "_found", "_hits", "_patterns", "_reading", "_text")

    def __init__(
        self,
        text: str,
        reading: _Reading,
        found: list[tuple[int, int]],  # (pattern, position of its first word)
        patterns: list[tuple[str, Term, tuple[str, ...], bool]],
        concepts: list[str],
    ) -> None:
        self._text, self._reading, self._found = text, reading, found
        self._patterns, self._concepts = patterns, concepts
        self._hits: list[Hit] | None = None

    def __len__(self) -> int:
        return len(self._found)

    @overload
    def __getitem__(self, index: int) -> Hit: ...

    @overload
    def __getitem__(self, index: slice) -> list[Hit]: ...

    def __getitem__(self, index: int | slice) -> Hit | list[Hit]:
        return self.hits()[index]

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits())

    def __repr__(self) -> str:
        return f"Matches({self.hits()!r})"

    def hits(self) -> list[Hit]:
        """The hits, ordered by where they start, then by concept, then as the lexicon lists its terms."""
        done = self._hits
        if done is None:
            text, span, patterns, concepts = self._text, self._reading.span, self._patterns, self._concepts
            hits: list[tuple[int, Hit]] = []
            for p, i in self._found:
                start, end = span(i, i + len(patterns[p][2]) - 1)
                hits.append((p, Hit(concepts[p], patterns[p][1], text[start:end], start, end)))
            done = self._hits = [hit for _, hit in sorted(hits, key=lambda h: (h[1].start, h[1].concept, h[0]))]
        return done


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


class _Reading:
    """A text's words as keys (plain, and screen keys for Hindi and Punjabi terms) and its distinct keys, as columns
    rather than a `Token` per word, which a long text makes by the hundred. `indic`: each word's Indic key (for
    `tokenise`). Where words start and end, and where a key occurs, are worked out when first asked: by the few
    keys that begin a term, for a text with a hit. A reading is shared by every lexicon (and thread) that reads the
    text; what it works out later is the same whoever asks first."""

    __slots__ = ("_indic_keys", "_offsets", "_parts", "_positions", "_text", "indic", "keys", "words")

    def __init__(self, text: str) -> None:
        # What lies between words, and the words, alternately: where each word starts and ends is the running sum of
        # their lengths, which `finditer` would give only as a match object per word, at twice the cost. An all-ASCII
        # text is split only when a position is asked for (`_ends`).
        self._text = text
        self._parts = None if text.isascii() else _splitting(False).split(text)
        found = _ascii_words(text) if self._parts is None else self._parts[1::2]
        keyed = list(map(_token_keys, found))  # each word's keys, memoised by word
        plain, indic, screen = (list(column) for column in zip(*keyed, strict=True)) if keyed else ([], [], [])
        self.words = (plain, screen)  # by `indic`
        self.keys = (frozenset(plain), frozenset(screen))
        self.indic = indic
        self._offsets: list[int] | None = None
        self._indic_keys: frozenset[str] | None = None
        self._positions: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})

    def indic_keys(self) -> frozenset[str]:
        found = self._indic_keys
        if found is None:
            found = self._indic_keys = frozenset(self.indic)
        return found

    def _ends(self) -> list[int]:
        """Where each part of the text ends: word n starts at entry 2n+1 and ends at entry 2n+2."""
        offsets = self._offsets
        if offsets is None:
            parts = _splitting(True).split(self._text) if self._parts is None else self._parts
            offsets = self._offsets = list(accumulate(map(len, parts), initial=0))
        return offsets

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Where the words from `first` to `last` start and end."""
        ends = self._ends()
        return ends[2 * first + 1], ends[2 * last + 2]

    def spans(self) -> Iterator[tuple[int, int]]:
        """Where each word starts and ends."""
        ends = self._ends()
        return zip(ends[1:-1:2], ends[2::2], strict=True)

    def positions(self, indic: bool, keys: Iterable[str]) -> dict[str, list[int]]:
        """Where each of `keys` occurs among the plain or screen keys (and where others asked for before do): found
        in one pass over the words for all the keys not asked for yet, and remembered for the text's other
        lexicons. A single key is found by the list's own search."""
        known = self._positions[indic]
        missing = {key for key in keys if key not in known}
        if len(missing) == 1:
            [key] = missing
            known[key] = _positions(self.words[indic], key)
        elif missing:
            found: dict[str, list[int]] = {key: [] for key in missing}
            for at, word in enumerate(self.words[indic]):
                if word in missing:
                    found[word].append(at)
            known.update(found)
        return known


def _positions(words: list[str], key: str) -> list[int]:
    found: list[int] = []
    at = -1
    while True:
        try:
            at = words.index(key, at + 1)
        except ValueError:
            return found
        found.append(at)


@lru_cache(maxsize=_TEXTS_REMEMBERED)
def _read(text: str) -> _Reading:
    return _Reading(text)


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
        native_spellings = self._native_spellings()
        for concept, term in self._terms:
            prefix = term.text.endswith("*")
            words = tokenise(term.text.rstrip("*"))
            indic = term.language.indic
            if not indic:
                variants: Iterable[tuple[str, ...]] = [tuple(w.plain for w in words)]
            else:
                spelt_in = native_spellings.get((concept, tuple(w.indic for w in words)), frozenset())
                choices = [_accepted_keys(w.surface, spelt_in, len(words) > 1) for w in words]
                if prefix:  # a stem matches the start of a word, however the word ends
                    choices[-1] = (words[-1].indic,)
                variants = dict.fromkeys(product(*choices))
            for keys in variants:
                (stems if prefix and len(keys) == 1 else first)[indic].setdefault(keys[0], []).append(len(patterns))
                patterns.append((concept, term, keys, prefix))
        starters = (_Starters(patterns, first[0], stems[0]), _Starters(patterns, first[1], stems[1]))
        return _Index(patterns, starters, [concept for concept, _, _, _ in patterns])

    def _native_spellings(self) -> dict[tuple[str, tuple[str, ...]], frozenset[str]]:
        """The native scripts each concept's Hindi and Punjabi terms are written in, by the words' Indic keys."""
        scripts: dict[tuple[str, tuple[str, ...]], set[str]] = {}
        for concept, term in self._terms:
            script = _script(term.text)
            if term.language.indic and script:
                words = tuple(w.indic for w in tokenise(term.text.rstrip("*")))
                scripts.setdefault((concept, words), set()).add(script)
        return {key: frozenset(found) for key, found in scripts.items()}

    def find(self, text: str) -> list[Hit]:
        return self.matches(text).hits()

    def matches(self, text: str) -> Matches:
        """What `find` finds, its hits worked out when first read."""
        index = self._index
        reading = _read(text)
        return Matches(text, reading, self._matched(reading), index.patterns, index.concepts)

    def _matched(self, reading: _Reading) -> list[tuple[int, int]]:
        """Each pattern found in the text, with the position of its first word."""
        index = self._index
        patterns = index.patterns
        found: list[tuple[int, int]] = []
        for indic in (False, True):
            words = reading.words[indic]
            last = len(words) - 1
            starting_keys = index.starters[indic].starting(reading.keys[indic])
            positions = reading.positions(indic, (key for key, _ in starting_keys))
            for key, starting in starting_keys:
                at = positions[key]
                found += ((p, i) for p in starting.single for i in at)  # the key (or its stem) is the whole pattern
                if starting.by_second:
                    found += (
                        (p, i)
                        for i in at
                        if i < last
                        for p in starting.by_second.get(words[i + 1], ())
                        if _matches(words, i, patterns[p][2], patterns[p][3])
                    )
                found += (
                    (p, i)
                    for p in starting.stemmed_second
                    for i in at
                    if _matches(words, i, patterns[p][2], patterns[p][3])
                )
        return found

    def concepts(self, text: str) -> dict[str, list[str]]:
        """Each concept found, with the words of the text that matched it."""
        found: dict[str, list[str]] = {}
        for hit in self.find(text):
            words = found.setdefault(hit.concept, [])
            if hit.surface not in words:
                words.append(hit.surface)
        return found


class LexiconGroup:
    """Several lexicons read in one pass over a text: their terms in one index, each match given back to the lexicon
    whose term it is. Each member gets the hits, in the order, of its own `find`; a text's words are looked up once
    for all of them rather than once for each."""

    _TAG = "\x00"  # between a member's number and its concept: no concept of a term file holds it

    def __init__(self, members: Iterable[Lexicon]) -> None:
        self._members = tuple(members)
        concepts: dict[str, list[Term]] = {}
        for number, member in enumerate(self._members):
            for concept, term in member._terms:
                concepts.setdefault(f"{number}{self._TAG}{concept}", []).append(term)
        self._together = Lexicon(concepts)

    @cached_property
    def _owners(self) -> tuple[list[int], list[str]]:
        """Each pattern's member, and its concept as the member names it."""
        members: list[int] = []
        concepts: list[str] = []
        for tagged in self._together._index.concepts:
            number, _, concept = tagged.partition(self._TAG)
            members.append(int(number))
            concepts.append(concept)
        return members, concepts

    def matches(self, text: str) -> list[Matches]:
        """Each member's matches in the text, in the members' order."""
        reading = _read(text)
        members, concepts = self._owners
        split: list[list[tuple[int, int]]] = [[] for _ in self._members]
        for found in self._together._matched(reading):
            split[members[found[0]]].append(found)
        patterns = self._together._index.patterns
        return [Matches(text, reading, found, patterns, concepts) for found in split]

    def find(self, text: str) -> list[list[Hit]]:
        return [matches.hits() for matches in self.matches(text)]


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
def _token_keys(word: str) -> tuple[str, str, str]:
    """The word's plain key, its Indic key, and its screen key."""
    indic = indic_key(word)
    return plain_key(word), indic, _screen_key(indic, _ending(word))


_NATIVE_SCRIPTS = ("d", "g")  # Devanagari, Gurmukhi
# A final i or u written long where the term writes it short (or the reverse) is a common misspelling ("राजनीती"); it
# is only another word when the rest of the word is short ("जाती", she goes; "जाति", caste) and no other word of the
# term says which it is.
_LENGTH_MATTERS_UP_TO = 4


@dataclass(frozen=True, slots=True)
class _Ending:
    script: str  # "d", "g", or "" for Latin letters
    vowel: str  # "" (a consonant, or the silent inherent vowel), "a", "A", "i", "I", "u", "U": lower case is short,
    # or of unsaid length in a romanisation
    cluster: bool  # two consonants or more, or a semivowel, before the final vowel ("dharma", "धर्म", "जातीय")


_LONG = {"ā": "A", "ī": "I", "ū": "U", "aa": "A", "ee": "I", "ii": "I", "oo": "U", "uu": "U"}
_VOWEL_LETTERS = frozenset("aeiou")


def _script(text: str) -> str:
    return "d" if _DEVANAGARI.search(text) else "g" if _GURMUKHI.search(text) else ""


@lru_cache(maxsize=65536)
def _ending(word: str) -> _Ending:
    script = _script(word)
    latin = unicodedata.normalize("NFC", _to_latin(word).casefold())
    if script and len(latin) > 1 and latin[-1] == "a" and latin[-2] in "āīūeoaiu":
        latin = latin[:-1]  # a vowel's carrier letter after a vowel ("ਝੁਕਾਅ"): no sound of its own
    if not script:
        latin = plain_key(latin)
    vowel, stem = "", latin
    for written in ("ā", "ī", "ū") if script else ("aa", "ee", "ii", "oo", "uu"):
        if latin.endswith(written):
            vowel, stem = _LONG[written], latin[: -len(written)]
            break
    else:
        if latin[-1:] in ("a", "i", "u"):
            vowel, stem = latin[-1], latin[:-1]
    plain_stem = plain_key(stem)
    if vowel and (not plain_stem or plain_stem[-1] in _VOWEL_LETTERS):
        return _Ending(script, "", False)  # a diphthong or a vowel after a vowel: its length is not written apart
    if script and vowel == "a":
        vowel = ""  # the inherent vowel, silent at the end of a word
    consonants = _REPEATED.sub(r"\1", plain_stem)
    consonants = _ASPIRATION.sub("", consonants)  # kh, dh, bh…: one consonant
    trailing = len(consonants) - len(consonants.rstrip("bcdfgjklmnpqrstvwxyz"))
    # After two consonants, or a semivowel ("jatiya" for जातीय, "rashtriya"), a final inherent vowel is sounded and
    # often written.
    return _Ending(script, vowel, trailing >= 2 or consonants[-1:] in ("y", "v"))


def _native_key(indic: str, script: str, vowel: str) -> str:
    return f"{indic}|{vowel}#{script}" if vowel else f"{indic}#{script}"


def _screen_key(indic: str, ending: _Ending) -> str:
    """The key a lexicon matches a word of text on for Hindi and Punjabi terms: the Indic key, with the word's script
    and how it ends when the script says so.

    The Indic key folds vowel length and the inherent vowel, so "जाता" ("goes"), "jata" and the caste name "जाट"/"jat"
    share one, as do "जाती" ("she goes") and "जाति" ("caste"). The ending tells them apart where the writing does:
    Devanagari (`#d`) and Gurmukhi (`#g`) write a final long vowel and leave the inherent vowel silent; a romanisation
    doubles a long vowel or leaves its length unsaid (`~`), and writes no final vowel where the word ends in a
    consonant. A term accepts the endings its own writing is compatible with (`_accepted_keys`)."""
    if ending.script:
        return _native_key(indic, ending.script, ending.vowel)
    if not ending.vowel:
        return indic
    return f"{indic}|{ending.vowel if ending.vowel.isupper() else '~' + ending.vowel}"


def _accepted_keys(word: str, spelt_in: frozenset[str], in_phrase: bool = False) -> tuple[str, ...]:
    """The screen keys of text words that a Hindi or Punjabi term's word matches, by how the term writes it.

    `spelt_in`: the native scripts the lexicon also spells this term's concept and words in. Words of text in such a
    script are left to that spelling, which says more than a romanisation (the vowel lengths it leaves unsaid) or a
    transliteration from the other script (Punjabi "ਜਾਤੀ", caste, is Hindi "जाती", she goes). `in_phrase`: the
    term has other words, which say which word this is whatever the length of its final vowel ("अनुसूचित जाती")."""
    _, indic, _ = _token_keys(word)
    ending = _ending(word)
    short, vowel = ending.vowel.lower(), ending.vowel
    native_vowels: list[str]
    if ending.script:
        native_vowels = [vowel]
        if short in ("i", "u") and (in_phrase or len(indic) >= _LENGTH_MATTERS_UP_TO):
            native_vowels = [short, short.upper()]
        keys = [_native_key(indic, ending.script, v) for v in native_vowels]
        if not vowel:
            keys.append(indic)
            if ending.cluster:
                keys.append(f"{indic}|~a")  # "dharma" for धर्म
        else:
            keys.append(f"{indic}|~{short}")
            if vowel.isupper():
                keys.append(f"{indic}|{vowel}")
    elif not vowel:
        keys = [indic]
        native_vowels = [""]
    else:
        keys = [f"{indic}|~{short}", f"{indic}|{short.upper()}"]
        native_vowels = [short, short.upper()] if short != "a" else ["A"]
        if short == "a" and ending.cluster:
            keys.append(indic)  # "dharm" for "dharma"
            native_vowels.append("")
    for script in _NATIVE_SCRIPTS:
        if script != ending.script and script not in spelt_in:
            keys += [_native_key(indic, script, v) for v in native_vowels]
    return tuple(keys)


def _to_latin(word: str) -> str:
    if word.isascii():
        return word
    word = "".join(c for c in unicodedata.normalize("NFD", _FORMAT.sub("", word)) if c not in _IGNORED_MARKS)
    if not (_DEVANAGARI.search(word) or _GURMUKHI.search(word)):
        return word
    # indic_transliteration parses its 88 scheme files at import (~0.3 s): only a word in an Indic script needs it.
    from indic_transliteration import sanscript

    if _DEVANAGARI.search(word):
        word = sanscript.transliterate(word, sanscript.DEVANAGARI, sanscript.IAST)
    if _GURMUKHI.search(word):
        word = sanscript.transliterate(word, sanscript.GURMUKHI, sanscript.IAST)
    return word


__all__ = [
    "Hit",
    "Language",
    "Lexicon",
    "LexiconGroup",
    "Matches",
    "Term",
    "Token",
    "has_words",
    "indic_key",
    "plain_key",
    "tokenise",
    "without_format_characters",
    "word_keys",
]

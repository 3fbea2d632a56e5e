"""Normalisation for matching: names read across scripts and spellings into comparable word keys (Singh and Kaur,
honorifics, initials), dates of birth with their day/month ambiguity, phones as E.164, identifiers folded."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from itertools import combinations

import phonenumbers
from rapidfuzz.distance import JaroWinkler

from accord.i18n import _
from accord.policy.language import indic_key

PHONE_REGIONS = ("CA", "IN")
PREFIX = 3  # letters of a name word's key that block with it
_HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "miss", "dr", "shri", "sri", "shrimati", "smt", "kumari", "km", "sardar", "sardarni", "late"}
)
# Words are split on spaces, digits and punctuation only: Indic vowel signs are marks, not word characters to `\w`.
# A nasal before a stop is written as a letter in Latin, as anusvara in Devanagari and as tippi (often dropped in
# transliteration) in Gurmukhi: "Sandhu", "संधू" and "ਸੰਧੂ" all lose it.
_NASAL = re.compile(r"[mn](?=[dtbpgkcj])")
_SEPARATORS = re.compile(r"[\s\d_.,;:!?'\"()\[\]{}/\\|&+*-]+")
# Romanisations drop aspiration and write one sound several ways ("Chaudhary", "चौधरी" read as "caudhari",
# "Choudhury"; "Laxmi" and "Lakshmi"; "Preethi" and "Preeti"): folded after the shared Indic key.
_ASPIRATE = re.compile(r"(?<=[bcdgjkpt])h")
_LETTER_FOLDS: tuple[tuple[str, str], ...] = (("x", "ks"), ("ou", "u"), ("ow", "u"), ("y", "i"))


@cache
def _weak_names() -> dict[str, str]:
    """Singh and Kaur in Latin, Devanagari and Gurmukhi (names so common among Sikhs they say little alone), each
    written form's key to one name: "Singh", "Sing", "सिंह" and "ਸਿੰਘ" are all "singh"."""
    forms = {
        "singh": ("Singh", "Sing", "Sngh", "सिंह", "सिंघ", "ਸਿੰਘ", "ਸਿੰਹ"),
        "kaur": ("Kaur", "Kour", "Kor", "कौर", "ਕੌਰ"),
    }
    return {word_key(w): name for name, written in forms.items() for w in written} | {n: n for n in forms}


def _weak_keys() -> frozenset[str]:
    return frozenset(_weak_names())


@lru_cache(maxsize=262144)
def word_key(word: str) -> str:
    """A name word's key: the same for its spellings in Latin letters, Devanagari and Gurmukhi."""
    key = indic_key(word)
    for written, folded in _LETTER_FOLDS:
        key = key.replace(written, folded)
    key = _ASPIRATE.sub("", key)
    return re.sub(r"(.)\1+", r"\1", key)


@lru_cache(maxsize=262144)
def skeleton(key: str) -> str:
    """A word key's consonants after its first letter: romanisations disagree most on vowels ("Verma", "Varma",
    "ਵਰਮਾ" read as "varamā"), least on consonants."""
    return key[:1] + re.sub(r"[aeiou]", "", key[1:])


@lru_cache(maxsize=1_000_000)
def word_similarity(a: str, b: str) -> float:
    """Jaro-Winkler on the spelling-tolerant keys, or a little less on their consonant skeletons if that is more."""
    direct = float(JaroWinkler.normalized_similarity(a, b))
    if direct >= 0.96:
        return direct
    return max(direct, 0.96 * float(JaroWinkler.normalized_similarity(skeleton(a), skeleton(b))))


@lru_cache(maxsize=1_000_000)
def plain_similarity(a: str, b: str) -> float:
    """Jaro-Winkler on the words as written (Latin, folded): English and French names keep the vowels the Indic key
    folds away ("Jack" and "Jasck")."""
    return float(JaroWinkler.normalized_similarity(a, b))


@dataclass(frozen=True, slots=True)
class NameTokens:
    text: str
    strong: tuple[str, ...]  # comparison keys of the words that tell people apart
    weak: tuple[str, ...]  # Singh, Kaur
    initials: tuple[str, ...]  # single letters ("R. K. Sharma")
    plain: tuple[str, ...] = ()  # each strong word as written in Latin letters, folded (its key, for other scripts)


@lru_cache(maxsize=262144)
def name_tokens(name: str) -> NameTokens:
    strong: list[str] = []
    weak: list[str] = []
    initials: list[str] = []
    plain: list[str] = []
    for word in filter(None, _SEPARATORS.split(unicodedata.normalize("NFC", name))):
        if word.casefold() in _HONORIFICS:
            continue
        key = word_key(word)
        if key not in _weak_keys():
            key = _NASAL.sub("", key)
        if not key:
            continue
        if len(word) == 1:
            initials.append(key[0])
        elif key in _weak_keys():
            weak.append(_weak_names()[key])
        else:
            strong.append(key)
            plain.append(_plain_form(word) or key)
    return NameTokens(name, tuple(strong), tuple(weak), tuple(initials), tuple(plain))


def _plain_form(word: str) -> str:
    """A Latin word casefolded without diacritics ("Sébastien" → "sebastien"); "" for a word in another script."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", word.casefold()) if not unicodedata.combining(c))
    return folded if folded.isascii() and folded.isalpha() else ""


def _jaro_winkler(a: str, b: str) -> float:
    return float(JaroWinkler.normalized_similarity(a, b))


def aligned_similarity(
    left: list[tuple[str, bool]],
    right: list[tuple[str, bool]],
    similar: Callable[[str, str], float] = _jaro_winkler,
) -> tuple[float, int]:
    """The words of the shorter list matched one to one to the longer's, whole words first; (mean similarity,
    number of whole words matched at >= 0.85). Each item is (key, is-initial); `similar` compares two whole words."""
    short, long_ = (left, right) if len(left) <= len(right) else (right, left)
    free = list(long_)
    total = 0.0
    full_words = 0
    for key, initial in sorted(short, key=lambda t: t[1]):  # whole words first, initials take what is left
        best, best_at = 0.0, -1
        for at, (other, other_initial) in enumerate(free):
            sim = (0.9 if key[0] == other[0] else 0.0) if initial or other_initial else similar(key, other)
            if sim > best:
                best, best_at = sim, at
        if best_at >= 0:
            free.pop(best_at)
            full_words += int(not initial and best >= 0.85)
        total += best
    return total / len(short), full_words


def name_similarity(a: NameTokens, b: NameTokens) -> float:
    """0..1: the words of the shorter name matched one to one to the longer's (Jaro-Winkler on the spelling-tolerant
    keys); an initial matches a word it begins. Singh/Kaur count only when nothing else is there."""
    left = [(k, False) for k in a.strong] + [(k, True) for k in a.initials]
    right = [(k, False) for k in b.strong] + [(k, True) for k in b.initials]
    if not any(not initial for _, initial in left) or not any(not initial for _, initial in right):
        left += [(k, False) for k in a.weak]
        right += [(k, False) for k in b.weak]
    if not left or not right:
        return 0.0
    score, full_words = aligned_similarity(left, right)
    return round(_penalised(score, full_words, len(left), len(right), a.weak, b.weak), 3)


def _penalised(
    score: float, full_words: int, n_left: int, n_right: int, weak_a: tuple[str, ...], weak_b: tuple[str, ...]
) -> float:
    if not full_words:
        score = min(score, 0.6)  # initials alone never make a name
    if min(n_left, n_right) == 1 and max(n_left, n_right) > 2:
        score *= 0.85  # one word against a full name
    if weak_a and weak_b and set(weak_a).isdisjoint(weak_b):
        score *= 0.85  # Singh against Kaur
    return score


def phone_keys(value: str) -> set[str]:
    """E.164 forms of a phone number: as written when it has a country code, else as read in CA and in IN."""
    found = set()
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    regions = (None,) if text.startswith("+") else PHONE_REGIONS
    for region in regions:
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            found.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return found


def wallet_key(value: str) -> str:
    """Ethereum-style (0x…, checksummed by letter case) and bech32 (bc1…) addresses ignore case; base58 does not."""
    text = value.strip()
    lowered = text.casefold()
    if lowered.startswith(("0x", "bc1", "tb1", "ltc1")):
        return lowered
    return text


def alnum_key(value: str) -> str:
    """Letters and digits only, upper case (passport, account and licence numbers as officers write them)."""
    return "".join(c for c in unicodedata.normalize("NFKC", value).upper() if c.isalnum())


def deletion_variants(key: str) -> list[str]:
    """The key with each one character left out: two numbers one typing slip apart (a character changed, dropped,
    added, or two exchanged) share one of these (the symmetric-deletion idea). Short numbers give none."""
    if len(key) < 5:
        return []
    return sorted({key[:i] + key[i + 1 :] for i in range(len(key))})


def identifier_keys(scheme: str, value: str) -> set[str]:
    if scheme == "phone":
        return phone_keys(value)
    if scheme == "email":
        key = value.strip().casefold()
        return {key} if key else set()
    if scheme == "wallet":
        key = wallet_key(value)
        return {key} if key else set()
    if scheme == "handle":
        key = value.strip().lstrip("@").casefold()
        return {key} if key else set()
    key = alnum_key(value)
    return {key} if key else set()


def text_key(value: str) -> str:
    """A short categorical value (sex, nationality) folded: case, accents and spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", value.strip().casefold())
    return "".join(c for c in decomposed if c.isalnum())


# ------------------------------------------------------------------------------------------------ dates of birth

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NUMERIC = re.compile(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{2}|\d{4})")
_WORDED = re.compile(r"(\d{1,2})[-/. ]+([a-z]+)[-/., ]+(\d{4})|([a-z]+)[-/. ]+(\d{1,2})[-/., ]+(\d{4})")
_YEAR = re.compile(r"\d{4}")
EARLIEST_YEAR = 1900


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth as written, read: the full dates it may mean (two when day and month could be either), or
    only a year."""

    year: int
    dates: tuple[str, ...]  # ISO dates, "" when only the year is known

    @property
    def exact(self) -> bool:
        return bool(self.dates)


class DateUnreadable(ValueError):
    """A date of birth that is not a date (or not a possible one); the message says why."""


def read_birth_date(text: str, today: date | None = None) -> BirthDate | None:
    """The dates `text` can mean: ISO (1990-03-15), compact (19900315), d/m/y or m/d/y (both when both fit), a
    day and a month name, or a year alone. None for an empty text; DateUnreadable for an impossible one."""
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    if not value:
        return None
    today = today or date.today()
    if m := _ISO.fullmatch(value) or _COMPACT.fullmatch(value):
        return _dates(text, today, int(m.group(1)), [(int(m.group(2)), int(m.group(3)))])
    if m := _NUMERIC.fullmatch(value):
        first, second, year = int(m.group(1)), int(m.group(2)), _full_year(m.group(3), today)
        readings = [(second, first), (first, second)]  # d/m/y first: the parties' own way
        possible = [(mo, d) for mo, d in readings if 1 <= mo <= 12]
        return _dates(text, today, year, possible or readings[:1])
    if m := _WORDED.fullmatch(value):
        day, month_name, year_text = (m.group(1), m.group(2), m.group(3)) if m.group(1) else m.group(5, 4, 6)
        if month_name not in _MONTHS:
            raise DateUnreadable(
                _("date of birth {text!r} names no month ({month_name!r})").format(text=text, month_name=month_name)
            )
        return _dates(text, today, int(year_text), [(_MONTHS[month_name], int(day))])
    if _YEAR.fullmatch(value):
        return BirthDate(_check_year(text, int(value), today), ())
    raise DateUnreadable(
        _(
            "date of birth {text!r} is not a date; write it as 1990-03-15, 15/03/1990, 15 Mar 1990 or a year alone"
        ).format(text=text)
    )


def _full_year(digits: str, today: date) -> int:
    if len(digits) == 4:
        return int(digits)
    year = 2000 + int(digits)
    return year if year <= today.year else year - 100


def _check_year(text: str, year: int, today: date) -> int:
    if year < EARLIEST_YEAR or year > today.year:
        raise DateUnreadable(
            _("date of birth {text!r} has year {year}, outside {EARLIEST_YEAR}-{year2}").format(
                text=text, year=year, EARLIEST_YEAR=EARLIEST_YEAR, year2=today.year
            )
        )
    return year


def _dates(text: str, today: date, year: int, readings: list[tuple[int, int]]) -> BirthDate:
    _check_year(text, year, today)
    found: list[str] = []
    for month, day in readings:
        try:
            when = date(year, month, day)
        except ValueError:
            continue
        if when > today:
            raise DateUnreadable(_("date of birth {text!r} is in the future").format(text=text))
        if when.isoformat() not in found:
            found.append(when.isoformat())
    if not found:
        raise DateUnreadable(
            _("date of birth {text!r} is not a day of the calendar (month or day out of range)").format(text=text)
        )
    return BirthDate(year, tuple(found))


# ------------------------------------------------------------------------------------------------ blocking


def block_keys(strong: Sequence[str], initials: Sequence[str], dates: Sequence[str], year: str) -> list[str]:
    """Name words' starts in pairs, a start with another word's initial, a start with the year of birth, the date."""
    starts = sorted({w[:PREFIX] for w in strong})
    firsts = sorted({w[0] for w in strong} | set(initials))
    keys = [f"nn:{a}|{b}" for a, b in combinations(starts, 2)]
    keys += [f"ni:{s}|{f}" for s in starts for f in firsts if f != s[0]]
    if year:
        keys += [f"ny:{s}|{year}" for s in starts]
    if len(starts) == 1 and not initials:
        keys.append(f"n1:{starts[0]}")
    keys += [f"nw:{w}" for w in sorted(set(strong))]  # dropped when frequent (the blocking's cap)
    keys += [f"d:{d}" for d in dates]
    return keys


def canonical_dates(dates: Sequence[str]) -> list[str]:
    """Each date with its day/month exchange folded to one (the smaller), so that a swap blocks together."""
    folded = set()
    for iso in dates:
        y, m, d = iso.split("-")
        folded.add(min(iso, f"{y}-{d}-{m}") if int(d) <= 12 else iso)
    return sorted(folded)

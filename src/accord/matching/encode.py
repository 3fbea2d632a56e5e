"""Privacy-preserving encodings of person records under a key both parties agreed: keyed Bloom filters of name words
(with random bit flips, so one word never encodes the same twice), keyed HMAC blind indexes of dates and identifiers.
Nothing in an encoding can be read back, or compared with another, without the key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from accord.errors import InvalidInput
from accord.i18n import N_, _
from accord.matching.normalise import (
    BirthDate,
    alnum_key,
    block_keys,
    canonical_dates,
    deletion_variants,
    identifier_keys,
    name_tokens,
    phone_keys,
    read_birth_date,
    skeleton,
    text_key,
)
from accord.matching.records import PersonRecord
from accord.matching.vocabulary import nationality_code, sex_code

ENCODING_VERSION = 2
TAG_BYTES = 12  # a blind index: 96 bits of HMAC-SHA256, collisions out of reach for any holding
INITIAL_BYTES = 2
HINT_BYTES = 8  # block keys and near-number hints: 64 bits, no collision that matters among millions
BLOOM_BITS = 256  # per name word
BLOOM_HASHES = 8  # bit positions per bigram
FLIP_PROBABILITY = 0.02  # each bit of a word's filter flipped at random (BLIP): no two encodings of a word are equal
MIN_SECRET = 32
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # travels with encodings; names key files
_TAG = re.compile(r"[A-Za-z0-9_-]{16}")
_HINT = re.compile(r"[A-Za-z0-9_-]{11}")
_INITIAL = re.compile(r"[A-Za-z0-9_-]{3}")
_BLOOM = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_WORDS = 12
MAX_VALUES = 8
MAX_BLOCKS = 64
MAX_NEAR = 24  # one-character deletions of a document number (a number of more is cut)
SCHEMES = ("phone", "account", "wallet", "document", "email", "admission-letter", "institution", "licence")


class KeyMismatch(InvalidInput):
    """Encodings made with another key than the one this side's encodings were made with: not comparable."""

    slug = "key-mismatch"
    title = N_("Encoded with another matching key")


@dataclass(frozen=True, slots=True)
class MatchingKey:
    key_id: str  # travels with every encoding
    secret: bytes = field(repr=False)  # never logged, never in repr()

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.key_id):
            raise InvalidInput(
                _("matching key id {key_id!r} is not usable; use letters, digits and . _ : - (e.g. '2026-12')").format(
                    key_id=self.key_id
                )
            )
        if len(self.secret) < MIN_SECRET:
            raise InvalidInput(
                _(
                    "matching key {key_id!r} has a {count}-byte secret; it needs {MIN_SECRET} bytes or more "
                    "of randomness"
                ).format(key_id=self.key_id, count=len(self.secret), MIN_SECRET=MIN_SECRET)
            )

    @classmethod
    def generate(cls, key_id: str) -> MatchingKey:
        return cls(key_id, secrets.token_bytes(MIN_SECRET))

    def subkey(self, purpose: str) -> bytes:
        """A key of its own for each field and scheme: a tag of one field says nothing about another's."""
        return hmac.new(self.secret, f"accord-matching/v{ENCODING_VERSION}/{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class EncodedPerson:
    key_id: str
    words: tuple[tuple[str, str], ...]  # each name word: (keyed tag of its initial, keyed Bloom filter of its bigrams)
    weak: tuple[str, ...] = ()  # Singh/Kaur, blind-indexed
    initials: tuple[str, ...] = ()  # initials written as such ("G. K. Sandhu"), keyed tags
    dates: tuple[str, ...] = ()  # blind indexes of each full date of birth it may be
    swapped: tuple[str, ...] = ()  # … and of each with day and month exchanged
    year: str = ""
    date_parts: tuple[str, ...] = ()  # (year, month), (year, day), (month, day): two of three agreeing is a typo
    document: str = ""
    document_near: tuple[str, ...] = ()  # blind indexes of the number with one character left out
    phones: tuple[str, ...] = ()
    sex: str = ""
    nationality: str = ""
    blocks: tuple[str, ...] = ()  # blind indexes of the block keys (name-word starts, dates, phones, document)
    name_key: str = ""  # blind index of the name's words, sorted (how common a name is, is counted on it)

    def as_json(self) -> dict[str, Any]:
        """Compact JSON: only the fields present."""
        data: dict[str, Any] = {"v": ENCODING_VERSION, "key_id": self.key_id, "words": [list(w) for w in self.words]}
        for name in _LISTS:
            if value := getattr(self, name):
                data[name] = list(value)
        for name in _SINGLES:
            if value := getattr(self, name):
                data[name] = value
        return data

    @classmethod
    def from_json(cls, data: Any) -> EncodedPerson:
        """An encoding received from elsewhere; InvalidInput naming the first thing malformed."""
        if not isinstance(data, Mapping):
            raise InvalidInput(_("an encoded person is a JSON object, not {name__}").format(name__=type(data).__name__))
        unknown = set(data) - {"v", "key_id", "words", *_LISTS, *_SINGLES}
        if unknown:
            raise InvalidInput(
                _("an encoded person has unknown members {sorted}").format(sorted=sorted(map(str, unknown)))
            )
        if data.get("v") != ENCODING_VERSION:
            raise InvalidInput(
                _("encoding version {get!r} is not {ENCODING_VERSION}; encode again").format(
                    get=data.get("v"), ENCODING_VERSION=ENCODING_VERSION
                )
            )
        key_id = data.get("key_id")
        if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
            raise InvalidInput(_("an encoded person's key_id {key_id!r} is not a key id").format(key_id=key_id))
        raw_words = data.get("words")
        if not isinstance(raw_words, list) or len(raw_words) > MAX_WORDS:
            raise InvalidInput(
                _("an encoded person's name words are a list of at most {MAX_WORDS}").format(MAX_WORDS=MAX_WORDS)
            )
        words: list[tuple[str, str]] = []
        for word in raw_words:
            if (
                not isinstance(word, list)
                or len(word) != 2
                or not all(isinstance(p, str) for p in word)
                or not _INITIAL.fullmatch(word[0])
                or not _BLOOM.fullmatch(word[1])
            ):
                raise InvalidInput(_("an encoded name word is not [initial tag, Bloom filter] in base64url"))
            words.append((word[0], word[1]))
        values: dict[str, Any] = {}
        for name, pattern in _LISTS.items():
            items = data.get(name, [])
            if (
                not isinstance(items, list)
                or len(items) > {"blocks": MAX_BLOCKS, "document_near": MAX_NEAR}.get(name, MAX_VALUES)
                or not all(isinstance(i, str) and pattern.fullmatch(i) for i in items)
            ):
                raise InvalidInput(
                    _("an encoded person's {name} is not a list of at most {MAX_VALUES} tags").format(
                        name=name, MAX_VALUES=MAX_VALUES
                    )
                )
            values[name] = tuple(items)
        for name in _SINGLES:
            item = data.get(name, "")
            if not isinstance(item, str) or (item and not _TAG.fullmatch(item)):
                raise InvalidInput(_("an encoded person's {name} is not a tag").format(name=name))
            values[name] = item
        return cls(key_id=key_id, words=tuple(words), **values)


_LISTS: Mapping[str, re.Pattern[str]] = {
    "weak": _TAG,
    "initials": _INITIAL,
    "dates": _TAG,
    "swapped": _TAG,
    "date_parts": _TAG,
    "phones": _TAG,
    "blocks": _HINT,
    "document_near": _HINT,
}
_SINGLES = ("year", "document", "sex", "nationality", "name_key")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(_("{text!r} is not base64url").format(text=text)) from exc


def _tag(subkey: bytes, value: str, size: int = TAG_BYTES) -> str:
    return _b64(hmac.new(subkey, value.encode("utf-8"), hashlib.sha256).digest()[:size])


@lru_cache(maxsize=262144)
def _word_bits(subkey: bytes, word: str, plain: str) -> int:
    """The Bloom filter of the bigrams of a word's key, of its consonant skeleton and of the word as written in Latin
    letters (padded: "_gurprit_", "_grprt_", "_gurpreet_"), BLOOM_HASHES keyed positions per bigram: spellings that
    differ only in vowels share most of their bits, and so do typing slips in names the key folds hard."""
    bits = 0
    for form in {word, skeleton(word), plain or word}:
        padded = f"_{form}_"
        for i in range(len(padded) - 1):
            digest = hmac.new(subkey, padded[i : i + 2].encode("utf-8"), hashlib.sha256).digest()
            for position in digest[:BLOOM_HASHES]:
                bits |= 1 << (position % BLOOM_BITS)
    return bits


def _hints(subkey: bytes, values: Sequence[str], limit: int) -> tuple[str, ...]:
    return tuple(sorted({_tag(subkey, v, HINT_BYTES) for v in values}))[:limit]


def _flip_mask() -> int:
    mask = 0
    for position in range(BLOOM_BITS):
        if secrets.randbelow(10_000) < FLIP_PROBABILITY * 10_000:
            mask |= 1 << position
    return mask


def word_filter(key: MatchingKey, word: str, plain: str = "", *, flip: bool = True) -> str:
    bits = _word_bits(key.subkey("name-bigrams"), word, plain)
    if flip:
        bits ^= _flip_mask()
    return _b64(bits.to_bytes(BLOOM_BITS // 8, "big"))


def filter_bits(encoded: str) -> int:
    return int.from_bytes(unb64(encoded), "big")


def dice(a: int, b: int) -> float:
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0


def date_features(birth: BirthDate | None) -> tuple[list[str], list[str], str, list[str]]:
    """(dates, the same with day and month exchanged, year, parts) of a date of birth, in the clear."""
    if birth is None:
        return [], [], "", []
    dates = list(birth.dates)
    swapped = []
    parts: list[str] = []
    for iso in dates:
        y, m, d = iso.split("-")
        if int(d) <= 12 and d != m:
            swapped.append(f"{y}-{d}-{m}")
        parts += [f"ym:{y}-{m}", f"yd:{y}-{d}", f"md:{m}-{d}"]
    return dates, swapped, str(birth.year), sorted(set(parts))


def encode_person(record: PersonRecord, key: MatchingKey) -> EncodedPerson:
    """The record as keyed encodings only; InvalidInput when its name leaves no word to encode."""
    tokens = name_tokens(record.name)
    strong = tokens.strong or tokens.weak  # a name of Singh or Kaur alone is still a name
    plain = tokens.plain if tokens.strong else tokens.weak
    if not strong and not tokens.initials:
        raise InvalidInput(
            _("name {name!r} of record {id!r} leaves no word to match on").format(name=record.name, id=record.id)
        )
    initial_key, weak_key = key.subkey("name-initial"), key.subkey("name-weak")
    dates, swapped, year, parts = date_features(read_birth_date(record.date_of_birth))
    date_key = key.subkey("date-of-birth")
    document = alnum_key(record.document_number)
    phones = sorted(phone_keys(record.phone))
    plain_blocks = block_keys(strong, tokens.initials, canonical_dates(dates), year)
    plain_blocks += [f"p:{p}" for p in phones] + ([f"doc:{document}"] if document else [])
    block_key = key.subkey("blocks")
    return EncodedPerson(
        key_id=key.key_id,
        words=tuple(
            (_tag(initial_key, w[0], INITIAL_BYTES), word_filter(key, w, p))
            for w, p in zip(strong[:MAX_WORDS], plain[:MAX_WORDS], strict=True)
        ),
        weak=tuple(sorted({_tag(weak_key, w) for w in tokens.weak}))[:MAX_VALUES] if tokens.strong else (),
        initials=tuple(_tag(initial_key, i, INITIAL_BYTES) for i in tokens.initials[:MAX_VALUES]),
        dates=tuple(_tag(date_key, d) for d in dates),
        swapped=tuple(_tag(date_key, d) for d in swapped),
        year=_tag(date_key, year) if year else "",
        date_parts=tuple(_tag(date_key, p) for p in parts)[:MAX_VALUES],
        document=_tag(key.subkey("document"), document) if document else "",
        document_near=_hints(key.subkey("document-near"), deletion_variants(document), MAX_NEAR),
        phones=tuple(sorted(_tag(key.subkey("phone"), p) for p in phones))[:MAX_VALUES],
        sex=_tag(key.subkey("sex"), code) if (code := sex_code(record.sex)) else "",
        nationality=_tag(key.subkey("nationality"), code) if (code := nationality_code(record.nationality)) else "",
        blocks=tuple(sorted({_tag(block_key, b, HINT_BYTES) for b in plain_blocks}))[:MAX_BLOCKS],
        name_key=_tag(key.subkey("name-key"), " ".join(sorted(strong))),
    )


def blind_index(key: MatchingKey, scheme: str, value: str) -> str | None:
    """The HMAC blind index of an exact identifier under `scheme` (see SCHEMES), normalised first (phones as E.164
    read in CA and IN, accounts and documents letters and digits upper case, e-mails case-folded); None when nothing
    is left after normalisation. A phone read two ways (no country code) gives the index of its first E.164 form."""
    if scheme not in SCHEMES:
        raise InvalidInput(
            _("unknown blind-index scheme {scheme!r}; the schemes are {join}").format(
                scheme=scheme, join=", ".join(SCHEMES)
            )
        )
    if scheme in ("institution",):
        normalised = " ".join(text_key(w) for w in value.split() if text_key(w))
        keys = {normalised} if normalised else set()
    else:
        keys = identifier_keys(scheme, value)
    if not keys:
        return None
    return _tag(key.subkey(f"scheme:{scheme}"), sorted(keys)[0])


def check_same_key(key_id: str, expected: str) -> None:
    if key_id != expected:
        raise KeyMismatch(
            _(
                "encoded with key {key_id!r}; this node's holdings are encoded with key {expected!r}. "
                "Encode the query again with the key both parties hold now"
            ).format(key_id=key_id, expected=expected)
        )

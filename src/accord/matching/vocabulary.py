"""Sex and nationality as officers write them ("Male", "पुरुष", "IND", "Indian"), read as one code each; the words
are in data/matching/vocabulary.yaml with their sources."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict

from accord.datafiles import load
from accord.matching.normalise import text_key


class Vocabulary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sex: dict[str, list[str]]
    nationality: dict[str, list[str]]


@cache
def _lookup() -> tuple[dict[str, str], dict[str, str]]:
    vocabulary = load(Vocabulary, "matching", "vocabulary.yaml")
    sex = {text_key(w): code for code, words in vocabulary.sex.items() for w in words}
    nationality = {text_key(w): code for code, words in vocabulary.nationality.items() for w in words}
    return sex, nationality


def sex_code(value: str) -> str:
    """M, F or X for a word the vocabulary knows; the folded word itself otherwise; "" for none."""
    key = text_key(value)
    return _lookup()[0].get(key, key)


def nationality_code(value: str) -> str:
    """The ISO 3166-1 alpha-2 code for a word the vocabulary knows; the folded word itself otherwise."""
    key = text_key(value)
    return _lookup()[1].get(key, key)

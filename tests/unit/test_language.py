"""Term matching across English, French, Hindi and Punjabi: whole words in any script, never substrings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.policy.language import Language, Lexicon, Term, indic_key, tokenise


@pytest.mark.parametrize(
    "spellings",
    [
        ("ਖਾਲਿਸਤਾਨ", "खालिस्तान", "Khalistan", "Khaalistaan", "KHALISTAN"),
        ("ਗੁਰਦੁਆਰਾ", "gurdwara", "Gurdwaara"),
        ("ਰਾਏਸ਼ੁਮਾਰੀ", "रायशुमारी", "raishumari", "rayshumari"),
        ("हत्या", "hatya", "hatyaa"),
        ("ਕਤਲ", "कत्ल", "qatl", "katl"),
        ("धर्म", "dharm", "dharma"),
    ],
)
def test_one_word_in_native_script_and_its_romanisations_share_a_key(spellings: tuple[str, ...]) -> None:
    assert len({indic_key(word) for word in spellings}) == 1


def _lexicon() -> Lexicon:
    return Lexicon(
        {
            "religion": [
                Term("gurdwara", Language.PUNJABI),
                Term("religio*", Language.ENGLISH),
                Term("lieu de culte", Language.FRENCH),
            ],
            "separatism": [Term("खालिस्तान", Language.HINDI), Term("référendum", Language.FRENCH)],
        }
    )


def test_terms_match_whole_words_across_scripts_and_languages() -> None:
    text = "Provide his visits to the Gurudwara? no — the ਗੁਰਦੁਆਰਾ; Khalistan rallies; religious views; un lieu de culte"
    assert _lexicon().concepts(text) == {
        "religion": ["ਗੁਰਦੁਆਰਾ", "religious", "lieu de culte"],
        "separatism": ["Khalistan"],
    }


def test_french_terms_match_without_their_accents() -> None:
    assert _lexicon().concepts("le REFERENDUM de dimanche") == {"separatism": ["REFERENDUM"]}


def test_a_term_inside_another_word_does_not_match() -> None:
    assert _lexicon().concepts("irreligious? no: nonreligion, lieux de cultes, Khalistani-ish") == {}


def test_a_phrase_needs_its_words_in_order() -> None:
    assert _lexicon().concepts("culte de lieu") == {}


def test_a_term_without_words_is_refused() -> None:
    with pytest.raises(ValueError, match="has no words"):
        Lexicon({"x": [Term("—*", Language.ENGLISH)]})


@given(st.text(max_size=200))
def test_any_text_tokenises_and_matches_without_error(text: str) -> None:
    for token in tokenise(text):
        assert text[token.start : token.end] == token.surface
    _lexicon().find(text)


def _find_by_scanning(lexicon: Lexicon, text: str) -> list[tuple[str, str, int]]:
    """The definition `Lexicon.find` implements with an index: every term tried at every position."""
    tokens = tokenise(text)
    found = []
    for concept, term, keys, prefix in lexicon._index.patterns:
        for i in range(len(tokens) - len(keys) + 1):
            window = tokens[i : i + len(keys)]
            actual = [t.indic if term.language.indic else t.plain for t in window]
            if actual[:-1] == list(keys[:-1]) and (
                actual[-1] == keys[-1] or (prefix and actual[-1].startswith(keys[-1]))
            ):
                found.append((concept, text[window[0].start : window[-1].end], window[0].start))
    return sorted(found, key=lambda f: (f[2], f[0]))


_WORDS = [
    "gurdwara",
    "ਗੁਰਦੁਆਰਾ",
    "religious",
    "religion",
    "lieu",
    "de",
    "culte",
    "खालिस्तान",
    "Khalistan",
    "x",
    "référendum",
]


@given(st.lists(st.sampled_from(_WORDS) | st.text(max_size=8), max_size=30))
def test_the_indexed_search_finds_exactly_what_trying_every_term_everywhere_finds(words: list[str]) -> None:
    text = " ".join(words)
    lexicon = _lexicon()
    assert [(h.concept, h.surface, h.start) for h in lexicon.find(text)] == _find_by_scanning(lexicon, text)

"""Term matching across English, French, Hindi and Punjabi: whole words in any script, never substrings."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.domain.parties import Party
from accord.policy.language import (
    _WORD,
    FORMAT_CHARACTERS,
    Language,
    Lexicon,
    LexiconGroup,
    Term,
    _ascii_word,
    _ascii_words,
    indic_key,
    tokenise,
)


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
    tokens = tokenise(text)
    assert [(token.start, token.end) for token in tokens] == [match.span() for match in _WORD.finditer(text)]
    for token in tokens:
        assert text[token.start : token.end] == token.surface
    _lexicon().find(text)


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_an_ascii_text_has_the_same_words_by_its_own_pattern(text: str) -> None:
    assert [m.span() for m in _ascii_word().finditer(text)] == [m.span() for m in _WORD.finditer(text)]


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_an_ascii_texts_words_split_by_the_table_are_those_the_word_pattern_finds(text: str) -> None:
    """The words of an all-ASCII text are read without the pattern, and its tokens' positions found only later."""
    assert _ascii_words(text) == _WORD.findall(text)
    assert [token[1:3] for token in tokenise(text)] == [m.span() for m in _WORD.finditer(text)]


def test_the_ascii_word_pattern_takes_every_ascii_word_character_and_no_other() -> None:
    for code in range(128):
        assert bool(_ascii_word().fullmatch(chr(code))) == bool(_WORD.fullmatch(chr(code))), code


def test_the_format_characters_are_unicodes_category_cf() -> None:
    listed = re.compile(f"[{FORMAT_CHARACTERS}]")
    for code in range(sys.maxunicode + 1):
        assert bool(listed.fullmatch(chr(code))) == (unicodedata.category(chr(code)) == "Cf"), hex(code)


INVISIBLE_CHARACTERS = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]


@given(st.data())
def test_an_invisible_character_inside_a_word_does_not_hide_a_term(data: st.DataObject) -> None:
    """A zero-width space, a joiner, a soft hyphen or any other invisible format character typed inside the words of
    a term (by accident, or to slip past the screen) still finds it, in every script the term files use."""
    from accord.policy.screens._neutrality_lexicons import compiled, shipped_term_files

    lexicon = compiled((data.draw(st.sampled_from(shipped_term_files())),)).lexicon
    concept, term = data.draw(st.sampled_from(lexicon._terms))
    text = term.text.rstrip("*")
    inside = [i for i in range(1, len(text)) if _WORD.fullmatch(text[i - 1 : i + 1])]
    if not inside:
        return
    at = data.draw(st.sampled_from(inside))
    hidden = text[:at] + data.draw(st.sampled_from(INVISIBLE_CHARACTERS)) * data.draw(st.integers(1, 2)) + text[at:]
    assert concept in lexicon.concepts(f"Note: {hidden}."), (term, hidden)


def _find_by_scanning(lexicon: Lexicon, text: str) -> list[tuple[str, str, int]]:
    """The definition `Lexicon.find` implements with an index: every term tried at every position (a term's whole
    words compared at once, by a dictionary of the terms' words; a stem's last word by `startswith`)."""
    tokens = tokenise(text)
    whole: dict[tuple[bool, tuple[str, ...]], list[tuple[int, str]]] = {}
    stems: list[tuple[int, str, Term, tuple[str, ...]]] = []
    for n, (concept, term, keys, prefix) in enumerate(lexicon._index.patterns):
        if prefix:
            stems.append((n, concept, term, keys))
        else:
            whole.setdefault((term.language.indic, keys), []).append((n, concept))
    lengths = {len(keys) for _, keys in whole}
    found: list[tuple[int, str, str, int]] = []
    for i in range(len(tokens)):
        for length in lengths:
            window = tokens[i : i + length]
            if len(window) < length:
                continue
            for indic in (False, True):
                keys = tuple(t.screen if indic else t.plain for t in window)
                for n, concept in whole.get((indic, keys), ()):
                    found.append((n, concept, text[window[0].start : window[-1].end], window[0].start))
    for n, concept, term, keys in stems:
        for i in range(len(tokens) - len(keys) + 1):
            window = tokens[i : i + len(keys)]
            actual = [t.screen if term.language.indic else t.plain for t in window]
            if actual[:-1] == list(keys[:-1]) and actual[-1].startswith(keys[-1]):
                found.append((n, concept, text[window[0].start : window[-1].end], window[0].start))
    return [(concept, surface, start) for _, concept, surface, start in sorted(found, key=lambda f: (f[3], f[1], f[0]))]


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


def _phrases() -> Lexicon:
    """Phrases that share their first word, a stem in the second place, a phrase inside a longer one."""
    return Lexicon(
        {
            "person": [Term("the person", Language.ENGLISH), Term("the said person", Language.ENGLISH)],
            "contact": [
                Term("in contact with", Language.ENGLISH),
                Term("in touch with", Language.ENGLISH),
                Term("in touch*", Language.ENGLISH),
            ],
            "member": [Term("member of", Language.ENGLISH), Term("member*", Language.ENGLISH)],
            "dharna": [Term("धरना", Language.HINDI), Term("dharna de*", Language.PUNJABI)],
        }
    )


_PHRASE_WORDS = ["the", "said", "person", "in", "touch", "touching", "with", "contact", "member", "members", "of"]
_PHRASE_WORDS += ["membership", "dharna", "धरना", "dena", "denge", "The", "PERSON"]


@given(st.lists(st.sampled_from(_PHRASE_WORDS) | st.text(max_size=6), max_size=40))
def test_phrases_sharing_words_are_found_exactly_as_by_trying_every_term_everywhere(words: list[str]) -> None:
    text = " ".join(words)
    lexicon = _phrases()
    assert [(h.concept, h.surface, h.start) for h in lexicon.find(text)] == _find_by_scanning(lexicon, text)


def test_the_shipped_term_files_find_exactly_what_trying_every_term_everywhere_finds() -> None:
    """Each shipped term file, over a text made of all its terms (so phrases overlap and share words)."""
    from accord.policy.screens._neutrality_lexicons import compiled, shipped_term_files

    for name in shipped_term_files():
        lexicon = compiled((name,)).lexicon
        text = ", the ".join(term.text.rstrip("*") + "s" for _, term in lexicon._terms)
        found = [(h.concept, h.surface, h.start) for h in lexicon.find(text)]
        assert found == _find_by_scanning(lexicon, text), name
        assert found


def test_a_lexicon_remembers_the_words_it_has_looked_up_without_growing_without_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accord.policy import language

    monkeypatch.setattr(language._Starters, "_REMEMBERED", 50)
    lexicon = _phrases()
    for n in range(40):
        text = " ".join(f"ref{n}x{i}" for i in range(10)) + " in touch with the person"
        assert [h.concept for h in lexicon.find(text)] == ["contact", "contact", "person"]
        assert len(lexicon._index.starters[False]._memory.seen) <= 50


# ---- a word's ending, where its script writes it


def _caste_words() -> Lexicon:
    return Lexicon(
        {
            "caste": [
                Term("जाट", Language.HINDI),
                Term("jat", Language.HINDI),
                Term("जाति", Language.HINDI),
                Term("jaati", Language.HINDI),
                Term("अनुसूचित जाति", Language.HINDI),
                Term("ਜਾਤੀ", Language.PUNJABI),
                Term("ਜੱਟ", Language.PUNJABI),
                Term("जातीय", Language.HINDI),
            ],
            "faith": [Term("धर्म", Language.HINDI), Term("खालसा", Language.HINDI), Term("राजनीति", Language.HINDI)],
        }
    )


@pytest.mark.parametrize(
    "text",
    [
        "वह हर हफ्ते अमृतसर जाता है",  # "goes"
        "उसकी बहन भी वहाँ जाती है",  # "(she) goes": Hindi writes caste जाति with a short i
        "woh har hafte Amritsar jata hai",
        "khep port se jaata hai",
        "jataa",
        "वे लोग जाते हैं",
    ],
)
def test_everyday_verb_forms_are_not_the_caste_words_their_folded_spelling_resembles(text: str) -> None:
    assert _caste_words().concepts(text) == {}


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("ਜੱਟ", "caste"),
        ("jaat", "caste"),
        ("jatt", "caste"),
        ("जाट", "caste"),
        ("जाति", "caste"),
        ("ਜਾਤੀ", "caste"),
        ("jati", "caste"),  # romanised, the length is unsaid: it may be caste
        ("jatiya", "caste"),  # जातीय: its final vowel is sounded after the semivowel
        ("अनुसूचित जाती", "caste"),  # misspelt, but the phrase says which word it is
        ("dharma", "faith"),
        ("dharm", "faith"),
        ("खालसा", "faith"),
        ("khalsa", "faith"),
        ("Khalsaa", "faith"),
        ("राजनीती", "faith"),  # a long word misspelt with a long final vowel is still the word
    ],
)
def test_a_terms_other_spellings_and_scripts_still_match(text: str, concept: str) -> None:
    assert concept in _caste_words().concepts(text), text


def test_a_native_spelling_decides_for_its_own_script_over_a_romanisation_or_the_other_script() -> None:
    """Romanised "jaati" (caste) would match "जाती" (she goes) on its folded key; the lexicon's own Devanagari
    spelling "जाति" says which one the term means. Without a native spelling, the romanisation reaches both scripts."""
    assert _caste_words().concepts("जाती") == {}
    romanised_only = Lexicon({"caste": [Term("jaati", Language.HINDI)]})
    assert romanised_only.concepts("जाति ਜਾਤੀ") == {"caste": ["जाति", "ਜਾਤੀ"]}


def test_a_word_before_a_danda_is_the_word_alone() -> None:
    """Hindi and Punjabi end a sentence with a danda (।, ॥), written against its last word."""
    words = [token[0] for token in tokenise("उसकी जाति। ਗਵਾਹ ਦੀ ਜਾਤ॥ भेजी जाती है।")]
    assert words == ["उसकी", "जाति", "ਗਵਾਹ", "ਦੀ", "ਜਾਤ", "भेजी", "जाती", "है"]


def _screen_groups() -> list[tuple[list[Lexicon], LexiconGroup]]:
    """Each shipped pack's neutrality term files as the screen reads them: their lexicons one by one, and in a group."""
    from accord.policy.pack import load_pack, shipped_pack_dir
    from accord.policy.screens._neutrality_lexicons import screen_terms

    groups = []
    for party in Party:
        rules = load_pack(shipped_pack_dir(party)).manifest.screens.neutrality
        terms = screen_terms(rules.lexicons, rules.asked, rules.conduct, rules.persons)
        files = (terms.grounds, terms.asked, terms.conduct, terms.persons)
        groups.append(([lexicon for each in files for lexicon in each.lexicons], terms.group))
    return groups


def test_a_group_of_lexicons_finds_what_each_finds_on_its_own_over_all_their_terms() -> None:
    """Each member gets the hits, in the order, of its own `find`, over a text made of every term of every member
    (terms shared by members, concepts of the same name in two members, phrases overlapping across members)."""
    for members, group in _screen_groups():
        text = ", the ".join(term.text.rstrip("*") + "s" for member in members for _, term in member._terms)
        found = group.find(text)
        assert found == [member.find(text) for member in members]
        assert all(found)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_group_of_lexicons_finds_what_each_finds_on_its_own_in_any_text(data: st.DataObject) -> None:
    members, group = data.draw(st.sampled_from(_screen_groups()))
    terms = [term.text.rstrip("*") for member in members for _, term in member._terms]
    words = data.draw(st.lists(st.sampled_from(terms) | st.sampled_from(_PHRASE_WORDS) | st.text(max_size=8)))
    text = data.draw(st.sampled_from([" ", ", ", ". ", "\n"])).join(words)
    assert group.find(text) == [member.find(text) for member in members]
    for member, matches in zip(members, group.matches(text), strict=True):
        # Counted before any hit is made; read as a sequence, the member's own hits in its own order.
        found = member.find(text)
        assert len(matches) == len(found) and bool(matches) == bool(found)
        assert list(matches) == found and matches[:] == found
        assert all(matches[i] == hit for i, hit in enumerate(found))


# As officers write to each other: in French, Hindi (Devanagari and romanised) and Punjabi, asking indirectly, about
# victims and witnesses as well as suspects, and with nothing but a title and a line of body.
_OFFICER_TEXTS = [
    "Demande d'entraide\nPourriez-vous nous indiquer si la victime, Mme Kaur, a été vue au gurdwara de Surrey avec le "
    "suspect ? Le témoin affirme qu'ils fréquentent la même association.",
    "Merci de confirmer l'adresse du témoin ; aucune infraction n'est reprochée à celui-ci.",
    "अनुरोध\nकृपया बताएं कि पीड़ित की मुलाकात गवाह से किस मंदिर में हुई थी और वह किस संगठन का सदस्य है।",
    "Kripya batayein ki gawah kis party ka karyakarta hai aur dharna mein kaun kaun shaamil tha.",
    "ਬੇਨਤੀ\nਕਿਰਪਾ ਕਰਕੇ ਦੱਸੋ ਕਿ ਗਵਾਹ ਕਿਹੜੇ ਗੁਰਦੁਆਰੇ ਜਾਂਦਾ ਹੈ ਅਤੇ ਪੀੜਤ ਕਿਸ ਜਥੇਬੰਦੀ ਨਾਲ ਜੁੜਿਆ ਹੈ।",
    "It would help to know who the witness meets after Friday prayers, and whether the victim attends the rallies.",
    "Heroin seized at the temple car park; the suspect's phone and the courier's waybill are attached.",
    "Request\n",
]


def test_a_group_finds_what_each_of_its_lexicons_finds_in_what_officers_write() -> None:
    """The packs' own cases (every text their tables send, in each language they are written in) and requests as
    officers phrase them, through both packs' groups."""
    from accord.datafiles import load_agreement
    from accord.policy.cases import build_message, load_cases
    from accord.policy.pack import PackError, shipped_pack_dir
    from accord.policy.screens.neutrality import screened_text

    texts = list(_OFFICER_TEXTS)
    for party in Party:
        table = load_cases(shipped_pack_dir(party) / "cases.yaml")
        for index, case in enumerate(table.cases):
            try:
                texts.append(screened_text(build_message(table, case, load_agreement(), index)[0]))
            except PackError:
                continue
    assert len(texts) > 100
    for members, group in _screen_groups():
        for text in texts:
            assert group.find(text) == [member.find(text) for member in members], text

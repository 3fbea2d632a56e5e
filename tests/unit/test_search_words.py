"""Full-text search's words and queries: words in Devanagari, Gurmukhi and French come out whole and accent-folded;
what an officer types is only ever words (quotes, FTS5 operators, tsquery syntax are not syntax), so every query is
valid for both stores; highlights give the text back unchanged around the hits; page cursors refuse any edit."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import column

from accord.bootstrap import init_node
from accord.config import load_settings, write_node_file
from accord.domain.parties import Party
from accord.domain.search import (
    MAX_DOCUMENT_CHARS,
    MAX_WORD_CHARS,
    SearchTerm,
    document,
    fold,
    highlight,
    parse_query,
    words,
)
from accord.http.cursors import InvalidCursor, issue_cursor, open_cursor
from accord.node import Node
from accord.store.keyset import SortKey
from accord.store.search import FTS_TOKENIZER, Fts5Search, PostgresSearch

HINDI = "एसिटिक एनहाइड्राइड की खेप पंजाब सीमा पर रोकी गई"
PUNJABI = "ਪੰਜਾਬ ਪੁਲਿਸ ਨੇ ਐਸੀਟਿਕ ਐਨਹਾਈਡ੍ਰਾਈਡ ਜ਼ਬਤ ਕੀਤਾ"
FRENCH = "L’anhydride acétique, précurseur de l’héroïne, était caché dans des fûts « à double fond »."
ATTACKS = [
    '"',
    '""',
    "'",
    "\\",
    "*",
    "-",
    "anhydride*",
    '"anhydride',
    "anhydride OR heroin",
    "NEAR(anhydride heroin, 2)",
    "anhydride NOT heroin",
    "(anhydride",
    "anhydride)",
    "-anhydride",
    "^anhydride",
    "title:anhydride",
    "anhydride:*",
    "'anhydride' & !heroin | x <-> y",
    "a\x00b",
    "{anhydride}",
    "🙂",
    "",
]


def test_devanagari_and_gurmukhi_words_keep_their_vowel_signs_virama_and_nukta() -> None:
    assert words(HINDI) == ["एसिटिक", "एनहाइड्राइड", "की", "खेप", "पंजाब", "सीमा", "पर", "रोकी", "गई"]
    assert words(PUNJABI)[:5] == ["ਪੰਜਾਬ", "ਪੁਲਿਸ", "ਨੇ", "ਐਸੀਟਿਕ", "ਐਨਹਾਈਡ੍ਰਾਈਡ"]
    assert len(words("ਜ਼ਬਤ")) == 1  # a nukta letter, in either encoding, is one word and the same word
    assert words("ਜ਼ਬਤ") == words("ਜ\u0a3cਬਤ")


def test_french_words_are_found_without_their_accents_and_apostrophes_separate() -> None:
    found = words(FRENCH)
    assert found[:4] == ["l", "anhydride", "acetique", "precurseur"]
    assert "heroine" in found and "futs" in found and "«" not in "".join(found)
    assert fold("PRÉCURSEUR") == fold("precurseur") == "precurseur"
    assert fold("Œuvre ﬁne") == "œuvre fine"  # compatibility forms folded; œ is a letter, not an accent


def test_joiners_inside_an_indic_word_do_not_split_it() -> None:
    with_joiner = "क्\u200dष"
    assert words(with_joiner) == words("क्ष") == ["क्ष"]


def test_a_document_holds_each_word_once_and_is_capped_between_words() -> None:
    assert document("Anhydride anhydride", "ANHYDRIDE précurseur") == "anhydride precurseur"
    assert len(words("x" * 500)[0]) == MAX_WORD_CHARS
    huge = document(" ".join(f"word{n:06d}" for n in range(25_000)))
    assert len(huge) <= MAX_DOCUMENT_CHARS and not huge.endswith(" ") and huge.split(" ")[-1].startswith("word")


def test_a_query_is_words_only_and_a_trailing_star_asks_for_a_prefix() -> None:
    assert parse_query('"acetic anhydride" NEAR(x) -heroin').terms == tuple(
        SearchTerm(w) for w in ("acetic", "anhydride", "near", "x", "heroin")
    )
    assert parse_query("anhydr* précurseur").terms == (SearchTerm("anhydr", prefix=True), SearchTerm("precurseur"))
    assert parse_query("एसि*").terms == (SearchTerm("एसि", prefix=True),)
    assert parse_query("anhydride anhydride").terms == (SearchTerm("anhydride"),)
    for nothing in ('"', "*", "-", "()", "' & !", ""):
        assert parse_query(nothing).empty


def _fts5_table() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(f'CREATE VIRTUAL TABLE t USING fts5(words, tokenize="{FTS_TOKENIZER}")')
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    conn.execute("INSERT INTO t(words) VALUES (?)", (document(HINDI, PUNJABI, FRENCH),))
    return conn


def test_fts5_keeps_each_indic_word_whole_where_its_default_tokeniser_cuts_it() -> None:
    with closing(_fts5_table()) as conn:
        vocabulary = {row[0] for row in conn.execute("SELECT term FROM v")}
        assert {"एसिटिक", "एनहाइड्राइड", "ਪੰਜਾਬ", "ਐਨਹਾਈਡ੍ਰਾਈਡ", "precurseur"} <= vocabulary
        assert "एस" not in vocabulary  # what unicode61 with its default categories makes of एसिटिक
    with closing(sqlite3.connect(":memory:")) as default:
        default.execute("CREATE VIRTUAL TABLE t USING fts5(words)")
        default.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
        default.execute("INSERT INTO t(words) VALUES (?)", (HINDI,))
        assert "एसिटिक" not in {row[0] for row in default.execute("SELECT term FROM v")}


@pytest.mark.parametrize("typed", ATTACKS)
def test_no_typed_query_is_fts5_syntax(typed: str) -> None:
    query = parse_query(typed)
    with closing(_fts5_table()) as conn:
        if not query.empty:
            conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (Fts5Search.fts5_query(query),)).fetchone()
    assert all(t.word and '"' not in t.word and "'" not in t.word for t in query.terms)


@given(st.text(max_size=60))
def test_any_typed_text_makes_a_valid_fts5_query_and_quoted_tsquery(typed: str) -> None:
    query = parse_query(typed)
    if query.empty:
        return
    with closing(_fts5_table()) as conn:
        conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (Fts5Search.fts5_query(query),)).fetchone()
    tsquery = PostgresSearch.tsquery(query)
    assert tsquery.count("'") == 2 * len(query.terms)  # each lexeme quoted, none with a quote of its own


def test_the_fts5_index_finds_hindi_punjabi_and_french_words_and_prefixes() -> None:
    with closing(_fts5_table()) as conn:
        for typed in ("एसिटिक", "एनहाइड्राइड", "ਪੰਜਾਬ", "precurseur", "Précurseur", "anhydr*", "एसि*", "héroïne"):
            found = conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (Fts5Search.fts5_query(parse_query(typed)),))
            assert found.fetchone() == (1,), typed
        missed = conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (Fts5Search.fts5_query(parse_query("एस")),))
        assert missed.fetchone() == (0,)


def test_highlights_mark_the_hits_and_give_the_text_back_unchanged() -> None:
    title = "<script>alert(1)</script> L’anhydride — précurseurs"
    segments = highlight(title, parse_query("anhydride precurseur*"))
    assert "".join(s.text for s in segments) == title
    assert [s.text for s in segments if s.hit] == ["anhydride", "précurseurs"]
    hindi = highlight(HINDI, parse_query("एनहाइड्राइड"))
    assert [s.text for s in hindi if s.hit] == ["एनहाइड्राइड"]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    data = tmp_path_factory.mktemp("cursor-node")
    write_node_file(data, "127.0.0.1", 9, None)
    made = init_node(load_settings(data, database_url=f"sqlite:///{Path(data) / 'node.sqlite3'}"), Party.CA)
    yield made
    made.close()


def test_a_page_cursor_opens_only_unchanged_and_only_for_its_own_list(node: Node) -> None:
    order = SortKey("messages/created", (column("created_at"), column("id")))
    position = (datetime(2026, 11, 30, 9, 15, 1, 123456, tzinfo=UTC), "0193a1b2-0000-7000-8000-000000000001")
    cursor = issue_cursor(node, order, position)
    assert open_cursor(node, order, cursor) == position
    payload, tag = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for tampered in (f"{flipped}.{tag}", f"{payload}.{tag[:-2]}", payload, "", "not a cursor", "é.é", cursor + "x"):
        with pytest.raises(InvalidCursor):
            open_cursor(node, order, tampered)
    with pytest.raises(InvalidCursor, match="another list"):
        open_cursor(node, SortKey("incidents/created", order.expressions), cursor)


def test_the_run_pattern_accepts_exactly_the_word_characters_of_every_code_point() -> None:
    from accord.domain.search import _DROPPED, _run_pattern, is_word_char

    pattern = _run_pattern()
    differ = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (pattern.fullmatch(chr(code)) is not None) != (is_word_char(chr(code)) or chr(code) in _DROPPED)
    ]
    assert differ == []


def _words_one_character_at_a_time(text: str) -> list[str]:
    """The definition: runs of word characters, each folded, then cut again into runs."""
    from accord.domain.search import _DROPPED, MAX_WORD_CHARS, fold, is_word_char

    def runs(value: str) -> list[str]:
        found, current = [], ""
        for char in value:
            if is_word_char(char) or char in _DROPPED:
                current += char
            elif current:
                found, current = [*found, current], ""
        return [*found, current] if current else found

    return [word[:MAX_WORD_CHARS] for run in runs(text) for word in runs(fold(run))]


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_words_are_those_of_reading_one_character_at_a_time(text: str) -> None:
    assert words(text) == _words_one_character_at_a_time(text)


@pytest.mark.parametrize(
    "text",
    ["एसिटिक एनहाइड्राइड ½ kg", "ਖਾਲਿਸਤਾਨ\u200d test_case", "Précurseur—N-phényl; 4-AP/ANPP", "\ue000\U000f0000 x"],
)
def test_words_of_mixed_scripts_are_those_of_reading_one_character_at_a_time(text: str) -> None:
    assert words(text) == _words_one_character_at_a_time(text)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_an_ascii_text_has_the_runs_the_full_class_finds(text: str) -> None:
    from accord.domain.search import _ascii_run_pattern, _folded_words, _run_pattern

    assert _ascii_run_pattern().findall(text) == _run_pattern().findall(text)
    assert words(text) == [word for run in _run_pattern().findall(text) for word in _folded_words(run)]


@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text(alphabet="aZ9_-. x" + "Q" * 70, min_size=60))
def test_an_ascii_text_has_the_words_of_reading_one_character_at_a_time(text: str) -> None:
    """Words of an all-ASCII text are read by lowering it: the same words, cut alike past MAX_WORD_CHARS."""
    assert words(text) == _words_one_character_at_a_time(text)


def test_every_ascii_character_is_a_word_character_in_both_classes_or_in_neither() -> None:
    from accord.domain.search import _ascii_run_pattern, _run_pattern

    for code in range(128):
        char = chr(code)
        assert bool(_ascii_run_pattern().fullmatch(char)) == bool(_run_pattern().fullmatch(char)), hex(code)

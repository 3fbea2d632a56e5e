"""Full-text search over the messages' words, one interface with an implementation per store: SQLite's FTS5 and
PostgreSQL's text search. Both index the words `accord.domain.search` makes (folded, distinct, separated by one
space) in the `message_search` table, so both find the same messages for the same query.

- SQLite: an FTS5 table over `message_search` (external content: the words are stored once), kept in step by
  triggers on it; its tokeniser splits on the spaces only (`categories 'L* N* Co M*'` keeps the marks that unicode61
  would otherwise take for separators, should a word reach it unfolded).
- PostgreSQL: a GIN index on `array_to_tsvector(string_to_array(words, ' '))`: the lexemes are the words as given,
  never re-parsed by the server's parser, whose idea of a letter follows the database's locale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, bindparam, cast, column, delete, func, insert, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.sql.elements import ColumnElement

from accord.domain.search import SearchQuery, document
from accord.store.tables import message_search, messages

FTS_TABLE = "message_search_fts"
FTS_TOKENIZER = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
PG_INDEX = "ix_message_search_words"
PG_WORDS = "array_to_tsvector(string_to_array(words, ' '))"

# The SQL the migration runs to make each store's index, kept here beside the queries that use it.
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(words, content='message_search', content_rowid='id', "
    f'tokenize="{FTS_TOKENIZER}")',
    f"CREATE TRIGGER message_search_added AFTER INSERT ON message_search BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, words) VALUES (new.id, new.words); END",
    f"CREATE TRIGGER message_search_removed AFTER DELETE ON message_search BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, words) VALUES ('delete', old.id, old.words); END",
    f"CREATE TRIGGER message_search_changed AFTER UPDATE ON message_search BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, words) VALUES ('delete', old.id, old.words); "
    f"INSERT INTO {FTS_TABLE}(rowid, words) VALUES (new.id, new.words); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS message_search_changed",
    "DROP TRIGGER IF EXISTS message_search_removed",
    "DROP TRIGGER IF EXISTS message_search_added",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
POSTGRESQL_DDL = (f"CREATE INDEX {PG_INDEX} ON message_search USING gin (({PG_WORDS}))",)


def is_index_object(name: str | None) -> bool:
    """Whether a table or index is a store's own full-text index (the FTS5 table and its shadow tables, the GIN
    index): made by the migration, never declared in tables.py."""
    return name is not None and (name.startswith(FTS_TABLE) or name == PG_INDEX)


class MessageSearch(Protocol):
    def matching(self, message_id: ColumnElement[Any], query: SearchQuery) -> ColumnElement[bool]:
        """A condition on `message_id`: the message has every word of `query` (none, when the query has none)."""
        ...

    def compact(self, conn: Connection) -> None:
        """Make words that were removed (a purge) leave the index's own storage, not only its answers."""
        ...


def _no_message() -> ColumnElement[bool]:
    return literal_column("1") == literal_column("0")


class Fts5Search:
    _fts = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))

    @staticmethod
    def fts5_query(query: SearchQuery) -> str:
        """FTS5 query syntax with every word a quoted string (a `"` doubled), so nothing typed is an operator."""
        quoted = ('"' + t.word.replace('"', '""') + '"' + ("*" if t.prefix else "") for t in query.terms)
        return " ".join(quoted)

    def matching(self, message_id: ColumnElement[Any], query: SearchQuery) -> ColumnElement[bool]:
        if query.empty:
            return _no_message()
        found = (
            select(message_search.c.message_id)
            .join(self._fts, self._fts.c.rowid == message_search.c.id)
            .where(self._fts.c[FTS_TABLE].op("MATCH")(bindparam("fts_query", self.fts5_query(query), unique=True)))
        )
        return message_id.in_(found)

    def compact(self, conn: Connection) -> None:
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))


class PostgresSearch:
    @staticmethod
    def tsquery(query: SearchQuery) -> str:
        """tsquery input with every word a quoted lexeme (taken verbatim, never parsed); `:*` for a prefix."""

        def lexeme(word: str) -> str:
            return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"

        return " & ".join(lexeme(t.word) + (":*" if t.prefix else "") for t in query.terms)

    def matching(self, message_id: ColumnElement[Any], query: SearchQuery) -> ColumnElement[bool]:
        if query.empty:
            return _no_message()
        words = func.array_to_tsvector(func.string_to_array(message_search.c.words, literal_column("' '")))
        found = select(message_search.c.message_id).where(
            words.op("@@")(cast(bindparam("ts_query", self.tsquery(query), unique=True), TSQUERY))
        )
        return message_id.in_(found)

    def compact(self, conn: Connection) -> None:
        """Nothing to do: autovacuum reclaims the dead index entries."""


def message_search_for(conn: Connection) -> MessageSearch:
    return Fts5Search() if conn.dialect.name == "sqlite" else PostgresSearch()


def searchable_texts(content: str) -> dict[str, str]:
    """Where a message is found, by place: its title, body and attachment names (content: the Message as JSON)."""
    message = orjson.loads(content)
    names = " ".join(str(a.get("name") or "") for a in message.get("attachments") or ())
    return {"title": str(message.get("title") or ""), "body": str(message.get("body") or ""), "attachments": names}


def message_words(content: str) -> str:
    """The words a message is found by (content: the Message as JSON)."""
    return document(*searchable_texts(content).values())


def insert_messages(
    conn: Connection, rows: Sequence[Mapping[str, Any]], words: Mapping[str, str] | None = None
) -> None:
    """Store new rows of `messages` with their words, so that no way a message arrives (sent, received, seeded)
    leaves it out of search. `words`: those of some of the rows (by id), found by `message_words` of their content
    before the transaction."""
    conn.execute(insert(messages), rows)
    known = words or {}
    store_words(
        conn,
        {
            str(row["id"]): known[str(row["id"])] if str(row["id"]) in known else message_words(str(row["content"]))
            for row in rows
        },
    )


def index_messages(conn: Connection, contents: Mapping[str, str]) -> None:
    """Index these messages (id → content) as they now are; in the transaction that stores or changes them."""
    store_words(conn, {message_id: message_words(content) for message_id, content in contents.items()})


def store_words(conn: Connection, words_by_message: Mapping[str, str]) -> None:
    """Replace the indexed words of these messages; a message with no words leaves the index."""
    if not words_by_message:
        return
    ids = list(words_by_message)
    for first in range(0, len(ids), 500):
        conn.execute(delete(message_search).where(message_search.c.message_id.in_(ids[first : first + 500])))
    rows: list[dict[str, Any]] = [{"message_id": m, "words": w} for m, w in words_by_message.items() if w]
    if rows:
        conn.execute(insert(message_search), rows)

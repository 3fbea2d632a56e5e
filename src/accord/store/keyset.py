"""Keyset pagination: a list is read in a stable order of sort expressions ending in a unique one (the id), and a page
continues strictly after the position (those expressions' values) of the last row the previous page showed — never an
offset, so a page costs the same however deep it is, and rows added meanwhile neither repeat nor vanish.

Rows may be kept or dropped after they are read (need-to-know is a Cedar decision per row): the reader reads on until
the page is full, and a page's position is always that of a row it shows, never one of a row it dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Row, Select, and_, or_
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")
Value = str | int | datetime
Position = tuple[Value, ...]

MIN_SCAN = 50  # rows read at a time, at least: a page whose rows are mostly dropped needs fewer round trips


@dataclass(frozen=True, slots=True)
class SortKey:
    """A list's order: `name` (bound into its cursors), the expressions, the last one unique, all one direction."""

    name: str
    expressions: tuple[ColumnElement[Any], ...]
    descending: bool = True

    def labels(self) -> list[str]:
        return [f"_sort_{index}" for index in range(len(self.expressions))]

    def ordered(self, query: Select[Any]) -> Select[Any]:
        """`query` with the sort expressions as extra labelled columns and in this order."""
        labelled = [e.label(name) for e, name in zip(self.expressions, self.labels(), strict=True)]
        order = [e.desc() if self.descending else e.asc() for e in self.expressions]
        return query.add_columns(*labelled).order_by(*order)

    def after(self, position: Position) -> ColumnElement[bool]:
        """Rows strictly after `position` in this order: (a, b, c) > (x, y, z) spelt out, which every store reads."""
        if len(position) != len(self.expressions):
            raise ValueError("a position has one value per sort expression")
        branches = []
        for index, (expression, value) in enumerate(zip(self.expressions, position, strict=True)):
            equal_before = [e == v for e, v in zip(self.expressions[:index], position[:index], strict=True)]
            beyond = expression < value if self.descending else expression > value
            branches.append(and_(*equal_before, beyond))
        return or_(*branches)

    def position_of(self, row: Row[Any]) -> Position:
        return tuple(row._mapping[name] for name in self.labels())


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: Position | None  # where the next page starts; None on the last page


def read_page(
    conn: Connection,
    query: Select[Any],
    key: SortKey,
    *,
    after: Position | None,
    limit: int,
    keep: Callable[[Sequence[Row[Any]]], Iterable[tuple[Row[Any], T]]],
) -> Page[T]:
    """Up to `limit` items after `after`: rows of `query` in `key`'s order, each made an item (or dropped) by `keep`,
    which sees a batch of rows at a time and answers the rows it keeps with their items, in any order."""
    if limit < 1:
        raise ValueError("a page holds at least one item")
    batch = max(limit + 1, MIN_SCAN)
    ordered = key.ordered(query)
    kept: list[tuple[Row[Any], T]] = []
    position = after
    while len(kept) <= limit:
        scan = ordered if position is None else ordered.where(key.after(position))
        rows = conn.execute(scan.limit(batch)).all()
        order = {key.position_of(row): index for index, row in enumerate(rows)}
        kept.extend(sorted(keep(rows), key=lambda pair: order[key.position_of(pair[0])]))
        if len(rows) < batch:
            break
        position = key.position_of(rows[-1])
    shown = kept[:limit]
    more = len(kept) > limit
    return Page([item for _, item in shown], key.position_of(shown[-1][0]) if more and shown else None)

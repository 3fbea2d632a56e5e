"""Hit/no-hit queries between the parties (the Prüm pattern): the querying node encodes its records with the matching
key both operators agreed and sends only the encodings; the queried node matches them against its agency's holdings
and answers, per record, hit or no hit — a hit with an opaque reference and a score band, nothing of the record.
The agreement limits how many records a party may query per period; both ends count."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, func, insert, select, update
from uuid6 import uuid7

from accord.directory.officers import Officer, Role
from accord.domain.matching import QueryDirection, QueryState
from accord.domain.parties import Party
from accord.errors import AccordError, Forbidden, InvalidInput, NotFound, validation_text
from accord.exchange.outbox import OutboxEntry, enqueue
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.matching.encode import EncodedPerson, MatchingKey, blind_index, encode_person
from accord.matching.followup import followups_of
from accord.matching.holdings import (
    QUERY_SCHEME,
    SPECS,
    RecordType,
    check_identifier,
    encoded_persons,
    ensure_encoded,
    field_values,
    lookup,
)
from accord.matching.keys import current_key, usable_key
from accord.matching.link import Candidate, match_encoded
from accord.matching.records import person_from_row
from accord.node import Node
from accord.store.tables import match_queries, match_query_rows, match_references
from accord.trust.peers import peer_for_party

QUERY_KIND = "hitnohit-query"
MAX_LABEL = 128  # characters of the querying party's own id for a record
PERSON_FIELDS = ("name", "date_of_birth", "sex", "nationality", "document_number", "phone")
ANSWER_KIND = "hitnohit-answer"
_RANK = 5
_QUERYING_ROLES = frozenset({Role.OFFICER, Role.ANALYST})


class QueryLimitReached(AccordError):
    status = 429
    slug = "query-limit-reached"
    title = N_("The agreement's limit on hit/no-hit queries for the period is reached")

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class BatchRefused(InvalidInput):
    """A batch with rows that cannot be queried: nothing was sent or stored. Each row's reason is listed."""

    slug = "batch-refused"
    title = N_("Some records of the batch cannot be queried; nothing was sent")

    def __init__(self, errors: Sequence[tuple[int, str]]) -> None:
        line, reason = errors[0]
        super().__init__(
            f"{len(errors)} record{'' if len(errors) == 1 else 's'} of the batch cannot be queried, so nothing was "
            f"sent; line {line}: {reason}"
        )
        self.errors = list(errors)

    def extensions(self) -> dict[str, object]:
        listed = self.errors[:200]
        return {
            "refused": len(self.errors),
            "errors": [{"location": ["body", line], "message": reason, "type": self.slug} for line, reason in listed],
        }


# ------------------------------------------------------------------------------------------------ wire bodies


class QueryRowBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    row: int = Field(ge=1)
    type: RecordType
    encoding: dict[str, Any] | None = None  # a person's encoding
    scheme: str | None = Field(default=None, max_length=32)  # an identifier's blind index
    index: str | None = Field(default=None, max_length=128)


class QueryBody(BaseModel):
    """What crosses for a query: encodings and blind indexes, the key's id, never a name or a number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    query_id: str = Field(min_length=36, max_length=36)
    querying_agency: str = Field(max_length=32)
    queried_agency: str = Field(max_length=32)
    focus_area: str = Field(max_length=32)
    key_id: str = Field(max_length=64)
    rows: tuple[QueryRowBody, ...] = Field(min_length=1, max_length=10_000)
    sent_at: datetime

    @property
    def id(self) -> str:
        return self.query_id


class AnswerRowBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    row: int = Field(ge=1)
    hit: bool
    reference: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{16,64}$")
    band: str | None = Field(default=None, max_length=16)


class AnswerBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_id: str = Field(min_length=36, max_length=36)
    query_id: str = Field(min_length=36, max_length=36)
    rows: tuple[AnswerRowBody, ...] = Field(max_length=10_000)
    answered_at: datetime

    @property
    def id(self) -> str:
        return self.answer_id


def parse_query(body: dict[str, Any]) -> QueryBody:
    try:
        query = QueryBody.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(
            _("not a hit/no-hit query: {validation_text}").format(validation_text=validation_text(exc))
        ) from None
    for row in query.rows:
        if row.type is RecordType.PERSON:
            encoded = EncodedPerson.from_json(row.encoding)
            if encoded.key_id != query.key_id:
                raise InvalidInput(
                    _("row {row} is encoded with key {key_id!r}, the query says {key_id2!r}").format(
                        row=row.row, key_id=encoded.key_id, key_id2=query.key_id
                    )
                )
        elif row.scheme is None or row.index is None or row.encoding is not None:
            raise InvalidInput(
                _("row {row}: an identifier travels as its scheme and blind index only").format(row=row.row)
            )
    return query


def parse_answer(body: dict[str, Any]) -> AnswerBody:
    try:
        return AnswerBody.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(
            _("not a hit/no-hit answer: {validation_text}").format(validation_text=validation_text(exc))
        ) from None


# ------------------------------------------------------------------------------------------------ querying


@dataclass(frozen=True, slots=True)
class QueryRow:
    line: int
    label: str
    record_type: RecordType
    fields: Mapping[str, str]


def check_rows(kind: RecordType, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> list[QueryRow]:
    """The batch's records, or BatchRefused listing every row that cannot be queried (a missing or repeated id, an
    empty name, an impossible date, a record the batch repeats under another id)."""
    checked: list[QueryRow] = []
    errors: list[tuple[int, str]] = []
    by_label: dict[str, int] = {}
    by_content: dict[tuple[tuple[str, str], ...], int] = {}
    for line, raw in rows:
        try:
            values = {k: v for k, v in field_values(raw).items() if v}
        except InvalidInput as exc:
            errors.append((line, exc.detail))
            continue
        label = values.pop("id", "")
        if not label or len(label) > MAX_LABEL:
            errors.append(
                (line, f"id: every record of a batch needs the id it has in your files ({MAX_LABEL} at most)")
            )
            continue
        try:
            if kind is RecordType.PERSON:
                record = person_from_row({"id": label, **values})
                fields = {k: v for k in PERSON_FIELDS if (v := getattr(record, k))}
            else:
                fields = _identifier_fields(kind, values)
        except InvalidInput as exc:
            errors.append((line, exc.detail))
            continue
        content = tuple(sorted(fields.items()))
        if label in by_label:
            errors.append((line, f"id {label!r} repeats line {by_label[label]}"))
        elif content in by_content:
            errors.append((line, f"the same record as line {by_content[content]}, under another id"))
        else:
            by_label[label] = by_content[content] = line
            checked.append(QueryRow(line, label, kind, fields))
    if errors:
        raise BatchRefused(errors)
    return checked


def _identifier_fields(kind: RecordType, values: Mapping[str, str]) -> dict[str, str]:
    """An identifier query names its value in the type's first indexed field, or in a column `value`."""
    if kind not in QUERY_SCHEME:
        raise InvalidInput(_("a {value} cannot be queried").format(value=kind.value))
    scheme = QUERY_SCHEME[kind]
    field = next(name for name, indexed in SPECS[kind].indexed.items() if indexed == scheme)
    value = values.get(field) or values.get("value", "")
    if not value:
        raise InvalidInput(
            _("{field}: a {value} query needs it (or a column 'value')").format(field=field, value=kind.value)
        )
    check_identifier(field, scheme, value)
    return {field: value}


def require_querier(officer: Officer) -> None:
    if not _QUERYING_ROLES & officer.roles:
        raise Forbidden(_("hit/no-hit queries are made by officers and analysts"))


def send_query(
    node: Node,
    officer: Officer,
    rows: Sequence[QueryRow],
    *,
    queried_agency: str,
    focus_area: str,
) -> dict[str, Any]:
    """Encode the records with the current matching key and send the encodings to the partner's agency."""
    require_querier(officer)
    rules = node.agreement.hit_no_hit
    if focus_area not in rules.focus_areas:
        raise InvalidInput(
            _("hit/no-hit queries are agreed in {join}, not {focus_area!r}").format(
                join=", ".join(rules.focus_areas), focus_area=focus_area
            )
        )
    other = node.party.other
    if node.agreement.agency(other, queried_agency) is None:
        raise InvalidInput(
            _("{queried_agency!r} is not an agency of {value}").format(queried_agency=queried_agency, value=other.value)
        )
    if not rows:
        raise InvalidInput(_("a query needs at least one record"))
    if len(rows) > rules.max_batch:
        raise InvalidInput(
            _("a query holds at most {max_batch} records; this one holds {count}: split it").format(
                max_batch=rules.max_batch, count=len(rows)
            )
        )
    key = current_key(node.settings.data_dir)
    wire = [_encoded_row(i, row, key) for i, row in enumerate(rows, start=1)]
    now = datetime.now(UTC)
    query_id = str(uuid7())
    body = QueryBody(
        query_id=query_id,
        querying_agency=officer.agency,
        queried_agency=queried_agency,
        focus_area=focus_area,
        key_id=key.key_id,
        rows=tuple(wire),
        sent_at=now,
    )
    with node.engine.begin() as conn:
        _check_limit(conn, node, node.party, len(rows), now)
        conn.execute(
            insert(match_queries),
            [
                {
                    "id": query_id,
                    "direction": QueryDirection.OUT.value,
                    "querying_party": node.party.value,
                    "querying_agency": officer.agency,
                    "queried_agency": queried_agency,
                    "officer": officer.username,
                    "focus_area": focus_area,
                    "key_id": key.key_id,
                    "size": len(rows),
                    "hits": None,
                    "state": QueryState.SENT.value,
                    "reason": None,
                    "created_at": now,
                    "answered_at": None,
                }
            ],
        )
        conn.execute(
            insert(match_query_rows),
            [
                {
                    "query_id": query_id,
                    "row": i,
                    "label": row.label,
                    "record_type": row.record_type.value,
                    "fields": json.dumps(dict(row.fields), ensure_ascii=False),
                    "hit": None,
                    "reference": None,
                    "band": None,
                }
                for i, row in enumerate(rows, start=1)
            ],
        )
        append_event(
            conn,
            EventType.MATCH_QUERY_SENT,
            officer.username,
            {"query": query_id, "to": queried_agency, "focus_area": focus_area, "size": len(rows), "key": key.key_id},
        )
        peer = peer_for_party(node, conn, other)
        payload = json.dumps(body.model_dump(mode="json"))
        enqueue(conn, node.node_id, peer.node_id, [OutboxEntry(QUERY_KIND, query_id, _RANK, payload)])
    node.outbox_signal.set()
    return query_view(node, officer, query_id)


def _encoded_row(row_number: int, row: QueryRow, key: MatchingKey) -> QueryRowBody:
    if row.record_type is RecordType.PERSON:
        person = person_from_row({"id": row.label, **row.fields})
        return QueryRowBody(row=row_number, type=row.record_type, encoding=encode_person(person, key).as_json())
    scheme = QUERY_SCHEME[row.record_type]
    value = next(iter(row.fields.values()))
    index = blind_index(key, scheme, value)
    if index is None:
        raise InvalidInput(
            _("line {line}: {value!r} leaves nothing to match once normalised").format(line=row.line, value=value)
        )
    return QueryRowBody(row=row_number, type=row.record_type, scheme=scheme, index=index)


def period_usage(conn: Connection, node: Node, party: Party, now: datetime) -> tuple[int, datetime | None]:
    """The records `party` queried in the agreement's current period (its queries not refused), and when the oldest
    of them was made: this node's own queries, or the partner's it answered."""
    direction = QueryDirection.OUT if party is node.party else QueryDirection.IN
    since = now - timedelta(days=node.agreement.hit_no_hit.period_days)
    used, oldest = conn.execute(
        select(func.coalesce(func.sum(match_queries.c.size), 0), func.min(match_queries.c.created_at)).where(
            match_queries.c.direction == direction.value,
            match_queries.c.querying_party == party.value,
            match_queries.c.state != QueryState.REFUSED.value,
            match_queries.c.created_at >= since,
        )
    ).one()
    return int(used), oldest


def _check_limit(conn: Connection, node: Node, party: Party, size: int, now: datetime) -> None:
    rules = node.agreement.hit_no_hit
    used, oldest = period_usage(conn, node, party, now)
    if used + size > rules.max_records_per_period:
        wait = int(((oldest or now) + timedelta(days=rules.period_days) - now).total_seconds()) + 1
        raise QueryLimitReached(
            _(
                "{value} has queried {used} of the {max_records_per_period} records the agreement allows "
                "per {period_days} day(s); {size} more would pass the limit (nothing was sent)"
            ).format(
                value=party.value,
                used=used,
                max_records_per_period=rules.max_records_per_period,
                period_days=rules.period_days,
                size=size,
            ),
            max(wait, 1),
        )


def query_volumes(node: Node) -> dict[str, Any]:
    """Records queried in the current period by each party, against the agreement's limit."""
    rules = node.agreement.hit_no_hit
    now = datetime.now(UTC)
    with node.engine.connect() as conn:
        used = {party.value: period_usage(conn, node, party, now)[0] for party in Party}
    return {
        "period_days": rules.period_days,
        "limit": rules.max_records_per_period,
        "max_batch": rules.max_batch,
        "queried": used,
    }


# ------------------------------------------------------------------------------------------------ answering


def check_query(node: Node, conn: Connection, query: QueryBody) -> None:
    """Refuse a query this node cannot answer: outside the agreed focus areas, to an agency not ours, encoded with
    a key this node does not hold (or retired), or over the period's limit."""
    rules = node.agreement.hit_no_hit
    if query.focus_area not in rules.focus_areas:
        raise InvalidInput(
            _("hit/no-hit queries are agreed in {join}, not {focus_area!r}").format(
                join=", ".join(rules.focus_areas), focus_area=query.focus_area
            )
        )
    if node.agreement.agency(node.party, query.queried_agency) is None:
        raise InvalidInput(
            _("{queried_agency!r} is not an agency of {value}").format(
                queried_agency=query.queried_agency, value=node.party.value
            )
        )
    if len(query.rows) > rules.max_batch:
        raise InvalidInput(
            _("a query holds at most {max_batch} records; this one holds {count}").format(
                max_batch=rules.max_batch, count=len(query.rows)
            )
        )
    usable_key(node.settings.data_dir, query.key_id)
    _check_limit(conn, node, node.party.other, len(query.rows), datetime.now(UTC))


def answer_query(node: Node, conn: Connection, query: QueryBody) -> None:
    """Match the encodings against the queried agency's holdings, keep a reference per hit, and send the answer."""
    key = usable_key(node.settings.data_dir, query.key_id)
    now = datetime.now(UTC)
    today = now.date()
    best = _best_hits(conn, query, key, today)
    expires = now + timedelta(days=node.agreement.hit_no_hit.reference_valid_days)
    references: list[dict[str, Any]] = []
    answers: list[AnswerRowBody] = []
    for row in query.rows:
        hit = best.get(row.row)
        if hit is None:
            answers.append(AnswerRowBody(row=row.row, hit=False))
            continue
        holding_id, candidate_score, band, evidence = hit
        reference = secrets.token_urlsafe(24)
        references.append(
            {
                "reference": reference,
                "query_id": query.query_id,
                "row": row.row,
                "holding_id": holding_id,
                "score": candidate_score,
                "band": band,
                "evidence": json.dumps(evidence),
                "created_at": now,
                "expires_at": expires,
                "request_message_id": None,
                "released_message_id": None,
            }
        )
        answers.append(AnswerRowBody(row=row.row, hit=True, reference=reference, band=band))
    if references:
        conn.execute(insert(match_references), references)
    conn.execute(
        insert(match_queries),
        [
            {
                "id": query.query_id,
                "direction": QueryDirection.IN.value,
                "querying_party": node.party.other.value,
                "querying_agency": query.querying_agency,
                "queried_agency": query.queried_agency,
                "officer": "",
                "focus_area": query.focus_area,
                "key_id": query.key_id,
                "size": len(query.rows),
                "hits": len(references),
                "state": QueryState.ANSWERED.value,
                "reason": None,
                "created_at": now,
                "answered_at": now,
            }
        ],
    )
    append_event(
        conn,
        EventType.MATCH_QUERY_ANSWERED,
        f"{node.party.other.value}:{query.querying_agency}",
        {"query": query.query_id, "agency": query.queried_agency, "size": len(query.rows), "hits": len(references)},
    )
    answer = AnswerBody(answer_id=str(uuid7()), query_id=query.query_id, rows=tuple(answers), answered_at=now)
    peer = peer_for_party(node, conn, node.party.other)
    enqueue(
        conn,
        node.node_id,
        peer.node_id,
        [OutboxEntry(ANSWER_KIND, answer.answer_id, _RANK, json.dumps(answer.model_dump(mode="json")))],
    )
    node.outbox_signal.set()


def _best_hits(
    conn: Connection, query: QueryBody, key: MatchingKey, today: Any
) -> dict[int, tuple[str, float, str, list[dict[str, Any]]]]:
    """Per query row, the holding it hits best: persons by the matching model, identifiers by blind index."""
    ensure_encoded(conn, query.queried_agency, key, today)  # holdings imported since the last query, of every type
    best: dict[int, tuple[str, float, str, list[dict[str, Any]]]] = {}
    persons = [r for r in query.rows if r.type is RecordType.PERSON]
    if persons:
        ids, held = encoded_persons(conn, query.queried_agency, key, today)
        encoded = [EncodedPerson.from_json(r.encoding) for r in persons]
        candidates: list[Candidate] = match_encoded(encoded, held) if held else []
        for c in candidates:
            row = persons[c.query_index].row
            if row not in best or c.score > best[row][1]:
                evidence = [{"field": a.field, "level": a.level, "weight": a.weight} for a in c.agreements]
                best[row] = (ids[c.holding_index], c.score, c.band.value, evidence)
    for r in query.rows:
        if r.type is RecordType.PERSON or r.scheme is None or r.index is None:
            continue
        found = lookup(conn, query.queried_agency, key, r.scheme, r.index, today)
        if found:
            best[r.row] = (found[0], 1.0, "exact", [{"field": r.scheme, "level": "identical", "weight": 1.0}])
    return best


def refuse_query(conn: Connection, query_id: str, reason: str, peer: str) -> None:
    """The partner refused our query for good: it is marked so, and counts no more against the period's limit."""
    conn.execute(
        update(match_queries)
        .where(match_queries.c.id == query_id, match_queries.c.direction == QueryDirection.OUT.value)
        .values(state=QueryState.REFUSED.value, reason=reason[:2000])
    )
    append_event(conn, EventType.MATCH_QUERY_REFUSED, peer, {"query": query_id})


# ------------------------------------------------------------------------------------------------ answers


def check_answer(conn: Connection, answer: AnswerBody) -> None:
    row = conn.execute(
        select(match_queries.c.state, match_queries.c.size).where(
            match_queries.c.id == answer.query_id, match_queries.c.direction == QueryDirection.OUT.value
        )
    ).first()
    if row is None:
        raise InvalidInput(
            _("an answer to query {query_id}, which this node did not send").format(query_id=answer.query_id)
        )
    if row.state != QueryState.SENT.value:
        raise InvalidInput(_("query {query_id} is {state} already").format(query_id=answer.query_id, state=row.state))
    if sorted(r.row for r in answer.rows) != list(range(1, row.size + 1)):
        raise InvalidInput(
            _("the answer to query {query_id} does not answer each of its {size} records").format(
                query_id=answer.query_id, size=row.size
            )
        )


def land_answer(conn: Connection, answer: AnswerBody, peer: str) -> None:
    for row in answer.rows:
        conn.execute(
            update(match_query_rows)
            .where(match_query_rows.c.query_id == answer.query_id, match_query_rows.c.row == row.row)
            .values(hit=row.hit, reference=row.reference if row.hit else None, band=row.band if row.hit else None)
        )
    hits = sum(1 for r in answer.rows if r.hit)
    conn.execute(
        update(match_queries)
        .where(match_queries.c.id == answer.query_id)
        .values(state=QueryState.ANSWERED.value, hits=hits, answered_at=answer.answered_at)
    )
    append_event(conn, EventType.MATCH_ANSWER_RECEIVED, peer, {"query": answer.query_id, "hits": hits})


# ------------------------------------------------------------------------------------------------ reading


def query_view(node: Node, officer: Officer, query_id: str) -> dict[str, Any]:
    """One of our queries with its rows, as the officers of the querying agency see it."""
    with node.engine.connect() as conn:
        query = conn.execute(
            select(match_queries).where(
                match_queries.c.id == query_id, match_queries.c.direction == QueryDirection.OUT.value
            )
        ).first()
        if query is None or query.querying_agency != officer.agency:
            raise NotFound(_("no query {query_id} of {agency}").format(query_id=query_id, agency=officer.agency))
        rows = conn.execute(
            select(match_query_rows).where(match_query_rows.c.query_id == query_id).order_by(match_query_rows.c.row)
        ).all()
        followups = followups_of(conn, query_id)
    return {
        **_query_json(query),
        "rows": [
            {
                "row": r.row,
                "id": r.label,
                "type": r.record_type,
                "fields": json.loads(r.fields),
                "hit": r.hit,
                "reference": r.reference,
                "band": r.band,
                "followup": followups.get(r.row),
            }
            for r in rows
        ],
    }


def list_queries(node: Node, officer: Officer, limit: int = 100) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(match_queries)
            .where(
                match_queries.c.direction == QueryDirection.OUT.value, match_queries.c.querying_agency == officer.agency
            )
            .order_by(match_queries.c.created_at.desc())
            .limit(limit)
        ).all()
    return [_query_json(r) for r in rows]


def _query_json(row: Any) -> dict[str, Any]:
    return {
        "query_id": row.id,
        "querying_agency": row.querying_agency,
        "queried_agency": row.queried_agency,
        "officer": row.officer,
        "focus_area": row.focus_area,
        "key_id": row.key_id,
        "size": row.size,
        "hits": row.hits,
        "state": row.state,
        "reason": row.reason,
        "created_at": row.created_at.isoformat(),
        "answered_at": row.answered_at.isoformat() if row.answered_at else None,
    }

"""The party's own holdings in fraud and immigration: persons and the identifiers officers meet (scam phones, mule
accounts, wallets, admission letters, unauthorised consultants, forged documents), each kept with its source and the
date it must be gone by, encoded under a matching key when a partner's query first needs it, and read by the agency's
officers (a page of records, the persons held twice)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from uuid6 import uuid7

from accord.directory.officers import Officer, Role
from accord.errors import Forbidden, InvalidInput
from accord.i18n import _
from accord.ledger.events import EventType, append_event
from accord.matching.encode import ENCODING_VERSION, EncodedPerson, MatchingKey, blind_index, encode_person
from accord.matching.link import find_duplicates
from accord.matching.normalise import identifier_keys
from accord.matching.records import PersonRecord, person_from_row
from accord.node import Node
from accord.store.tables import match_encodings, match_holdings, match_lookups

MAX_FIELD = 256
_HOLDING_ROLES = frozenset({Role.OFFICER, Role.ANALYST})


class RecordType(StrEnum):
    PERSON = "person"
    PHONE = "phone"
    ACCOUNT = "account"
    WALLET = "wallet"
    ADMISSION_LETTER = "admission_letter"
    CONSULTANT = "consultant"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """A record type's fields: the required ones, the optional ones, and which are identifiers a query can hit
    (field → blind-index scheme)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    indexed: Mapping[str, str]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


SPECS: Mapping[RecordType, TypeSpec] = {
    RecordType.PERSON: TypeSpec(
        ("name",), ("date_of_birth", "sex", "nationality", "document_number", "phone", "notes"), {}
    ),
    RecordType.PHONE: TypeSpec(("number",), ("holder_name", "notes"), {"number": "phone"}),
    RecordType.ACCOUNT: TypeSpec(("account_number",), ("bank", "holder_name", "notes"), {"account_number": "account"}),
    RecordType.WALLET: TypeSpec(("address",), ("currency", "holder_name", "notes"), {"address": "wallet"}),
    RecordType.ADMISSION_LETTER: TypeSpec(
        ("letter_number",),
        ("institution_id", "institution_name", "student_name", "notes"),
        {"letter_number": "admission-letter", "institution_id": "institution"},
    ),
    RecordType.CONSULTANT: TypeSpec(
        ("name",),
        ("licence_number", "phone", "email", "notes"),
        {"licence_number": "licence", "phone": "phone", "email": "email"},
    ),
    RecordType.DOCUMENT: TypeSpec(
        ("document_number",),
        ("document_type", "issuing_country", "status", "holder_name", "notes"),
        {"document_number": "document"},
    ),
}
# What a query for one identifier of a type looks up (the type's first indexed field).
QUERY_SCHEME: Mapping[RecordType, str] = {t: next(iter(s.indexed.values())) for t, s in SPECS.items() if s.indexed}


@dataclass(frozen=True, slots=True)
class Holding:
    label: str
    record_type: RecordType
    fields: Mapping[str, str]
    source: str
    retain_until: date

    def person(self) -> PersonRecord:
        return person_from_row({"id": self.label, **self.fields})


def record_type(value: str) -> RecordType:
    try:
        return RecordType(value.strip().lower().replace("-", "_"))
    except ValueError:
        known = ", ".join(t.value for t in RecordType)
        raise InvalidInput(
            _("{value!r} is not a record type; known: {known}").format(value=value, known=known)
        ) from None


def require_holder(officer: Officer) -> None:
    if not _HOLDING_ROLES & officer.roles:
        raise Forbidden(_("an agency's holdings are kept by its officers and analysts"))


def check_holding(
    kind: RecordType, row: Mapping[str, Any], *, source: str | None, retain_until: date | None, today: date
) -> Holding:
    """One row as a holding, or InvalidInput naming the field: unknown or missing fields, an identifier that
    normalises to nothing (a phone not valid in Canada or India), a retention date that is past."""
    spec = SPECS[kind]
    values = field_values(row)
    label = values.pop("id", "")
    if not label:
        raise InvalidInput(_("id: every record needs the id it has in its source"))
    if len(label) > 128:
        raise InvalidInput(_("id: {label!r}… is longer than 128 characters").format(label=label[:40]))
    own_source = values.pop("source", "") or (source or "")
    own_retention = values.pop("retain_until", "")
    unknown = sorted(set(values) - set(spec.fields))
    if unknown:
        raise InvalidInput(
            _("{join}: not a field of a {value} record; its fields are id, {join2}, source, retain_until").format(
                join=", ".join(unknown), value=kind.value, join2=", ".join(spec.fields)
            )
        )
    for name in spec.required:
        if not values.get(name):
            raise InvalidInput(_("{name}: a {value} record needs it").format(name=name, value=kind.value))
    if not own_source:
        raise InvalidInput(_("source: say where the record comes from (a column or the import's source)"))
    until = _retention(own_retention, retain_until)
    if until < today:
        raise InvalidInput(
            _("retain_until: {until} is past; a record past its retention date is not kept").format(until=until)
        )
    fields = {k: v for k, v in values.items() if v}
    if kind is RecordType.PERSON:
        person_from_row({"id": label, **fields})
        if fields.get("phone"):
            check_identifier("phone", "phone", fields["phone"])
    for name, scheme in spec.indexed.items():
        if fields.get(name):
            check_identifier(name, scheme, fields[name])
    return Holding(label, kind, fields, own_source[:200], until)


def store_holdings(
    conn: Connection,
    agency: str,
    actor: str,
    holdings: Sequence[Holding],
    *,
    import_id: str,
    ids: Sequence[str],
    now: datetime,
) -> None:
    conn.execute(
        insert(match_holdings),
        [
            {
                "id": holding_id,
                "owner_agency": agency,
                "record_type": h.record_type.value,
                "label": h.label,
                "fields": json.dumps(dict(h.fields), ensure_ascii=False),
                "source": h.source,
                "retain_until": h.retain_until,
                "import_id": import_id,
                "imported_by": actor,
                "imported_at": now,
            }
            for holding_id, h in zip(ids, holdings, strict=True)
        ],
    )


def record_import(
    conn: Connection, agency: str, actor: str, kind: RecordType, holdings: Sequence[Holding], now: datetime
) -> str:
    """Store an import's holdings for `agency` with one ledger event; returns the import's id."""
    import_id = str(uuid7())
    store_holdings(conn, agency, actor, holdings, import_id=import_id, ids=[str(uuid7()) for _ in holdings], now=now)
    append_event(
        conn,
        EventType.MATCH_HOLDINGS_IMPORTED,
        actor,
        {"import": import_id, "agency": agency, "type": kind.value, "stored": len(holdings)},
    )
    return import_id


def held_labels(conn: Connection, agency: str, kind: RecordType, labels: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(labels), 500):
        chunk = labels[start : start + 500]
        found |= set(
            conn.execute(
                select(match_holdings.c.label).where(
                    match_holdings.c.owner_agency == agency,
                    match_holdings.c.record_type == kind.value,
                    match_holdings.c.label.in_(chunk),
                )
            ).scalars()
        )
    return found


def live_holdings(conn: Connection, agency: str, today: date, kind: RecordType | None = None) -> list[Any]:
    """The agency's holdings not past their retention date."""
    query = select(match_holdings).where(
        match_holdings.c.owner_agency == agency, match_holdings.c.retain_until >= today
    )
    if kind is not None:
        query = query.where(match_holdings.c.record_type == kind.value)
    return list(conn.execute(query.order_by(match_holdings.c.record_type, match_holdings.c.label)).all())


def count_by_type(conn: Connection, agency: str) -> dict[str, int]:
    rows = conn.execute(
        select(match_holdings.c.record_type, func.count())
        .where(match_holdings.c.owner_agency == agency)
        .group_by(match_holdings.c.record_type)
    ).all()
    return {str(t): int(n) for t, n in rows}


def holding_of(row: Any) -> Holding:
    return Holding(row.label, RecordType(row.record_type), json.loads(row.fields), row.source, row.retain_until)


# ------------------------------------------------------------------------------------------------ encodings


def encoded_persons(
    conn: Connection, agency: str, key: MatchingKey, today: date
) -> tuple[list[str], list[EncodedPerson]]:
    """The agency's live persons encoded under `key`, as `ensure_encoded` left them; encodings an earlier release made
    (another encoding version) are made again."""
    rows = _person_encodings(conn, agency, key, today)
    stale = [r.id for r in rows if json.loads(r.encoding).get("v") != ENCODING_VERSION]
    if stale:
        for start in range(0, len(stale), 500):
            chunk = stale[start : start + 500]
            conn.execute(
                delete(match_encodings).where(
                    match_encodings.c.key_id == key.key_id, match_encodings.c.holding_id.in_(chunk)
                )
            )
            conn.execute(
                delete(match_lookups).where(match_lookups.c.key_id == key.key_id, match_lookups.c.holding_id.in_(chunk))
            )
        ensure_encoded(conn, agency, key, today)
        rows = _person_encodings(conn, agency, key, today)
    return [r.id for r in rows], [EncodedPerson.from_json(json.loads(r.encoding)) for r in rows]


def _person_encodings(conn: Connection, agency: str, key: MatchingKey, today: date) -> list[Any]:
    return conn.execute(
        select(match_holdings.c.id, match_encodings.c.encoding)
        .join(match_encodings, match_encodings.c.holding_id == match_holdings.c.id)
        .where(
            match_holdings.c.owner_agency == agency,
            match_holdings.c.record_type == RecordType.PERSON.value,
            match_holdings.c.retain_until >= today,
            match_encodings.c.key_id == key.key_id,
        )
        .order_by(match_holdings.c.id)
    ).all()  # type: ignore[return-value]


def lookup(conn: Connection, agency: str, key: MatchingKey, scheme: str, index: str, today: date) -> list[str]:
    """The agency's live holdings with an identifier whose blind index under `key` is `index`."""
    rows = conn.execute(
        select(match_lookups.c.holding_id)
        .join(match_holdings, match_holdings.c.id == match_lookups.c.holding_id)
        .where(
            match_lookups.c.key_id == key.key_id,
            match_lookups.c.scheme == scheme,
            match_lookups.c.blind_index == index,
            match_holdings.c.owner_agency == agency,
            match_holdings.c.retain_until >= today,
        )
    ).scalars()
    return sorted(set(rows))


def ensure_encoded(conn: Connection, agency: str, key: MatchingKey, today: date) -> int:
    """Encode under `key` every live holding of the agency not encoded under it yet; returns how many were."""
    done = select(match_encodings.c.holding_id).where(match_encodings.c.key_id == key.key_id)
    pending = conn.execute(
        select(match_holdings).where(
            match_holdings.c.owner_agency == agency,
            match_holdings.c.retain_until >= today,
            match_holdings.c.id.not_in(done),
        )
    ).all()
    if not pending:
        return 0
    now = datetime.now(UTC)
    encodings: list[dict[str, Any]] = []
    lookups: list[dict[str, Any]] = []
    for row in pending:
        holding = holding_of(row)
        indexes = sorted(_indexes(holding, key))
        lookups += [
            {"key_id": key.key_id, "scheme": scheme, "blind_index": index, "holding_id": row.id}
            for scheme, index in indexes
        ]
        encoding: Any = (
            encode_person(holding.person(), key).as_json()
            if holding.record_type is RecordType.PERSON
            else [list(pair) for pair in indexes]
        )
        encodings.append({"holding_id": row.id, "key_id": key.key_id, "encoding": json.dumps(encoding), "made_at": now})
    conn.execute(insert(match_encodings), encodings)
    if lookups:
        conn.execute(insert(match_lookups), lookups)
    return len(encodings)


def _indexes(holding: Holding, key: MatchingKey) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for name, scheme in SPECS[holding.record_type].indexed.items():
        value = holding.fields.get(name)
        index = blind_index(key, scheme, value) if value else None
        if index is not None:
            found.add((scheme, index))
    return found


def field_values(row: Mapping[Any, Any]) -> dict[str, str]:
    """A row's fields as text (numbers taken as written); InvalidInput for a list, an object or a yes/no."""
    return {str(k).strip(): _text(k, v) for k, v in row.items() if k is not None}


def check_identifier(name: str, scheme: str, value: str) -> None:
    """InvalidInput unless `value` leaves something to match once normalised under `scheme`."""
    if not identifier_keys(scheme, value):
        hint = " (a number valid in Canada or India, or with its country code)" if scheme == "phone" else ""
        raise InvalidInput(
            _("{name}: {value!r} is not a usable {scheme} identifier{hint}").format(
                name=name, value=value, scheme=scheme, hint=hint
            )
        )


def _text(name: Any, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(
            _("{name}: a field's value is text, not {name__}").format(name=name, name__=type(value).__name__)
        )
    text = str(value).strip()
    if len(text) > MAX_FIELD:
        raise InvalidInput(_("{name}: longer than {MAX_FIELD} characters").format(name=name, MAX_FIELD=MAX_FIELD))
    return text


def _retention(own: str, default: date | None) -> date:
    if own:
        try:
            return date.fromisoformat(own)
        except ValueError:
            raise InvalidInput(_("retain_until: {own!r} is not a date (YYYY-MM-DD)").format(own=own)) from None
    if default is None:
        raise InvalidInput(_("retain_until: say until when the record may be kept (a column or the import's date)"))
    return default


# ------------------------------------------------------------------------------------------------ reading


def holdings_page(
    node: Node, officer: Officer, record_type: RecordType | None, limit: int, offset: int
) -> dict[str, Any]:
    require_holder(officer)
    query = select(match_holdings).where(match_holdings.c.owner_agency == officer.agency)
    if record_type is not None:
        query = query.where(match_holdings.c.record_type == record_type.value)
    with node.engine.connect() as conn:
        counts = count_by_type(conn, officer.agency)
        rows = conn.execute(
            query.order_by(match_holdings.c.imported_at.desc(), match_holdings.c.label).limit(limit).offset(offset)
        ).all()
    return {
        "agency": officer.agency,
        "counts": counts,
        "records": [
            {
                "id": r.label,
                "type": r.record_type,
                "fields": json.loads(r.fields),
                "source": r.source,
                "retain_until": r.retain_until.isoformat(),
                "imported_by": r.imported_by,
                "imported_at": r.imported_at.isoformat(),
            }
            for r in rows
        ],
    }


def holdings_duplicates(node: Node, officer: Officer) -> dict[str, Any]:
    """Pairs of the agency's persons the engine decides are one person, with what agreed."""
    require_holder(officer)
    with node.engine.connect() as conn:
        held = live_holdings(conn, officer.agency, node.clock.now().date(), RecordType.PERSON)
    people = [holding_of(r) for r in held]
    by_label = {h.label: h for h in people}
    pairs = find_duplicates([h.person() for h in people])
    return {
        "agency": officer.agency,
        "persons": len(people),
        "pairs": [
            {
                "left": {"id": p.left_id, "fields": dict(by_label[p.left_id].fields)},
                "right": {"id": p.right_id, "fields": dict(by_label[p.right_id].fields)},
                "score": p.score,
                "agreements": [{"field": a.field, "level": a.level, "weight": a.weight} for a in p.agreements],
            }
            for p in pairs
        ],
    }

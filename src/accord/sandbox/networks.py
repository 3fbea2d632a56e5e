"""The SAMPLE organised-crime network for the sandbox: a transnational precursor-trafficking network, split so that
Canada's node holds its part in one case and India's node its part in another, each written the way that side would
write it (data/sandbox/networks.yaml), with the shipments, payments and calls generated from a seed.

Every record is fictional and says so in its notes (things) or description (relations). The same seed gives the same
entities, to the byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from accord.crypto.canonical import canonical_json
from accord.datafiles import load
from accord.domain.parties import Party
from accord.focus.networks.entities import check_entity, is_relation
from accord.focus.networks.store import add_entities, ensure_case
from accord.ledger.events import EventType, append_event
from accord.node import Node
from accord.store.tables import network_cases

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy

SOURCE = "SAMPLE"
SEEDED_BY = "sandbox"
_SHIPMENT_SPREAD_DAYS = 300


class _Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    title: str
    owner_agency: str
    importer: str
    importer_account: str | None = None
    supplier: str
    supplier_account: str | None = None
    intermediary: str
    intermediary_account: str
    forwarder: str
    vessel: str
    entities: tuple[dict[str, Any], ...]


class _Shipments(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    to_canada: int
    to_gulf: int
    substances: tuple[str, ...]
    loading: str
    discharge_canada: str
    discharge_gulf: str
    usd_per_kg: tuple[int, int]
    kg: tuple[int, int]
    calls: int


class _SampleNetwork(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    anchor: date
    sample_note: str
    cases: dict[Party, _Case]
    shipments: _Shipments


@dataclass(frozen=True, slots=True)
class SampleCase:
    """One party's part of the SAMPLE network: the case it is held in and its entities (checked FtM)."""

    party: Party
    case_id: str
    title: str
    owner_agency: str
    entities: tuple[EntityProxy, ...]


@dataclass(frozen=True, slots=True)
class _Shipment:
    number: int
    bill_of_lading: str
    day: date
    substance: str
    kg: int
    usd: int
    to_canada: bool


def sample_network(seed: int = 1) -> dict[Party, SampleCase]:
    """Both parties' parts of the SAMPLE network, the same for the same seed."""
    network = load(_SampleNetwork, "sandbox", "networks.yaml")
    rng = random.Random(seed)
    shipments = _shipments(rng, network)
    calls = _call_days(rng, network)
    raw: dict[Party, list[dict[str, Any]]] = {party: list(case.entities) for party, case in network.cases.items()}
    for shipment in shipments:
        if shipment.to_canada:
            raw[Party.CA] += _canadian_import(network.cases[Party.CA], network.shipments, shipment)
        raw[Party.IN] += _indian_export(network.cases[Party.IN], network.shipments, shipment)
    raw[Party.IN] += _calls(calls)
    return {
        party: SampleCase(
            party=party,
            case_id=case.case_id,
            title=case.title,
            owner_agency=case.owner_agency,
            entities=tuple(_marked(check_entity(entity), network.sample_note) for entity in raw[party]),
        )
        for party, case in network.cases.items()
    }


def seed_sample_network(node: Node, seed: int = 1, now: datetime | None = None) -> int:
    """Write this node's part of the SAMPLE network into its case, once: a node that holds the case already is left
    as it is. Returns how many entities were written."""
    sample = sample_network(seed)[node.party]
    moment = now or datetime.now(UTC)
    with node.engine.begin() as conn:
        if conn.execute(select(network_cases.c.case_id).where(network_cases.c.case_id == sample.case_id)).first():
            return 0
        ensure_case(
            conn,
            case_id=sample.case_id,
            title=sample.title,
            owner_agency=sample.owner_agency,
            origin_party=node.party,
            created_by=SEEDED_BY,
            now=moment,
        )
        added = add_entities(
            conn, sample.case_id, sample.entities, party=node.party, source=SOURCE, added_by=SEEDED_BY, now=moment
        )
        append_event(
            conn,
            EventType.NETWORK_ENTITIES_ADDED,
            SEEDED_BY,
            {"case_id": sample.case_id, "source": SOURCE, "new": len(added.new), "merged": len(added.merged)},
            canonical_json(sorted(added.new)),
        )
    return len(added.new)


def _shipments(rng: random.Random, network: _SampleNetwork) -> list[_Shipment]:
    spec = network.shipments
    destinations = [True] * spec.to_canada + [False] * spec.to_gulf
    rng.shuffle(destinations)
    days = sorted(rng.sample(range(_SHIPMENT_SPREAD_DAYS), len(destinations)))
    found = []
    for number, (offset, to_canada) in enumerate(zip(days, destinations, strict=True), start=1):
        kg = rng.randrange(spec.kg[0], spec.kg[1] + 1, 50)
        found.append(
            _Shipment(
                number=number,
                bill_of_lading=f"NSA{rng.randrange(10**7, 10**8)}",
                day=network.anchor + timedelta(days=offset),
                substance=rng.choice(spec.substances),
                kg=kg,
                usd=kg * rng.randint(*spec.usd_per_kg),
                to_canada=to_canada,
            )
        )
    return found


def _call_days(rng: random.Random, network: _SampleNetwork) -> list[tuple[date, int]]:
    offsets = sorted(rng.sample(range(_SHIPMENT_SPREAD_DAYS), network.shipments.calls))
    return [(network.anchor + timedelta(days=offset), rng.randint(40, 900)) for offset in offsets]


def _canadian_import(case: _Case, spec: _Shipments, shipment: _Shipment) -> list[dict[str, Any]]:
    """What Canada holds of a shipment that reached it: the import declaration and the wire that paid for it, which
    went to the Gulf intermediary's account rather than to the supplier."""
    event_id = f"sample-ca-shp-{shipment.number:02d}"
    arrival = shipment.day + timedelta(days=24)
    entities: list[dict[str, Any]] = [
        {
            "id": event_id,
            "schema": "Event",
            "properties": {
                "name": [f"Import of {shipment.kg} kg {shipment.substance} declared as fertiliser intermediate"],
                "date": [arrival.isoformat()],
                "recordId": [shipment.bill_of_lading],
                "location": [spec.discharge_canada],
                "country": ["ca", "in"],
                "involved": [case.importer, case.supplier, case.forwarder, case.vessel],
            },
        }
    ]
    if case.importer_account is not None:
        entities.append(
            {
                "id": f"sample-ca-pay-{shipment.number:02d}",
                "schema": "Payment",
                "properties": {
                    "payer": [case.importer],
                    "beneficiary": [case.intermediary],
                    "payerAccount": [case.importer_account],
                    "beneficiaryAccount": [case.intermediary_account],
                    "amount": [str(round(shipment.usd * 1.37))],
                    "currency": ["CAD"],
                    "date": [(arrival + timedelta(days=3)).isoformat()],
                    "purpose": [f"Invoice for B/L {shipment.bill_of_lading}"],
                },
            }
        )
    return entities


def _indian_export(case: _Case, spec: _Shipments, shipment: _Shipment) -> list[dict[str, Any]]:
    """What India holds of every export of the supplier: the shipping bill and the payment the supplier received
    from the Gulf intermediary."""
    consignee = case.importer if shipment.to_canada else case.intermediary
    discharge = spec.discharge_canada if shipment.to_canada else spec.discharge_gulf
    payment: dict[str, Any] = {
        "id": f"sample-in-pay-{shipment.number:02d}",
        "schema": "Payment",
        "properties": {
            "payer": [case.intermediary],
            "beneficiary": [case.supplier],
            "payerAccount": [case.intermediary_account],
            "amount": [str(round(shipment.usd * 83.1))],
            "currency": ["INR"],
            "date": [(shipment.day + timedelta(days=9)).isoformat()],
            "purpose": [f"Export proceeds, shipping bill {shipment.number:04d}"],
        },
    }
    if case.supplier_account is not None:
        payment["properties"]["beneficiaryAccount"] = [case.supplier_account]
    return [
        {
            "id": f"sample-in-shp-{shipment.number:02d}",
            "schema": "Event",
            "properties": {
                "name": [f"Export of {shipment.kg} kg {shipment.substance} to {discharge}"],
                "date": [shipment.day.isoformat()],
                "recordId": [shipment.bill_of_lading],
                "location": [spec.loading],
                "country": ["in", "ca" if shipment.to_canada else "ae"],
                "involved": [case.supplier, consignee, case.forwarder, case.vessel],
            },
        },
        payment,
    ]


_CALLERS = (("sample-in-p-gurpreet", "sample-in-p-prakash"), ("sample-in-p-prakash", "sample-in-p-sanjay"))


def _calls(days: list[tuple[date, int]]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"sample-in-call-{n:02d}",
            "schema": "Call",
            "properties": {
                "caller": [_CALLERS[n % 2][0]],
                "receiver": [_CALLERS[n % 2][1]],
                "date": [day.isoformat()],
                "duration": [str(seconds)],
            },
        }
        for n, (day, seconds) in enumerate(days, start=1)
    ]


def _marked(proxy: EntityProxy, note: str) -> EntityProxy:
    """Every SAMPLE record says what it is: things in their notes, relations (which have none) in their
    description."""
    proxy.add("description" if is_relation(proxy) or not proxy.schema.get("notes") else "notes", note)
    return proxy

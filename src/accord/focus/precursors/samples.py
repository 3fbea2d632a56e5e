"""SAMPLE precursor traffic for the sandbox: pre-export notifications both ways (cleared, objected, some unanswered
past their deadline) and incidents at real ports and airports, so the precursor screens, the map and the report
have something to show. Companies and people are invented and marked SAMPLE; places are real."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from accord.domain.agreement import Agreement
from accord.domain.handling import Caveat, CommonLevel, Handling, Tlp
from accord.domain.incidents import Incident, IncidentItem, IncidentKind, InvolvedCompany, Place
from accord.domain.messages import Address, Message, MessageKind, Priority
from accord.domain.notifications import (
    ConsignmentItem,
    PenAnswer,
    PenDecision,
    PreExportNotification,
    Trader,
    TransportMode,
)
from accord.domain.parties import Party

# (code as listed, HS subheading as the lists give it, typical lot in kg)
_SUBSTANCES = (
    ("4-piperidone", "2933.39", 25.0),
    ("1-boc-4-piperidone", "2933.39", 10.0),
    ("4-ap", "2933.39", 5.0),
    ("npp", "2933.37", 20.0),
    ("anpp", "2933.36", 5.0),
    ("pseudoephedrine", "2939.42", 200.0),
    ("acetic-anhydride", "2915.24", 2000.0),
)
_TRADERS = {
    Party.CA: (
        ("SAMPLE Maple Fine Chemicals Inc.", "Mississauga ON"),
        ("SAMPLE Fraser Valley Synthesis Ltd", "Surrey BC"),
        ("SAMPLE Laurentian Reagents Inc.", "Laval QC"),
    ),
    Party.IN: (
        ("SAMPLE Deccan Pharma Intermediates Pvt Ltd", "MIDC, Pune"),
        ("SAMPLE Ganga Organics Pvt Ltd", "Vapi, Gujarat"),
        ("SAMPLE Coromandel Fine Chem Pvt Ltd", "Hyderabad, Telangana"),
    ),
}
_PORTS = {Party.CA: ("Vancouver", "Montreal", "Toronto Pearson"), Party.IN: ("Nhava Sheva", "Mundra", "Chennai")}
# Real places where precursor incidents are reported: (name, country, latitude, longitude).
_PLACES = (
    ("Nhava Sheva (JNPT) container terminal", "IN", 18.950, 72.950),
    ("Mundra Port", "IN", 22.740, 69.700),
    ("Chennai Port", "IN", 13.100, 80.290),
    ("Delhi Air Cargo Complex", "IN", 28.556, 77.100),
    ("Mumbai Air Cargo Complex", "IN", 19.090, 72.870),
    ("Port of Vancouver, Centerm", "CA", 49.290, -123.090),
    ("Port of Montreal", "CA", 45.550, -73.530),
    ("Toronto Pearson cargo", "CA", 43.680, -79.630),
    ("Port of Prince Rupert", "CA", 54.300, -130.330),
    ("Jebel Ali Free Zone", "AE", 25.010, 55.060),
    ("Kwai Tsing container terminals", "HK", 22.340, 114.120),
)
_MODUS = (
    "Misdeclared as a pharmaceutical intermediate under a non-controlled HS subheading.",
    "Ordered through a front company with no licence; payment from a third country.",
    "Transhipped through a free-trade zone and relabelled.",
    "Split into small consignments below the reporting threshold.",
    "Concealed in drums declared as industrial solvent.",
)
_CLASSIFICATION = {Party.CA: "Protected A", Party.IN: "Restricted"}
_AUTHORITY_PAIR = {Party.CA: ("HC-OCS", "CBN"), Party.IN: ("CBN", "HC-OCS")}


@dataclass(frozen=True, slots=True)
class Sampled:
    message: Message
    read_at: datetime | None
    answered_at: datetime | None


NewId = Callable[[datetime], str]


def _handling(party: Party) -> Handling:
    return Handling(
        classification=_CLASSIFICATION[party], level=CommonLevel.RESTRICTED, tlp=Tlp.AMBER, caveats=(Caveat.H0,)
    )


def _trader(rng: random.Random, party: Party, number: int) -> Trader:
    name, place = rng.choice(_TRADERS[party])
    return Trader(name=name, address=place, country=party.value, licence=f"SAMPLE-LIC-{number}")


def _notification(rng: random.Random, sender: Party, created: datetime, number: int) -> PreExportNotification:
    code, hs, lot = rng.choice(_SUBSTANCES)
    risky = rng.random() < 0.25
    return PreExportNotification(
        exporter=_trader(rng, sender, number),
        importer=_trader(rng, sender.other, number + 1),
        items=(
            ConsignmentItem(
                substance=code,
                quantity_kg=round(lot * rng.uniform(0.5, 8 if risky else 1.5), 1),
                purity_percent=round(rng.uniform(97, 99.9), 1),
                hs_code="2933.39" if risky and code in {"npp", "anpp"} else hs,
            ),
        ),
        transport_mode=rng.choice([TransportMode.SEA, TransportMode.AIR]),
        carrier="SAMPLE Ocean Line",
        route=("AE",) if risky else ("SG",),
        port_of_exit=rng.choice(_PORTS[sender]),
        point_of_entry=rng.choice(_PORTS[sender.other]),
        dispatch_date=(created + timedelta(days=rng.randint(35, 60))).date(),
        export_permit=f"SAMPLE-EXP-{number}",
    )


def _pen(rng: random.Random, new_id: NewId, agreement: Agreement, created: datetime) -> Message:
    sender = rng.choice([Party.CA, Party.IN])
    ours, theirs = _AUTHORITY_PAIR[sender]
    number = rng.randrange(10_000, 99_999)
    notification = _notification(rng, sender, created, number)
    return Message(
        id=new_id(created),
        kind=MessageKind.PEN,
        case_id=new_id(created),
        sender=Address(party=sender, agency=ours),
        recipient=Address(party=sender.other, agency=theirs),
        focus_area="drugs",
        priority=Priority.ROUTINE,
        created_at=created,
        deadline=agreement.pen_deadline(created),
        handling=_handling(sender),
        legal_basis="1988 Convention Art. 12(10)",
        title=f"[SAMPLE] PEN {number}: {notification.items[0].substance} to {notification.importer.name}",
        body="Generated sandbox notification: no real company or shipment.",
        notification=notification,
    )


def _answer(rng: random.Random, new_id: NewId, pen: Message, created: datetime) -> Message:
    decision = PenDecision.OBJECTED if rng.random() < 0.15 else PenDecision.CLEARED
    grounds = (
        "SAMPLE: the importer's licence does not cover this substance" if decision is PenDecision.OBJECTED else None
    )
    return pen.model_copy(
        update={
            "id": new_id(created),
            "kind": MessageKind.RESPONSE,
            "sender": Address(party=pen.recipient.party, agency=pen.recipient.agency),
            "recipient": pen.sender,
            "created_at": created,
            "deadline": None,
            "handling": _handling(pen.recipient.party),
            "title": f"Re: {pen.title}",
            "body": f"SAMPLE answer: {decision.value}.",
            "notification": None,
            "pen_answer": PenAnswer(decision=decision, grounds=grounds),
            "in_reply_to": pen.id,
        }
    )


def _incident(rng: random.Random, new_id: NewId, created: datetime) -> Message:
    sender = rng.choice([Party.CA, Party.IN])
    name, country, latitude, longitude = rng.choice(_PLACES)
    code, _, lot = rng.choice(_SUBSTANCES)
    kind = rng.choice(list(IncidentKind))
    number = rng.randrange(10_000, 99_999)
    occurred: date = (created - timedelta(days=rng.randint(0, 6))).date()
    incident = Incident(
        kind=kind,
        occurred_on=occurred,
        place=Place(name=name, country=country, latitude=latitude, longitude=longitude),
        items=(IncidentItem(substance=code, quantity_kg=round(lot * rng.uniform(0.5, 20), 1)),),
        modus_operandi=rng.choice(_MODUS),
        companies=(InvolvedCompany(name=f"SAMPLE Trading Co {number}", country=country, role="consignee"),),
    )
    agencies = {Party.CA: rng.choice(("RCMP", "CBSA")), Party.IN: rng.choice(("NCB", "DRI"))}
    return Message(
        id=new_id(created),
        kind=MessageKind.INCIDENT,
        case_id=new_id(created),
        sender=Address(party=sender, agency=agencies[sender]),
        recipient=Address(party=sender.other, agency=agencies[sender.other]),
        focus_area="drugs",
        priority=Priority.URGENT,
        created_at=created,
        deadline=None,
        handling=_handling(sender),
        legal_basis="SAMPLE legal basis (generated sandbox traffic)",
        title=f"[SAMPLE] {kind.value.replace('_', ' ')} of {code} at {name}",
        body="Generated sandbox incident: no real person, company or event.",
        incident=incident,
    )


def sample_precursor_traffic(
    rng: random.Random, new_id: NewId, agreement: Agreement, start: datetime, end: datetime, count: int
) -> list[Sampled]:
    """About `count` notifications (with their answers) and incidents between `start` and `end`."""
    found: list[Sampled] = []
    span = (end - start).total_seconds() - 3600
    for _ in range(count):
        created = start + timedelta(seconds=rng.uniform(0, span))
        if rng.random() < 0.4:
            found.append(Sampled(_incident(rng, new_id, created), created + timedelta(hours=3), None))
            continue
        pen = _pen(rng, new_id, agreement, created)
        answered = created + timedelta(days=rng.uniform(3, 40))  # sometimes later than the deadline
        if answered < end and rng.random() < 0.85:
            found.append(Sampled(pen, created + timedelta(hours=5), answered))
            found.append(Sampled(_answer(rng, new_id, pen, answered), answered + timedelta(hours=2), None))
        else:
            found.append(Sampled(pen, created + timedelta(hours=5), None))
    return found

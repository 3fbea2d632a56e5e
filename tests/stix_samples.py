"""Realistic STIX 2.1 content for the cyber tests: what a national cyber centre's tool posts to share a ransomware
campaign, built with the stix2 library, marked with TLP 2.0 and (as MISP exports) TLP 1.0 definitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import stix2

from accord.domain.handling import Tlp
from accord.focus.cyber.tlp import tlp_definitions

TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"


def tlp2(level: Tlp) -> str:
    return tlp_definitions().tlp2[level]


def as_json(obj: Any) -> dict[str, Any]:
    """A stix2 object as the plain JSON a tool sends."""
    data: dict[str, Any] = json.loads(obj.serialize())
    return data


def ransomware_campaign(now: datetime | None = None) -> list[dict[str, Any]]:
    """Indicators with patterns, observed data and its SCOs, a sighting, malware, an attack pattern, the producer's
    identity, relationships and a report; TLP 2.0 CLEAR/GREEN/AMBER definitions and a TLP 1.0 GREEN reference."""
    now = (now or datetime.now(UTC)).replace(microsecond=0) - timedelta(days=1)
    green, amber, clear = tlp2(Tlp.GREEN), tlp2(Tlp.AMBER), tlp2(Tlp.CLEAR)
    centre = stix2.Identity(
        name="Canadian Centre for Cyber Security (SAMPLE)",
        identity_class="organization",
        sectors=["government"],
        created=now,
        object_marking_refs=[clear],
    )
    by = {"created_by_ref": centre.id, "created": now, "modified": now}
    c2 = stix2.Indicator(
        name="LockBit affiliate C2 server",
        description="Command-and-control address seen in intrusions at municipalities.",
        pattern="[ipv4-addr:value = '198.51.100.23']",
        pattern_type="stix",
        valid_from=now,
        indicator_types=["malicious-activity"],
        object_marking_refs=[amber],
        **by,
    )
    dropper = stix2.Indicator(
        name="Dropper by SHA-256",
        description="First-stage loader delivered by phishing e-mail.",
        pattern="[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        pattern_type="stix",
        valid_from=now,
        indicator_types=["malicious-activity"],
        object_marking_refs=[TLP1_GREEN],  # as MISP exports it
        **by,
    )
    domain = stix2.Indicator(
        name="Payment portal look-alike",
        description="Domain hosting the ransom negotiation portal.",
        pattern="[domain-name:value = 'pay-municipal-example.net']",
        pattern_type="stix",
        valid_from=now,
        object_marking_refs=[green],
        **by,
    )
    ip = stix2.IPv4Address(value="198.51.100.23", object_marking_refs=[amber])
    dns = stix2.DomainName(value="pay-municipal-example.net", object_marking_refs=[green])
    sample = stix2.File(
        name="invoice_2026.pdf.exe",
        hashes={"SHA-256": "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"},
        object_marking_refs=[green],
    )
    observed = stix2.ObservedData(
        first_observed=now - timedelta(hours=6),
        last_observed=now - timedelta(hours=1),
        number_observed=3,
        object_refs=[ip.id, dns.id, sample.id],
        object_marking_refs=[amber],
        **by,
    )
    malware = stix2.Malware(
        name="LockBit 3.0",
        is_family=True,
        malware_types=["ransomware"],
        description="Ransomware-as-a-service family.",
        object_marking_refs=[green],
        **by,
    )
    technique = stix2.AttackPattern(
        name="Data Encrypted for Impact",
        external_references=[
            {"source_name": "mitre-attack", "external_id": "T1486", "url": "https://attack.mitre.org/techniques/T1486/"}
        ],
        object_marking_refs=[clear],
        **by,
    )
    sighting = stix2.Sighting(
        sighting_of_ref=c2.id,
        observed_data_refs=[observed.id],
        where_sighted_refs=[centre.id],
        count=3,
        object_marking_refs=[amber],
        **by,
    )
    indicates = stix2.Relationship(c2, "indicates", malware, object_marking_refs=[amber], **by)
    uses = stix2.Relationship(malware, "uses", technique, object_marking_refs=[green], **by)
    report = stix2.Report(
        name="LockBit affiliate activity against municipalities",
        report_types=["threat-report"],
        published=now,
        object_refs=[c2.id, dropper.id, domain.id, observed.id, malware.id, technique.id, sighting.id],
        object_marking_refs=[amber],
        **by,
    )
    definitions = [tlp_definitions().marking_definition(level) for level in (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER)]
    objects = [centre, c2, dropper, domain, ip, dns, sample, observed, malware, technique, sighting, indicates, uses]
    return definitions + [as_json(o) for o in [*objects, report]]


def indicator(name: str, value: str, marking: str | None, **extra: Any) -> dict[str, Any]:
    """One IPv4 indicator; `marking` None makes it unmarked."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    refs = {"object_marking_refs": [marking]} if marking else {}
    return as_json(
        stix2.Indicator(
            name=name,
            description=f"{name} (SAMPLE)",
            pattern=f"[ipv4-addr:value = '{value}']",
            pattern_type="stix",
            valid_from=now,
            **refs,
            **extra,
        )
    )

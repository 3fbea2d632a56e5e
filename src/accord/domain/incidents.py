"""Precursor incidents, after INCB's PICS: a seizure, a stopped shipment, a diversion or a suspicious order.

The persons involved travel as the message's structured subjects (kind "person"), so the sender's policy pack screens
them like any other personal data; the companies involved are part of the incident.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.domain.notifications import check_route

COUNTRY_PATTERN = r"^[A-Z]{2}$"


class IncidentKind(StrEnum):
    SEIZURE = "seizure"
    STOPPED_SHIPMENT = "stopped_shipment"
    DIVERSION = "diversion"
    SUSPICIOUS_ORDER = "suspicious_order"


class Place(BaseModel):
    """Where the incident happened: a port, an airport, a warehouse, a border post."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="e.g. Nhava Sheva (JNPT) container terminal")
    country: str = Field(pattern=COUNTRY_PATTERN, description="ISO 3166-1 alpha-2")
    latitude: float = Field(ge=-90, le=90, description="WGS 84 decimal degrees")
    longitude: float = Field(ge=-180, le=180, description="WGS 84 decimal degrees")


class IncidentItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    substance: str = Field(min_length=1, max_length=200, description="a substance code, name, synonym or CAS number")
    quantity_kg: float = Field(gt=0, le=1_000_000, description="net quantity involved, in kilograms")
    purity_percent: float | None = Field(default=None, gt=0, le=100)


class InvolvedCompany(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=COUNTRY_PATTERN)
    role: str | None = Field(default=None, max_length=64, description="e.g. exporter, consignee, broker, carrier")


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: IncidentKind
    occurred_on: date
    detected_on: date | None = Field(default=None, description="when it came to light, if later")
    place: Place
    items: tuple[IncidentItem, ...] = Field(min_length=1, max_length=20)
    modus_operandi: str = Field(min_length=1, max_length=2000, description="how it was done: misdeclaration, ...")
    concealment: str | None = Field(default=None, max_length=500)
    route: tuple[str, ...] = Field(default=(), max_length=10, description="countries of the route, alpha-2, in order")
    companies: tuple[InvolvedCompany, ...] = Field(default=(), max_length=50)
    notification_id: str | None = Field(
        default=None, max_length=36, description="the pre-export notification the shipment was declared under"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Incident:
        if self.detected_on is not None and self.detected_on < self.occurred_on:
            raise ValueError(f"detected_on {self.detected_on} is before occurred_on {self.occurred_on}")
        check_route(self.route)
        return self

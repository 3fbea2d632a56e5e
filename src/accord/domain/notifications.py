"""Pre-export notifications (PEN) of precursor shipments and the importing authority's answer.

The fields are the PEN minimum of the 1988 Convention Art. 12(10)(a) (exporter, importer, consignee, substance,
quantity, expected point of entry, expected dispatch date) plus what Canada's export permit carries (Precursor
Control Regulations s.32: HS code, salt form, preparation, purity, transport mode, transit countries, carrier, port
of exit, licence and permit numbers).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TransportMode(StrEnum):
    SEA = "sea"
    AIR = "air"
    ROAD = "road"
    RAIL = "rail"
    POST = "post"
    COURIER = "courier"


class Trader(BaseModel):
    """A company in the shipment: exporter, importer or consignee."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    licence: str | None = Field(default=None, max_length=100, description="licence or registration number")


class ConsignmentItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    substance: str = Field(min_length=1, max_length=200, description="a substance code, name, synonym or CAS number")
    quantity_kg: float = Field(gt=0, le=1_000_000, description="net quantity of the substance, in kilograms")
    purity_percent: float = Field(gt=0, le=100)
    salt_form: str | None = Field(default=None, max_length=100, description="e.g. hydrochloride; none for the base")
    preparation: str | None = Field(default=None, max_length=200, description="brand and content, for a preparation")
    hs_code: str = Field(pattern=r"^\d{4}\.?\d{2}(\.?\d{1,4})?$", description="as declared, e.g. 2933.39")


class PreExportNotification(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    exporter: Trader
    importer: Trader
    consignee: Trader | None = None
    items: tuple[ConsignmentItem, ...] = Field(min_length=1, max_length=20)
    transport_mode: TransportMode
    carrier: str | None = Field(default=None, max_length=200)
    route: tuple[str, ...] = Field(
        default=(), max_length=10, description="transit and transhipment countries, ISO 3166-1 alpha-2, in order"
    )
    port_of_exit: str = Field(min_length=1, max_length=100)
    point_of_entry: str = Field(min_length=1, max_length=100)
    dispatch_date: date
    export_permit: str = Field(min_length=1, max_length=100)
    import_permit: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _route_codes(self) -> PreExportNotification:
        check_route(self.route)
        return self


def check_route(route: tuple[str, ...]) -> None:
    bad = [c for c in route if not (len(c) == 2 and c.isalpha() and c.isupper())]
    if bad:
        raise ValueError(f"route lists countries as ISO 3166-1 alpha-2 codes (e.g. AE, SG), not {bad}")


class PenDecision(StrEnum):
    CLEARED = "cleared"
    OBJECTED = "objected"
    INFO_REQUESTED = "info_requested"

    @property
    def closes(self) -> bool:
        """Cleared and objected end the notification; a request for information keeps it open."""
        return self is not PenDecision.INFO_REQUESTED


class RecordedItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    substance: str = Field(min_length=1, max_length=200)
    quantity_kg: float = Field(gt=0, le=1_000_000)


class ImportRecord(BaseModel):
    """The importing side's own record of the shipment (its import permit or customs declaration), given with the
    answer so the risk rules can compare the two sides' records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    importer: str = Field(min_length=1, max_length=200)
    items: tuple[RecordedItem, ...] = Field(min_length=1, max_length=20)
    import_permit: str | None = Field(default=None, max_length=100)
    point_of_entry: str | None = Field(default=None, max_length=100)


class PenAnswer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: PenDecision
    grounds: str | None = Field(default=None, max_length=2000)
    import_record: ImportRecord | None = None

    @model_validator(mode="after")
    def _grounds(self) -> PenAnswer:
        if self.decision is not PenDecision.CLEARED and not (self.grounds or "").strip():
            raise ValueError(f"an answer '{self.decision}' states its grounds")
        return self

"""Whether a precursor incident could have happened as stated: its place inside the country it names (that country's
bounding box, from Natural Earth) and each quantity under its substance's plausibility cap (from INCB's seizure
reports). The sender refuses an implausible incident; the receiver accepts one and warns its officers."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from accord.datafiles import load
from accord.domain.incidents import Incident
from accord.errors import ConfigurationError, InvalidInput
from accord.exchange.kinds import ArrivalWarning
from accord.focus.precursors.risk import resolve_substance
from accord.focus.precursors.substances import load_substances
from accord.i18n import _

Box = tuple[float, float, float, float]  # south, west, north, east (WGS 84 degrees)


class CountryBounds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    margin_degrees: float = Field(ge=0, le=5)
    countries: dict[str, Box]

    def contains(self, country: str, latitude: float, longitude: float) -> bool | None:
        """Whether the point lies in the country's box (widened by the margin); None for a code not listed."""
        box = self.countries.get(country)
        if box is None:
            return None
        south, west, north, east = box
        m = self.margin_degrees
        return south - m <= latitude <= north + m and west - m <= longitude <= east + m


class QuantityGroup(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str
    max_kg: float = Field(gt=0)
    substances: tuple[str, ...] = Field(min_length=1)


class QuantityCaps(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default_max_kg: float = Field(gt=0)
    analogue_max_kg: float = Field(gt=0)
    groups: tuple[QuantityGroup, ...] = ()

    def cap(self, substance_code: str | None) -> float:
        """The cap for a scheduled substance's code; None: an unscheduled analogue."""
        if substance_code is None:
            return self.analogue_max_kg
        for group in self.groups:
            if substance_code in group.substances:
                return group.max_kg
        return self.default_max_kg


@cache
def load_country_bounds() -> CountryBounds:
    return load(CountryBounds, "places", "country_bounds.yaml")


@cache
def load_quantity_caps() -> QuantityCaps:
    caps = load(QuantityCaps, "precursors", "plausibility.yaml")
    known = load_substances()
    unknown = sorted({c for g in caps.groups for c in g.substances if known.get(c) is None})
    if unknown:
        raise ConfigurationError(
            _("data/precursors/plausibility.yaml: caps for unknown substances {unknown}").format(unknown=unknown)
        )
    return caps


def implausibilities(incident: Incident) -> tuple[ArrivalWarning, ...]:
    """What could not be so in the incident: its place, its quantities."""
    found = []
    place = incident.place
    inside = load_country_bounds().contains(place.country, place.latitude, place.longitude)
    if inside is None:
        found.append(
            ArrivalWarning("place-country-unknown", f"the place's country {place.country!r} is not a country code")
        )
    elif not inside:
        found.append(
            ArrivalWarning(
                "place-outside-country",
                f"{place.name!r} at {place.latitude:.4f}, {place.longitude:.4f} is not in {place.country} "
                "(latitude and longitude swapped, a sign dropped, or the wrong country?)",
            )
        )
    caps = load_quantity_caps()
    for item in incident.items:
        try:
            substance, _ = resolve_substance(item.substance)
        except InvalidInput:
            continue  # a substance this node does not know is refused on its own
        cap = caps.cap(substance.code if substance is not None else None)
        if item.quantity_kg > cap:
            found.append(
                ArrivalWarning(
                    "quantity-implausible",
                    f"{item.quantity_kg:g} kg of {item.substance} is more than any plausible single incident "
                    f"({cap:g} kg); grams or litres entered as kilograms?",
                )
            )
    return tuple(found)


def check_plausible(incident: Incident) -> None:
    """The sender's check: an implausible incident is refused, with what is wrong."""
    found = implausibilities(incident)
    if found:
        raise InvalidInput(_("the incident is implausible: {found}").format(found="; ".join(w.detail for w in found)))

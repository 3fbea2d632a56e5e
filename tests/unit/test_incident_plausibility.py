"""An incident's place must lie in the country it names and its quantities under the substance's plausibility cap;
the shipped data (Natural Earth country boxes, INCB-based caps) agrees with every real place the samples use."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from accord.domain.incidents import Incident
from accord.errors import InvalidInput
from accord.focus.precursors.plausibility import (
    check_plausible,
    implausibilities,
    load_country_bounds,
    load_quantity_caps,
)
from accord.focus.precursors.samples import _PLACES


def incident(place: dict[str, Any] | None = None, **item: Any) -> Incident:
    return Incident.model_validate(
        {
            "kind": "seizure",
            "occurred_on": date(2026, 11, 20),
            "place": place or {"name": "Port of Vancouver", "country": "CA", "latitude": 49.29, "longitude": -123.09},
            "items": [{"substance": "NPP", "quantity_kg": 250} | item],
            "modus_operandi": "Declared as industrial adhesive",
        }
    )


@pytest.mark.parametrize(("name", "country", "latitude", "longitude"), _PLACES)
def test_every_real_place_the_samples_use_is_in_its_country(
    name: str, country: str, latitude: float, longitude: float
) -> None:
    assert load_country_bounds().contains(country, latitude, longitude), name


def test_a_plausible_incident_has_nothing_to_say() -> None:
    assert implausibilities(incident()) == ()
    check_plausible(incident())


@pytest.mark.parametrize(
    ("place", "code"),
    [
        (
            {"name": "Port of Vancouver", "country": "CA", "latitude": 49.29, "longitude": 123.09},
            "place-outside-country",
        ),
        ({"name": "Nhava Sheva", "country": "CA", "latitude": 18.95, "longitude": 72.95}, "place-outside-country"),
        ({"name": "Nhava Sheva", "country": "IN", "latitude": 72.95, "longitude": 18.95}, "place-outside-country"),
        ({"name": "Somewhere", "country": "XX", "latitude": 10.0, "longitude": 10.0}, "place-country-unknown"),
    ],
    ids=["sign-dropped", "wrong-country", "swapped", "no-such-country"],
)
def test_an_impossible_place_is_named_with_its_coordinates(place: dict[str, Any], code: str) -> None:
    [found] = implausibilities(incident(place))
    assert found.code == code
    with pytest.raises(InvalidInput, match="implausible"):
        check_plausible(incident(place))


def test_a_coastal_anchorage_just_outside_the_land_outline_is_accepted() -> None:
    anchorage = {"name": "English Bay anchorage", "country": "CA", "latitude": 49.30, "longitude": -123.25}
    assert implausibilities(incident(anchorage)) == ()


@pytest.mark.parametrize(
    ("substance", "plausible", "implausible"),
    [("ANPP", 5_000, 50_000), ("pseudoephedrine", 20_000, 90_000), ("acetic anhydride", 100_000, 600_000)],
)
def test_quantities_above_the_substances_cap_are_implausible(
    substance: str, plausible: float, implausible: float
) -> None:
    assert implausibilities(incident(substance=substance, quantity_kg=plausible)) == ()
    [found] = implausibilities(incident(substance=substance, quantity_kg=implausible))
    assert found.code == "quantity-implausible" and f"{implausible:g} kg" in found.detail


def test_every_cap_names_a_scheduled_substance_and_tables_ii_chemicals_keep_the_model_bound() -> None:
    caps = load_quantity_caps()
    assert caps.cap("acetone") == caps.default_max_kg == 1_000_000
    assert caps.cap(None) == caps.analogue_max_kg

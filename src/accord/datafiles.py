"""Loads and validates the data files shipped under accord/data (agreement, agencies, sandbox accounts)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from accord.domain.agreement import Agreement
from accord.domain.parties import Agency, Party
from accord.errors import ConfigurationError

DEFAULT_AGREEMENT = "ca-in"


class SampleOfficer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str
    name: str
    agency: str
    roles: tuple[str, ...]

    @property
    def sample_password(self) -> str:
        return f"{self.username}-SAMPLE-pw"


def _read_yaml(*parts: str) -> Any:
    path = resources.files("accord").joinpath("data", *parts)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read data file data/{'/'.join(parts)}: {exc}") from exc


def _load_agencies(party: Party) -> list[dict[str, Any]]:
    raw = _read_yaml("agencies", f"{party.value.lower()}.yaml")
    if raw.get("party") != party.value:
        raise ConfigurationError(f"data/agencies/{party.value.lower()}.yaml is not for party {party}")
    return [dict(entry, party=party.value) for entry in raw["agencies"]]


@cache
def load_agreement(name: str = DEFAULT_AGREEMENT) -> Agreement:
    raw = _read_yaml("agreement", f"{name}.yaml")
    raw["agencies"] = [entry for party in Party for entry in _load_agencies(party)]
    try:
        return Agreement.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"data/agreement/{name}.yaml is invalid: {exc}") from exc


def load_sample_officers(party: Party) -> tuple[SampleOfficer, ...]:
    raw = _read_yaml("sandbox", "officers.yaml")
    agreement = load_agreement()
    officers = tuple(SampleOfficer.model_validate(entry) for entry in raw[party.value])
    for officer in officers:
        if agreement.agency(party, officer.agency) is None:
            raise ConfigurationError(f"sample officer {officer.username} names unknown agency {officer.agency}")
    return officers


def agencies_of(party: Party) -> tuple[Agency, ...]:
    return tuple(a for a in load_agreement().agencies if a.party is party)

"""The TAXII collections a node serves (data/cyber/collections.yaml): their direction, TLP audience, the caveats
they may hold and who may read or write each, checked against the agreement when the file is loaded."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.datafiles import load, load_agreement
from accord.directory.officers import Officer, Role
from accord.domain.handling import Caveat, Tlp
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.focus.cyber.tlp import TLP_ORDER
from accord.i18n import _


class Direction(StrEnum):
    TO_PARTNER = "to_partner"  # tools POST here; the node shares what they add with the other party
    FROM_PARTNER = "from_partner"  # the node writes what the other party shared; read-only to tools
    NATIONAL = "national"  # the country's own working set, never sent


class Access(BaseModel):
    """Officers of these agencies holding any one of these roles."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agencies: tuple[str, ...] = Field(min_length=1)
    roles: tuple[Role, ...] = Field(min_length=1)

    def admits(self, officer: Officer) -> bool:
        return officer.agency in self.agencies and not officer.roles.isdisjoint(self.roles)


class Collection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    alias: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    focus_area: str
    direction: Direction
    tlp_ceiling: Tlp
    caveats: tuple[Caveat, ...] = ()  # the caveats a share may carry for its objects to be held here
    read: dict[Party, Access]
    write: dict[Party, Access] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _tools_never_write_what_the_partner_sent(self) -> Collection:
        if self.direction is Direction.FROM_PARTNER and self.write:
            raise ValueError(f"{self.alias}: a from_partner collection is written by the node only; remove `write`")
        if self.direction is not Direction.FROM_PARTNER and not self.write:
            raise ValueError(f"{self.alias}: a {self.direction} collection needs `write` (who may add objects)")
        return self

    @model_validator(mode="after")
    def _no_onward_dissemination_to_other_agencies(self) -> Collection:
        # H2: no onward dissemination beyond the recipient agency; a collection several agencies read is onward.
        if Caveat.H2 in self.caveats and any(len(access.agencies) > 1 for access in self.read.values()):
            raise ValueError(f"{self.alias}: several agencies read it, so it cannot hold H2 (no onward dissemination)")
        return self

    @property
    def key(self) -> str:
        """The id as stored and as it appears in URLs."""
        return str(self.id)

    def may_read(self, officer: Officer) -> bool:
        return self._in_focus(officer) and _admitted(self.read, officer)

    def may_write(self, officer: Officer) -> bool:
        return self._in_focus(officer) and _admitted(self.write, officer)

    def admits(self, level: Tlp, caveats: Iterable[Caveat] = ()) -> bool:
        """Whether an object held at TLP `level`, under a share's `caveats`, may be held (and listed) here."""
        return TLP_ORDER.index(level) <= TLP_ORDER.index(self.tlp_ceiling) and set(caveats) <= set(self.caveats)

    def levels(self) -> tuple[Tlp, ...]:
        """The TLP levels this collection holds."""
        return TLP_ORDER[: TLP_ORDER.index(self.tlp_ceiling) + 1]

    def _in_focus(self, officer: Officer) -> bool:
        return not officer.focus_areas or self.focus_area in officer.focus_areas


def _admitted(rules: dict[Party, Access], officer: Officer) -> bool:
    access = rules.get(officer.party)
    return access is not None and access.admits(officer)


class Catalogue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    collections: tuple[Collection, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        for attribute in ("id", "alias"):
            values = [getattr(c, attribute) for c in self.collections]
            repeated = sorted({str(v) for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"collection {attribute}s must be unique; repeated: {repeated}")
        return self

    def get(self, collection_id: str) -> Collection | None:
        return next((c for c in self.collections if c.key == collection_id), None)

    def receiving(self, focus_area: str) -> tuple[Collection, ...]:
        """The from_partner collections a bundle the other party shared in `focus_area` is added to."""
        return tuple(
            c for c in self.collections if c.direction is Direction.FROM_PARTNER and c.focus_area == focus_area
        )

    def visible_to(self, officer: Officer) -> tuple[Collection, ...]:
        return tuple(c for c in self.collections if c.may_read(officer) or c.may_write(officer))


def agreement_violations(catalogue: Catalogue) -> list[str]:
    """Focus areas and agencies the agreement does not know."""
    agreement = load_agreement()
    problems = []
    for collection in catalogue.collections:
        if agreement.focus_area(collection.focus_area) is None:
            problems.append(f"{collection.alias}: focus area {collection.focus_area!r} is not in the agreement")
        for party, access in [*collection.read.items(), *collection.write.items()]:
            unknown = [a for a in access.agencies if agreement.agency(party, a) is None]
            if unknown:
                problems.append(f"{collection.alias}: agencies {unknown} are not agencies of {party}")
    return problems


@cache
def load_collections() -> Catalogue:
    catalogue = load(Catalogue, "cyber", "collections.yaml")
    problems = agreement_violations(catalogue)
    if problems:
        raise ConfigurationError(_("data/cyber/collections.yaml: {problems}").format(problems="; ".join(problems)))
    return catalogue

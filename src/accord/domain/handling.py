"""Handling markings: national classifications on a common ladder, TLP 2.0 and caveats."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CommonLevel(StrEnum):
    """The common ladder both national schemes are mapped to by the agreement."""

    UNCLASSIFIED = "unclassified"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"
    TOP_SECRET = "top_secret"

    @property
    def rank(self) -> int:
        return list(CommonLevel).index(self)


class Tlp(StrEnum):
    """FIRST Traffic Light Protocol 2.0."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Caveat(StrEnum):
    """Europol-style handling codes plus the caveats named in the agreement."""

    H0 = "H0"  # only to prevent or combat crime
    H1 = "H1"  # not for judicial proceedings without the originator's permission
    H2 = "H2"  # no onward dissemination without the originator's permission
    H3 = "H3"  # other restrictions, stated in `restrictions`


class Handling(BaseModel):
    """How a message must be handled: the sender's national marking and its common level."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    classification: str = Field(description="the sender's national marking, e.g. 'Protected B'")
    level: CommonLevel = Field(description="the common level the agreement maps that marking to")
    tlp: Tlp = Tlp.AMBER
    caveats: tuple[Caveat, ...] = ()
    restrictions: str | None = Field(default=None, description="text of an H3 restriction")
    named_recipients: tuple[str, ...] = Field(default=(), description="officers a TLP:RED message is for")

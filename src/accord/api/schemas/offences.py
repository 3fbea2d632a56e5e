"""The offence vocabulary as the API answers it: ICCS codes, and each party's statutes mapped onto a code."""

from __future__ import annotations

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.domain.parties import Party


class OffenceEntry(ApiModel):
    code: str = Field(description="the ICCS v1.0 code")
    label: str
    display: str = Field(description='code and label, as the web form lists it: "0101 Intentional homicide"')


class OffenceList(ApiModel):
    source: str = Field(description="the taxonomy's source (UNODC ICCS v1.0)")
    offences: list[OffenceEntry]


class StatuteEntry(ApiModel):
    statute: str
    section: str
    title: str
    capital: bool = Field(description="death is a possible sentence")
    when: list[str] = Field(description="circumstances that must also be shown for the provision to apply")


class OffenceDetail(OffenceEntry):
    statutes: dict[Party, list[StatuteEntry]] = Field(
        description="each party's provisions that apply to this code, to a code below it or to its section"
    )

"""Sign-in as the API answers it: the bearer token (RFC 6749 §5.1) and the officer it stands for."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from accord.api.schemas import ApiModel
from accord.directory.officers import Role
from accord.domain.parties import Party
from accord.i18n import Language


class AccessToken(ApiModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="seconds the token stays valid")


class OfficerView(ApiModel):
    id: str
    username: str
    display_name: str
    party: Party
    agency: str
    roles: list[Role]
    language: Language | None = Field(description="the language the officer reads Accord in; null: the node's default")
    time_zone: str | None = Field(
        default=None, description="the IANA zone the officer reads times in; null: the node's"
    )


class LanguageChoice(ApiModel):
    language: Language | None = Field(description="en, fr or hi; null: the node's default")


class TimeZoneChoice(ApiModel):
    time_zone: str | None = Field(
        max_length=64, description="an IANA zone, e.g. America/Toronto or Asia/Kolkata; null: the node's"
    )

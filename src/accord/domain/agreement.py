"""The agreement between the parties: focus areas, response targets, markings, the channel's ceiling."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from accord.domain.handling import CommonLevel
from accord.domain.messages import Priority
from accord.domain.parties import Agency, Party


class FocusArea(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    description: str


class ResponseTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    acknowledge_hours: float = Field(gt=0)
    respond_hours: float = Field(gt=0)


class Agreement(BaseModel):
    """Validated content of the agreement file; the rules both nodes share."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    source: str
    parties: dict[Party, str]
    focus_areas: tuple[FocusArea, ...]
    response_targets: dict[Priority, ResponseTarget]
    channel_ceiling: CommonLevel
    classification_mapping: dict[Party, dict[str, CommonLevel]]
    agencies: tuple[Agency, ...] = ()
    _agency_index: dict[tuple[Party, str], Agency] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Agreement:
        missing = set(Priority) - set(self.response_targets)
        if missing:
            raise ValueError(f"response_targets lacks priorities {sorted(missing)}")
        for party in self.parties:
            if party not in self.classification_mapping:
                raise ValueError(f"classification_mapping lacks party {party}")
        self._agency_index.update({(a.party, a.code): a for a in self.agencies})
        return self

    def focus_area(self, code: str) -> FocusArea | None:
        return next((area for area in self.focus_areas if area.code == code), None)

    def agency(self, party: Party, code: str) -> Agency | None:
        return self._agency_index.get((party, code))

    def deadline_for(self, priority: Priority, sent_at: datetime) -> datetime:
        return sent_at + timedelta(hours=self.response_targets[priority].respond_hours)

    def common_level(self, party: Party, classification: str) -> CommonLevel | None:
        mapping = self.classification_mapping[party]
        wanted = classification.strip().casefold()
        return next((level for name, level in mapping.items() if name.casefold() == wanted), None)

"""The agreement between the parties: focus areas, response targets, markings, the channel's ceiling."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from accord.domain.handling import CommonLevel
from accord.domain.matching import HitNoHitRules
from accord.domain.messages import Priority
from accord.domain.official import in_language
from accord.domain.parties import Agency, Party
from accord.domain.workplan import ActionDoc, ItemKind, ObjectiveDoc, WorkPlanDefinition
from accord.i18n import Language
from accord.i18n.zones import parse_zone


class FocusArea(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    description: str

    def name_in(self, language: Language | None = None) -> str:
        """The focus area's name in `language` (default: the current language); `code` is never translated."""
        return in_language(self.name, language)

    def description_in(self, language: Language | None = None) -> str:
        return in_language(self.description, language)


class ResponseTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    acknowledge_hours: float = Field(gt=0)
    respond_hours: float = Field(gt=0)


class PenRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reply_working_days: int = Field(gt=0, le=120)
    escalate_after_working_days: int = Field(
        default=5, gt=0, le=60, description="silence this long past the deadline goes to both sides' coordinators"
    )
    authorities: dict[Party, str]


class CyberSharing(BaseModel):
    """Who shares STIX bundles with whom, and the national marking a bundle a tool posts carries (TLP is its real
    handling)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    centres: dict[Party, str]
    classification: dict[Party, str]


class Agreement(BaseModel):
    """Validated content of the agreement file; the rules both nodes share."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    source: str
    parties: dict[Party, str]
    time_zones: dict[Party, str] = Field(
        default_factory=dict, description="IANA zone each party reads its times in (its seat of government)"
    )
    focus_areas: tuple[FocusArea, ...]
    response_targets: dict[Priority, ResponseTarget]
    channel_ceiling: CommonLevel
    pre_export_notifications: PenRules
    cyber_sharing: CyberSharing
    hit_no_hit: HitNoHitRules
    classification_mapping: dict[Party, dict[str, CommonLevel]]
    work_plan: WorkPlanDefinition
    agencies: tuple[Agency, ...] = ()
    _agency_index: dict[tuple[Party, str], Agency] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> Agreement:
        missing = set(Priority) - set(self.response_targets)
        if missing:
            raise ValueError(f"response_targets lacks priorities {sorted(missing)}")
        for zone in self.time_zones.values():
            parse_zone(zone)  # ValueError names what a zone looks like
        for party in self.parties:
            if party not in self.classification_mapping:
                raise ValueError(f"classification_mapping lacks party {party}")
        self._agency_index.update({(a.party, a.code): a for a in self.agencies})
        if self.agencies:
            self._check_default_plan()
            for party, code in self.pre_export_notifications.authorities.items():
                if self.agency(party, code) is None:
                    raise ValueError(f"pre_export_notifications names {code!r}, not an agency of {party}")
            for party, code in self.cyber_sharing.centres.items():
                if self.agency(party, code) is None:
                    raise ValueError(f"cyber_sharing names {code!r}, not an agency of {party}")
        for party, marking in self.cyber_sharing.classification.items():
            if self.common_level(party, marking) is None:
                raise ValueError(f"cyber_sharing's classification {marking!r} is not a {party} marking")
        for area in self.hit_no_hit.focus_areas:
            if self.focus_area(area) is None:
                raise ValueError(f"hit_no_hit names {area!r}, not a focus area of the agreement")
        return self

    def _check_default_plan(self) -> None:
        codes = [code for _, code, _ in self.work_plan.items()]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"work_plan repeats item codes {repeated}")
        objectives = {o.code for o in self.work_plan.objectives}
        for kind, code, doc in self.work_plan.items():
            problems = self.plan_violations(kind, doc.model_dump(mode="json"), objectives)
            if problems:
                raise ValueError(f"work_plan item {code}: {'; '.join(problems)}")

    def focus_area(self, code: str) -> FocusArea | None:
        return next((area for area in self.focus_areas if area.code == code), None)

    def time_zone(self, party: Party) -> tzinfo:
        """The zone a party reads its times in (UTC for a party the file gives none)."""
        name = self.time_zones.get(party)
        return parse_zone(name) if name else UTC

    def agency(self, party: Party, code: str) -> Agency | None:
        return self._agency_index.get((party, code))

    def party_name(self, party: Party, language: Language | None = None) -> str:
        """A party's name ("Canada", "India") in `language` (default: the current language)."""
        return in_language(self.parties.get(party, party.value), language)

    def deadline_for(self, priority: Priority, sent_at: datetime) -> datetime:
        return sent_at + timedelta(hours=self.response_targets[priority].respond_hours)

    def plan_violations(self, kind: ItemKind, doc: dict[str, Any], objectives: set[str]) -> list[str]:
        """What in a work-plan item contradicts the agreement: unknown focus area or agency, a date before the start."""
        start = self.work_plan.start
        problems: list[str] = []
        if kind is ItemKind.OBJECTIVE:
            area = ObjectiveDoc.model_validate(doc).focus_area
            if area is not None and self.focus_area(area) is None:
                known = ", ".join(f.code for f in self.focus_areas)
                problems.append(f"{area!r} is not a focus area of the agreement; known: {known}")
            return problems
        action = ActionDoc.model_validate(doc)
        if action.objective not in objectives:
            problems.append(f"{action.objective!r} is not an objective of the work plan")
        for party in self.parties:
            lead = action.leads.get(party)
            if lead is None:
                problems.append(f"an action needs a lead agency of {party}")
            elif self.agency(party, lead) is None:
                known = ", ".join(a.code for a in self.agencies if a.party is party)
                problems.append(f"{lead!r} is not an agency of {party} in the agreement; known: {known}")
        dates: list[tuple[str, date]] = [("due", action.due)]
        dates += [(f"milestone {m.title!r} due", m.due) for m in action.milestones]
        problems += [f"{what} {when} is before the work plan's start {start}" for what, when in dates if when < start]
        return problems

    def pen_deadline(self, sent_at: datetime) -> datetime:
        """The reply deadline of a pre-export notification: N working days (Monday to Friday) after it is sent."""
        return add_working_days(sent_at, self.pre_export_notifications.reply_working_days)

    def pen_escalation(self, deadline: datetime) -> datetime:
        """When silence past a notification's deadline goes up to the coordinators of both sides."""
        return add_working_days(deadline, self.pre_export_notifications.escalate_after_working_days)

    def common_level(self, party: Party, classification: str) -> CommonLevel | None:
        mapping = self.classification_mapping[party]
        wanted = classification.strip().casefold()
        return next((level for name, level in mapping.items() if name.casefold() == wanted), None)


def add_working_days(moment: datetime, days: int) -> datetime:
    """Days Monday to Friday (public holidays differ by party and are not counted out)."""
    while days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment

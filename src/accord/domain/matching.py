"""Hit/no-hit matching as it travels (Prüm discipline): the agreement's limits on queries, and the reference a
follow-up request names — the only thing of a hit that crosses before the policy path releases a record."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# A reference is an opaque token the answering node made; it says nothing of the record it stands for.
REFERENCE_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


class HitNoHitRules(BaseModel):
    """What the parties agreed on automated queries: where they may be made and how many per period."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    focus_areas: tuple[str, ...] = Field(min_length=1)
    period_days: int = Field(gt=0, le=366, description="the period the limit counts over, in days")
    max_records_per_period: int = Field(gt=0, description="records one party may query in a period")
    max_batch: int = Field(gt=0, le=10_000, description="records in one query")
    reference_valid_days: int = Field(gt=0, le=366, description="how long a hit's reference can be followed up")


class MatchReference(BaseModel):
    """What a follow-up request names: the query and the opaque reference of the hit it follows up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    query_id: str = Field(min_length=1, max_length=36)
    reference: str = Field(pattern=REFERENCE_PATTERN)


class QueryDirection(StrEnum):
    """Whose query a node holds: its own (`out`: its rows are its own data) or the partner's (`in`: size and outcome
    only)."""

    OUT = "out"
    IN = "in"


class QueryState(StrEnum):
    SENT = "sent"
    ANSWERED = "answered"
    REFUSED = "refused"

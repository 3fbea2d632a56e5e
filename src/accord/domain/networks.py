"""Entities of an organised-crime network as they travel in a share: FollowTheMoney entities (`{id, schema,
properties}`), checked against the FtM model at both ends by the networks capability."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A share is a subgraph an analyst chose, not a database: larger sets go in several shares.
MAX_SHARED_ENTITIES = 2_000


class SharedEntities(BaseModel):
    """The FollowTheMoney entities of one share (things and the relations between them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entities: tuple[dict[str, Any], ...] = Field(min_length=1, max_length=MAX_SHARED_ENTITIES)

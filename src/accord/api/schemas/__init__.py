"""The API's response models: what each JSON route answers, as its OpenAPI document declares it. Values the domain
already models (a handling, a subject, an incident) are the domain's own models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """An answer of this node's own making: immutable, and nothing beyond its declared members."""

    model_config = ConfigDict(frozen=True, extra="forbid")


NEXT_DESCRIPTION = (
    "the cursor of the next page, to pass as `after` with the same parameters (also in the `Link` header, "
    'rel="next"); null on the last page'
)

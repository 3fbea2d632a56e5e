"""Assurances in the ledger: the events that record a message leaving or arriving name the assurances it carries
(kind, reference, date, issuing authority), so both parties' logs show on what assurance a disclosure was made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.domain.messages import Assurance


def assurance_refs(assurances: Sequence[Assurance]) -> dict[str, str | int | None]:
    """Event refs for `assurances`: how many, then each one's four facts under `assurance<N>.<fact>`."""
    refs: dict[str, str | int | None] = {}
    if assurances:
        refs["assurances"] = len(assurances)
    for n, assurance in enumerate(assurances, start=1):
        refs[f"assurance{n}.kind"] = assurance.kind.value
        refs[f"assurance{n}.reference"] = assurance.reference
        refs[f"assurance{n}.issued_on"] = assurance.issued_on.isoformat()
        refs[f"assurance{n}.issuing_authority"] = assurance.issuing_authority
    return refs


def listed_assurance_refs(listed: Any) -> dict[str, str | int | None]:
    """The refs for the assurances a message's JSON lists (its `assurances` member; none if absent)."""
    return assurance_refs([Assurance.model_validate(a) for a in listed]) if listed else {}


def with_refs(
    refs: Mapping[str, str | int | None], extra: Mapping[str, str | int | None]
) -> dict[str, str | int | None]:
    """An event's refs with more of them (e.g. the assurances a message carries)."""
    return {**refs, **extra}

"""Mistreatment-risk assessments in the store: written once when recorded, read by case for every disclosure."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, insert, select

from accord.crypto.canonical import canonical_json
from accord.domain.assessments import MistreatmentAssessment
from accord.store.tables import mistreatment_assessments


def store_assessment(conn: Connection, assessment: MistreatmentAssessment) -> None:
    conn.execute(
        insert(mistreatment_assessments).values(
            id=assessment.id,
            case_id=assessment.case_id,
            party=assessment.party,
            assessor=assessment.assessor,
            conclusion=assessment.conclusion.value,
            assessed_on=assessment.assessed_on,
            valid_until=assessment.valid_until,
            recorded_at=assessment.recorded_at,
            pack=assessment.pack,
            content=canonical_json(assessment.model_dump(mode="json")).decode(),
        )
    )


def assessments_for_cases(conn: Connection, case_ids: Iterable[str]) -> dict[str, tuple[MistreatmentAssessment, ...]]:
    """Every assessment recorded for each of these cases, current or expired (the screen tells them apart): one query
    per 500 cases (a batch of messages)."""
    wanted = list(dict.fromkeys(case_ids))
    found: dict[str, list[MistreatmentAssessment]] = {case_id: [] for case_id in wanted}
    for first in range(0, len(wanted), 500):
        query = (
            select(mistreatment_assessments.c.case_id, mistreatment_assessments.c.content)
            .where(mistreatment_assessments.c.case_id.in_(wanted[first : first + 500]))
            .order_by(mistreatment_assessments.c.recorded_at, mistreatment_assessments.c.id)
        )
        for case_id, content in conn.execute(query):
            found[case_id].append(MistreatmentAssessment.model_validate_json(content))
    return {case_id: tuple(assessments) for case_id, assessments in found.items()}


def recorded_assessments(conn: Connection, case_id: str | None = None) -> tuple[MistreatmentAssessment, ...]:
    query = select(mistreatment_assessments.c.content).order_by(
        mistreatment_assessments.c.recorded_at, mistreatment_assessments.c.id
    )
    if case_id is not None:
        query = query.where(mistreatment_assessments.c.case_id == case_id)
    return tuple(MistreatmentAssessment.model_validate_json(c) for c in conn.execute(query).scalars())

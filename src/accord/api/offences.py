"""The offence vocabulary: the searchable list an officer chooses an offence from, and a code's statutes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from accord.api.schemas.offences import OffenceDetail, OffenceEntry, OffenceList, StatuteEntry
from accord.domain.messages import OFFENCE_CODE_PATTERN
from accord.domain.parties import Party
from accord.errors import NotFound
from accord.http.dependencies import OfficerDep
from accord.http.openapi import OFFICER_PROBLEMS, problems
from accord.i18n import _
from accord.policy.offences import Offence, offence_taxonomy, overlaps, statutes_of

router = APIRouter(prefix="/api/v1", tags=["offences"])


def _entry(offence: Offence) -> OffenceEntry:
    return OffenceEntry(code=offence.code, label=offence.label, display=offence.display)


@router.get("/offences", responses=problems(*OFFICER_PROBLEMS))
def offences(
    _officer: OfficerDep,
    q: Annotated[
        str | None, Query(max_length=100, description="part of a code or label, e.g. 'kidnap' or '0202'")
    ] = None,
) -> OffenceList:
    taxonomy = offence_taxonomy()
    wanted = (q or "").strip().casefold()
    listed = [o for o in taxonomy.offences if not wanted or wanted in o.display.casefold()]
    return OffenceList(source=taxonomy.source, offences=[_entry(o) for o in listed])


@router.get("/offences/{code}", responses=problems(*OFFICER_PROBLEMS, 404))
def offence(
    _officer: OfficerDep, code: Annotated[str, Path(pattern=OFFENCE_CODE_PATTERN, description="an ICCS code")]
) -> OffenceDetail:
    found = offence_taxonomy().get(code)
    if found is None:
        raise NotFound(_("{code} is not an ICCS code of the offence list (GET /api/v1/offences)").format(code=code))
    statutes = {
        party: [
            StatuteEntry(
                statute=p.statute, section=p.section, title=p.title, capital=p.capital, when=[c.value for c in p.when]
            )
            for p in statutes_of(party).provisions
            if overlaps(code, p.iccs)
        ]
        for party in Party
    }
    return OffenceDetail(**_entry(found).model_dump(), statutes=statutes)

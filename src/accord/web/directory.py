"""The directory: the agencies of both parties with their role in the work plan and 24/7 contact points, and the
officers who have an account on this node."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accord.directory.officers import list_active_officers
from accord.http.dependencies import NodeDep
from accord.web._pages import page
from accord.web.labels import LABELS
from accord.web.security import WebOfficerDep

router = APIRouter(include_in_schema=False)


@router.get("/directory")
def directory(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    parties = [
        (p.value, node.agreement.party_name(p), [a for a in node.agreement.agencies if a.party is p])
        for p in node.agreement.parties
    ]
    people = list_active_officers(node)
    return page(request, "directory.html.j2", officer, labels=LABELS, parties=parties, people=people)

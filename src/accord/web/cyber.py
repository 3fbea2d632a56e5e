"""The cyber screen: the STIX shares sent to and received from the other party's cyber centre, their TLP, and the
sightings that came back; a form to share a STIX 2.1 bundle or a MISP event (converted through misp-stix).

It calls the same services as the API's /api/v1/cyber, as the signed-in officer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from accord.directory.officers import Officer
from accord.domain.handling import Tlp
from accord.domain.messages import DeliveryState
from accord.errors import AccordError, InvalidInput
from accord.focus.cyber.shares import list_shares
from accord.focus.cyber.sharing import share_document
from accord.http.dependencies import NodeDep
from accord.i18n import _
from accord.node import Node
from accord.web import labels
from accord.web._pages import page, redirect
from accord.web.security import CsrfChecked, WebOfficerDep

router = APIRouter(include_in_schema=False)


def _cyber_page(request: Request, node: Node, officer: Officer, status_code: int = 200, **context: Any) -> HTMLResponse:
    return page(
        request,
        "cyber.html.j2",
        officer,
        status_code,
        shares=list_shares(node, officer),
        tlps=[t.value for t in Tlp],
        partner=node.agreement.cyber_sharing.centres[node.party.other],
        delivery_words={s.value: labels.delivery_state(s.value) for s in DeliveryState},
        **context,
    )


@router.get("/cyber")
def cyber(request: Request, node: NodeDep, officer: WebOfficerDep) -> HTMLResponse:
    shared = request.query_params.get("shared")
    return _cyber_page(request, node, officer, shared=shared)


def _read_json(content: bytes) -> Any:
    from accord.focus.cyber.misp import read_json

    return read_json(content, _("file"))


@router.post("/cyber/share", dependencies=[CsrfChecked])
async def share(request: Request, node: NodeDep, officer: WebOfficerDep) -> Response:
    form = await request.form()
    upload = form.get("file")
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(_("choose a STIX bundle or a MISP event (JSON) to share"))
        document = _read_json(await upload.read())
        named = tuple(n.strip() for n in values.get("named_recipients", "").split(",") if n.strip())
        focus_area = values.get("focus_area") or "cyber"
        shared = share_document(
            node, officer, document, focus_area, named_recipients=named, note=values.get("note", "")
        )
    except AccordError as problem:
        return _cyber_page(request, node, officer, problem.status, error=problem.detail, form=values)
    return redirect(f"/cyber?shared={shared.message_id}")

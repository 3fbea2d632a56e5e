"""What every page module of the web UI shares: the template environment and its filters, the `page()` renderer
with the context every page needs (who is signed in, what their roles open, the session's CSRF token), redirects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import URL

from accord.datafiles import marking_label
from accord.directory.officers import Officer, Role
from accord.domain.agreement import Agreement
from accord.domain.official import in_language
from accord.errors import InvalidInput
from accord.exchange.audit import AUDIT_ROLES, unacknowledged_alarms
from accord.exchange.review import pressing_reviews
from accord.http.cursors import issue_cursor, page_size, page_start
from accord.i18n import _
from accord.i18n.templates import install_i18n
from accord.i18n.zones import format_moment, reader_zone
from accord.node import Node
from accord.notifications import unread_count
from accord.policy.findings import describe_findings
from accord.reports.render import format_hours
from accord.store.keyset import Position, SortKey

_environment = Environment(
    loader=PackageLoader("accord.web", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
install_i18n(_environment)
templates = Jinja2Templates(env=_environment)


def _when(value: datetime | str | None) -> str:
    """A moment in the reader's zone, with the zone: '2026-11-29 08:05 EST'."""
    if value is None:
        return "—"
    return format_moment(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _elsewhere(zone: tzinfo, place: str) -> Callable[[datetime | str | None], str]:
    """`{{ m.deadline | when }} {{ elsewhere(m.deadline) }}`: the same moment where the other party reads it
    ('19:30 IST in India'), or nothing when the reader already reads that zone's time."""

    def shown(value: datetime | str | None) -> str:
        if value is None:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.astimezone(zone).utcoffset() == moment.astimezone(reader_zone()).utcoffset():
            return ""
        return _("{time} in {place}").format(time=format_moment(moment, zone), place=place)

    return shown


def _time_left(deadline: datetime | None) -> str:
    if deadline is None:
        return ""
    seconds = (deadline - datetime.now(UTC)).total_seconds()
    hours = abs(seconds) / 3600
    text = (
        _("{count} h").format(count=f"{hours:.0f}") if hours < 48 else _("{count} d").format(count=f"{hours / 24:.0f}")
    )
    return _("{time} left").format(time=text) if seconds >= 0 else _("{time} overdue").format(time=text)


_environment.filters.update(when=_when, time_left=_time_left, hours=format_hours, sentences=describe_findings)
# A party's marking as its scheme writes it in the reader's language; text of the data files (an agency's role) in
# that language as a plain string, which Jinja escapes: Jinja's own `_()` would take it for trusted markup and read
# any "%" in it as a format.
_environment.globals.update(marking_label=marking_label, in_language=in_language)


def session_csrf(request: Request) -> str:
    """The CSRF token of the signed-in session (set when the officer was resolved), for the forms of the page."""
    token: str = getattr(request.state, "csrf", "")
    return token


def page_context(request: Request, officer: Officer | None) -> dict[str, Any]:
    """What every page needs: the node, who is signed in, what their roles open (with the count of open ledger alarms
    for those who audit), their unread notifications, the CSRF token for its forms."""
    node = request.app.state.node
    can_audit = bool(officer and officer.roles & AUDIT_ROLES)
    can_review = bool(officer and officer.roles & {Role.LEGAL, Role.DEPUTY_HEAD})
    other_zone = node.agreement.time_zone(node.party.other)
    return {
        "officer": officer,
        "csrf": session_csrf(request),
        "node": {"id": node.node_id, "party": node.party.value, "name": node.agreement.party_name(node.party)},
        "path": request.url.path,
        "roles": {r.value for r in officer.roles} if officer else set(),
        "can_audit": can_audit,
        "open_alarms": unacknowledged_alarms(node) if can_audit else 0,
        "unread_notifications": unread_count(node, officer) if officer else 0,
        "can_review": can_review,
        "urgent_reviews": pressing_reviews(node, officer) if officer and can_review else 0,
        "can_coordinate": bool(officer and Role.COORDINATOR in officer.roles),
        "focus_area_name": lambda code: _focus_area_name(node.agreement, code),
        "elsewhere": _elsewhere(other_zone, node.agreement.party_name(node.party.other)),
        "reader_zone": reader_zone,
    }


def _focus_area_name(agreement: Agreement, code: str) -> str:
    """A focus area by its name in the reader's language; its code where the agreement has none (an old message)."""
    area = agreement.focus_area(code)
    return area.name_in() if area is not None else code


def page(request: Request, name: str, officer: Officer | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with the context every page needs, and the page's own on top."""
    return templates.TemplateResponse(request, name, page_context(request, officer) | context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    """After a form post: 303, so the browser follows with a GET and a reload does not post again."""
    return RedirectResponse(url, status_code=303)


@dataclass(frozen=True, slots=True)
class Pager:
    """The links under a paged list: the next page and, on a later page, the first; each keeps the page's filters."""

    next_url: str | None
    first_url: str | None


def pager(request: Request, node: Node, key: SortKey, following: Position | None, *, path: str | None = None) -> Pager:
    """Links for the page of `request` (at `path`, when the request is a live fragment's): its next page, which
    starts after `following`, and its first page when this one continued another."""
    here = request.url.remove_query_params("after")
    where = path or here.path

    def link(url: URL) -> str:
        return f"{where}?{url.query}" if url.query else where

    return Pager(
        next_url=link(here.include_query_params(after=issue_cursor(node, key, following))) if following else None,
        first_url=link(here) if request.query_params.get("after") else None,
    )


def page_position(node: Node, key: SortKey, request: Request) -> Position | None:
    """Where the page starts: the request's `after` cursor opened (422 when this node did not issue it)."""
    return page_start(node, key, request.query_params.get("after"))


def page_limit(request: Request, default: int) -> int:
    """The request's `limit`, from 1 to the most a page holds; `default` when none is given."""
    given = request.query_params.get("limit")
    if not given:
        return default
    if not given.isdigit():
        raise InvalidInput(_("limit {given!r} is not a number of items").format(given=given))
    return page_size(int(given))

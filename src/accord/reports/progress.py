"""The joint progress report: the plan per focus area, indicators from the exchange, overdue items, checkpoints.

The report is data: its few words (its title, its sections' names) are in the language of the work at hand, and a
rendering writes everything else in the language it is printed in (render.py), charts included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, select

from accord import __version__
from accord.domain.agreement import Agreement
from accord.domain.messages import Priority
from accord.domain.workplan import ActionStatus
from accord.i18n import Language
from accord.node import Node
from accord.policy.families import rule_families
from accord.reports.disclosures import disclosure_figures
from accord.reports.labels import CROSS_CUTTING, report_title, section_name
from accord.store.tables import checkpoints
from accord.trust.peers import load_peers
from accord.workplan.indicators import (
    ExchangeData,
    exchange_table,
    measure,
    request_stats,
    requests_per_area,
    weekly_volumes,
)
from accord.workplan.periods import Period
from accord.workplan.plan import plan_view, status_history

_FINAL = {ActionStatus.DONE.value, ActionStatus.CANCELLED.value}


def build_report(node: Node, period: Period, now: datetime | None = None, with_charts: bool = True) -> dict[str, Any]:
    """Everything the report shows, as data (JSON-ready). With charts: also what a rendering draws them from, and the
    agreement's title for a rendering's own title, under "rendering" (not part of the JSON form)."""
    now = now or datetime.now(UTC)
    agreement = node.agreement
    parties = [p.value for p in agreement.parties]
    with node.engine.connect() as conn:
        exchange, indicators = measure(conn, node.registry, agreement, period, now)
        plan = plan_view(conn, node.agreement)
        for objective in plan["objectives"]:
            for action in objective["actions"]:
                action["status_history"] = [
                    {"at": at.isoformat(), "status": status} for at, status in status_history(conn, action["code"])
                ]
        ledger = _checkpoints(conn, period)
        disclosures = disclosure_figures(conn, period, rule_families())
        peers = [p.node_id for p in load_peers(node, conn)]
    table = exchange_table(exchange, agreement)
    today = now.date()
    sections = []
    for area in [None, *agreement.focus_areas]:
        code = area.code if area else CROSS_CUTTING
        objectives = [o for o in plan["objectives"] if o.get("focus_area") == (area.code if area else None)]
        for objective in objectives:
            for action in objective["actions"]:
                action["overdue"] = action["status"] not in _FINAL and date.fromisoformat(action["due"]) < today
                action["milestones_done"] = sum(m.get("done_on") is not None for m in action["milestones"])
        section: dict[str, Any] = {
            "code": code,
            "name": section_name(code, area.name if area else ""),
            "objectives": objectives,
        }
        if area is not None:
            section |= _exchange_section(exchange, table, area.code)
        sections.append(section)
    overdue_requests = sorted(
        (
            {
                "id": r.id,
                "focus_area": r.focus_area,
                "priority": r.priority,
                "from_party": r.from_party,
                "created_at": r.created_at.isoformat(),
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "hours_overdue": round((now - r.deadline).total_seconds() / 3600, 1) if r.deadline else None,
            }
            for r in exchange.requests
            if r.overdue(now)
        ),
        key=lambda item: item["deadline"] or "",
    )
    overdue_actions = [
        {"code": a["code"], "title": a["title"], "due": a["due"], "status": a["status"], "leads": a["leads"]}
        for o in plan["objectives"]
        for a in o["actions"]
        if a["status"] not in _FINAL and date.fromisoformat(a["due"]) < today
    ]
    report: dict[str, Any] = {
        "title": report_title(agreement.title),
        "agreement": agreement.id,
        "period": {"label": period.label, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "generated_at": now.isoformat(),
        "generated_by": {"node": node.node_id, "party": node.party.value, "software": f"Accord {__version__}"},
        "peers": peers,
        "parties": {p.value: name for p, name in agreement.parties.items()},
        "response_targets": {p.value: t.model_dump() for p, t in agreement.response_targets.items()},
        "indicators": indicators,
        "totals": request_stats(exchange.requests, now).as_json(),
        "exchange": table,
        "sections": sections,
        "overdue": {"requests": overdue_requests, "actions": overdue_actions},
        "checkpoints": ledger,
        "disclosures": disclosures,
    }
    if with_charts:
        report["rendering"] = {
            "agreement_title": agreement.title,
            "agency_abbreviations": _agency_abbreviations(agreement),
            "requests_per_area": requests_per_area(exchange, agreement),
            "areas": {area.code: _chart_data(exchange, table, area.code, parties) for area in agreement.focus_areas},
        }
    return report


def _agency_abbreviations(agreement: Agreement) -> dict[str, dict[str, dict[str, str]]]:
    """How each language abbreviates an agency where that is not its code (GRC for the RCMP in French), by party."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for agency in agreement.agencies:
        forms = {language.value: agency.short_name_in(language) for language in Language}
        if any(form != agency.code for form in forms.values()):
            found.setdefault(agency.party.value, {})[agency.code] = forms
    return found


def _exchange_section(exchange: ExchangeData, table: list[dict[str, Any]], code: str) -> dict[str, Any]:
    requests = [r for r in exchange.requests if r.focus_area == code]
    return {
        "exchange": [row for row in table if row["focus_area"] == code],
        "totals": request_stats(requests, exchange.now).as_json(),
        "volumes": weekly_volumes(exchange, code),
    }


def _chart_data(exchange: ExchangeData, table: list[dict[str, Any]], code: str, parties: list[str]) -> dict[str, Any]:
    """A focus area's response times per priority, and its shares answered within target per priority and party."""
    requests = [r for r in exchange.requests if r.focus_area == code]
    rows = [row for row in table if row["focus_area"] == code]
    return {
        "response_hours": {
            p.value: [
                h for r in requests if r.priority == p.value and (h := r.hours_to(r.first_response_at)) is not None
            ]
            for p in Priority
        },
        "within_target": {
            p.value: [
                next(
                    row["within_target_share"]
                    for row in rows
                    if row["priority"] == p.value and row["from_party"] == party
                )
                for party in parties
            ]
            for p in Priority
        },
    }


def _checkpoints(conn: Connection, period: Period) -> dict[str, Any]:
    """The period's checkpoints: how many per origin, and the last of each day (the annex lists those)."""
    counts: dict[str, int] = {}
    cosigned: dict[str, int] = {}
    daily: dict[tuple[str, date], Any] = {}
    for row in conn.execute(
        select(
            checkpoints.c.origin,
            checkpoints.c.size,
            checkpoints.c.root,
            checkpoints.c.issued_at,
            checkpoints.c.cosigner,
            checkpoints.c.cosigned_at,
        )
        .where(checkpoints.c.issued_at >= period.start, checkpoints.c.issued_at < period.end)
        .order_by(checkpoints.c.issued_at, checkpoints.c.id)
    ):
        counts[row.origin] = counts.get(row.origin, 0) + 1
        cosigned[row.origin] = cosigned.get(row.origin, 0) + int(row.cosigned_at is not None)
        daily[(row.origin, row.issued_at.date())] = row
    return {
        "count": counts,
        "cosigned": cosigned,
        "daily_last": [
            {
                "origin": row.origin,
                "size": row.size,
                "root": bytes(row.root).hex(),
                "issued_at": row.issued_at.isoformat(),
                "cosigner": row.cosigner,
                "cosigned_at": row.cosigned_at.isoformat() if row.cosigned_at else None,
            }
            for row in sorted(daily.values(), key=lambda r: (r.issued_at, r.origin))
        ],
    }

"""The work plan's read use cases: the plan, one item, a period's indicators, and the overview the work plan screen
shows; each in one read transaction. Every officer reads the plan; only coordinators change it (`proposals`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accord.node import Node
from accord.workplan.indicators import ExchangeData, measure
from accord.workplan.periods import Period
from accord.workplan.plan import item_view, plan_view


@dataclass(frozen=True, slots=True)
class PlanOverview:
    plan: dict[str, Any]
    exchange: ExchangeData
    indicators: list[dict[str, Any]]


def read_plan(node: Node) -> dict[str, Any]:
    """Objectives with their actions and the proposals waiting on each, and the date the plan started."""
    with node.engine.connect() as conn:
        return plan_view(conn, node.agreement) | {"start": node.agreement.work_plan.start}


def read_item(node: Node, code: str) -> dict[str, Any]:
    """One item with its versions, proposals and comments."""
    with node.engine.connect() as conn:
        return item_view(conn, code)


def read_indicators(node: Node, period: Period, now: datetime) -> tuple[ExchangeData, list[dict[str, Any]]]:
    """The period's exchange and every indicator registered on the node over it."""
    with node.engine.connect() as conn:
        return measure(conn, node.registry, node.agreement, period, now)


def plan_overview(node: Node, period: Period, now: datetime) -> PlanOverview:
    """The plan and the period's indicators, read together so they describe the same moment."""
    with node.engine.connect() as conn:
        plan = plan_view(conn, node.agreement)
        exchange, indicators = measure(conn, node.registry, node.agreement, period, now)
    return PlanOverview(plan, exchange, indicators)

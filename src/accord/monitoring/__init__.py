"""Monitoring a node: Prometheus figures read from the database at each scrape (and the delivery threads' timings),
and whether the node is ready to serve."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, ProcessCollector

from accord.exchange.delivery_watch import DeliveryWatch
from accord.monitoring.collector import NodeCollector
from accord.monitoring.readiness import Readiness, assess_readiness
from accord.node import Node

__all__ = ["Monitoring", "Readiness", "assess_readiness", "monitoring_for"]


@dataclass(frozen=True, slots=True)
class Monitoring:
    """One per node process: the registry /metrics exposes, and the watch its delivery threads report to."""

    registry: CollectorRegistry
    watch: DeliveryWatch


def monitoring_for(node: Node) -> Monitoring:
    registry = CollectorRegistry()
    watch = DeliveryWatch(registry)
    registry.register(NodeCollector(node))
    ProcessCollector(registry=registry)  # the process's CPU, memory and open files (process_*)
    return Monitoring(registry, watch)

"""The two-party sandbox: its India and Canada nodes on loopback (`nodes`), and generated SAMPLE traffic for them
(`seed`)."""

from __future__ import annotations

from accord.sandbox.nodes import (
    SandboxNode,
    prepare_sandbox,
    sandbox_data_dir,
    sandbox_settings,
    start_node_process,
    stop_processes,
    wait_healthy,
)
from accord.sandbox.seed import SeedSummary, seed_traffic

__all__ = [
    "SandboxNode",
    "SeedSummary",
    "prepare_sandbox",
    "sandbox_data_dir",
    "sandbox_settings",
    "seed_traffic",
    "start_node_process",
    "stop_processes",
    "wait_healthy",
]

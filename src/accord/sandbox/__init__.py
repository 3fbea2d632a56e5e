"""The two-party sandbox: its India and Canada nodes on loopback (`nodes`), and generated SAMPLE traffic for them
(`seed`) and the SAMPLE network (`networks`)."""

from __future__ import annotations

from accord.sandbox.networks import SampleCase, sample_network, seed_sample_network
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
    "SampleCase",
    "SandboxNode",
    "SeedSummary",
    "prepare_sandbox",
    "sample_network",
    "sandbox_data_dir",
    "sandbox_settings",
    "seed_sample_network",
    "seed_traffic",
    "start_node_process",
    "stop_processes",
    "wait_healthy",
]

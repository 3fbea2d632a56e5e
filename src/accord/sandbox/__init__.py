"""The two-party sandbox: its India and Canada nodes on loopback (`nodes`), and generated SAMPLE traffic for them
(`seed`) and the SAMPLE network (`networks`); their processes (`processes`); the mail catcher that keeps what they
mail (`mail`)."""

from __future__ import annotations

from accord.sandbox.mail import (
    CaughtMail,
    MailCatcher,
    caught_mail,
    plain_text,
    read_caught,
    sandbox_mail_dir,
)
from accord.sandbox.networks import SampleCase, sample_network, seed_sample_network
from accord.sandbox.nodes import SandboxNode, prepare_sandbox, sandbox_data_dir, sandbox_settings
from accord.sandbox.processes import (
    NodeDidNotStart,
    NodeProcess,
    PortInUse,
    require_free_ports,
    start_node_process,
    start_nodes,
    stop_processes,
)
from accord.sandbox.seed import SeedSummary, seed_traffic

__all__ = [
    "CaughtMail",
    "MailCatcher",
    "NodeDidNotStart",
    "NodeProcess",
    "PortInUse",
    "SampleCase",
    "SandboxNode",
    "SeedSummary",
    "caught_mail",
    "plain_text",
    "prepare_sandbox",
    "read_caught",
    "require_free_ports",
    "sample_network",
    "sandbox_data_dir",
    "sandbox_mail_dir",
    "sandbox_settings",
    "seed_sample_network",
    "seed_traffic",
    "start_node_process",
    "start_nodes",
    "stop_processes",
]

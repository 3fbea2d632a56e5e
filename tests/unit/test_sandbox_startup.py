"""What `accord up` says when a node dies as it starts: the cause, read from the lines its log got meanwhile; and
before anything starts, a mail catcher given a node's port."""

from __future__ import annotations

import pytest

from accord.domain.parties import Party
from accord.sandbox.processes import PortInUse, require_free_ports, startup_cause

UVICORN_PORT_TAKEN = """Started server process [11323]
Waiting for application startup.
Application startup complete.
[Errno 98] error while attempting to bind on address ('127.0.0.1', 8402): address already in use
Waiting for application shutdown.
Application shutdown complete.
"""

TRACEBACK = """Context impl SQLiteImpl.
{"peer": "in-node-1", "error": "in-node-1 did not answer", "event": "peer not reachable at start", "level": "info"}
{"event": "policy pack refused", "problem": "the pack was signed by another key", "level": "error"}
Traceback (most recent call last):
  File "accord/bootstrap.py", line 140, in open_node
accord.policy.pack.PackError: no policy pack installed
"""


def test_a_port_taken_under_the_node_is_said_plainly() -> None:
    assert startup_cause(UVICORN_PORT_TAKEN, 8402) == "port 8402 is in use by another program"


def test_the_last_error_lines_are_the_cause_and_informational_lines_are_not() -> None:
    cause = startup_cause(TRACEBACK, 8402)
    assert cause.startswith('{"event": "policy pack refused"')
    assert cause.endswith("accord.policy.pack.PackError: no policy pack installed")
    assert "peer not reachable" not in cause and "Context impl" not in cause


def test_a_log_without_errors_says_so() -> None:
    assert startup_cause("Started server process [1]\n", 8402) == "its log names no error"


def test_the_mail_catcher_given_a_nodes_port_is_refused_before_anything_starts() -> None:
    with pytest.raises(PortInUse, match="mail catcher needs a port of its own, not port 18402 of a node"):
        require_free_ports({Party.IN: 18401, Party.CA: 18402}, 18402)

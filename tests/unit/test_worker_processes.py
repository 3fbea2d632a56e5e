"""A node process killed (kill -9, the OOM killer) leaves none of its worker processes behind: neither the screen
workers nor the STIX validators, nor the fork server they come from. Found when a test that kills a receiving node
mid-burst left its two arrival workers and their fork server running for good."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

_ARRIVALS = """
from accord.domain.parties import Party
from accord.exchange.arrival_work import arrival_work
from accord.exchange.screen_workers import ScreenWorkers
from tests.unit.test_arrival_work import arriving, case_messages, ready, screen_of

screen, batch = screen_of(Party.IN), arriving(case_messages(Party.CA)[:8])
pool = ScreenWorkers(2, parallel_from=4)
ready(pool, screen, batch)
arrival_work(pool, screen, batch, urgent=False)
workers = list(pool._pool._processes)
"""

_VALIDATORS = """
from accord.focus.cyber.checking import ObjectChecker
from tests.stix_samples import indicator

checker = ObjectChecker(2, parallel_from=2)
checker.check([indicator(f"C2 {n}", f"198.51.100.{n}", None) for n in range(8)])
workers = list(checker._pool._processes)
"""

_REPORT = """
import json, multiprocessing.forkserver, sys, time
print(json.dumps(workers + [multiprocessing.forkserver._forkserver._forkserver_pid]), flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (ended, not yet reaped) counts as ended
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("pool", [_ARRIVALS, _VALIDATORS], ids=["screen-workers", "stix-validators"])
def test_killing_the_process_ends_its_workers_and_their_fork_server(pool: str) -> None:
    process = subprocess.Popen([sys.executable, "-c", pool + _REPORT], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "the pool did not start"
        pids: list[int] = json.loads(line)
        assert len(pids) == 3 and all(alive(pid) for pid in pids)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in pids if alive(pid)]
    for pid in left:  # not to leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"still running after their process was killed: {left}"

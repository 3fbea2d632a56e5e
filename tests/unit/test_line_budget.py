"""Log lines about strangers' traffic stay within a budget per key, and say how many were left out."""

from __future__ import annotations

import time

from accord.logs import LineBudget


def test_lines_beyond_the_budget_are_left_out_and_counted_in_the_next_window() -> None:
    budget = LineBudget(lines=3, interval_s=0.2)
    assert [budget.spend("POST /x bad") for _ in range(5)] == [0, 0, 0, None, None]
    assert budget.spend("POST /y bad") == 0  # another key has its own budget
    time.sleep(0.25)
    assert budget.spend("POST /x bad") == 2  # the next line says how many were left out
    assert budget.spend("POST /x bad") == 0

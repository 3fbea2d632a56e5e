"""Log lines about strangers' traffic stay within a budget per key, and say how many were left out."""

from __future__ import annotations

from accord.logs import LineBudget


def test_lines_beyond_the_budget_are_left_out_and_counted_in_the_next_window() -> None:
    now = [100.0]
    budget = LineBudget(lines=3, interval_s=60.0, clock=lambda: now[0])
    assert [budget.spend("POST /x bad") for _ in range(5)] == [0, 0, 0, None, None]
    assert budget.spend("POST /y bad") == 0  # another key has its own budget
    now[0] += 60.0
    assert budget.spend("POST /x bad") == 2  # the next line says how many were left out
    assert budget.spend("POST /x bad") == 0

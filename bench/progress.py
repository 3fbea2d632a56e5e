"""Progress lines on stderr shared by the benchmark scripts (stdout carries only their JSON line)."""

from __future__ import annotations

import sys
import time


class Progress:
    """One short line on stderr at most every `every_s` seconds (and always for the last one)."""

    def __init__(self, label: str, total: int, every_s: float = 2.0) -> None:
        self.label = label
        self.total = total
        self.every_s = every_s
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, done: int, extra: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if force or done >= self.total or now - self.last >= self.every_s:
            self.last = now
            suffix = f" {extra}" if extra else ""
            log(f"{self.label}: {done}/{self.total} ({now - self.started:.1f} s){suffix}")


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)

"""Run every benchmark in bench/ with --quick and check that each ends with one valid JSON line and no `error`: the
benchmarks' smoke test, run by `make bench-smoke` (and so by `make test`). Figures are not checked, only that each
benchmark still runs every step and reports.

    .venv/bin/python tools/bench_smoke.py [--jobs 2] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
# bench/ also holds modules the benchmarks share (progress.py, result_line.py, pg_databases.py, people.py) and
# train_matching.py, which writes the shipped match model rather than measuring anything.
BENCHMARKS = ("exchange", "report", "matching", "taxii", "graph", "ledger")  # the longest first
TIME_LIMIT_S = 120  # each benchmark stops itself here and still reports; the smoke run kills it a little later


# Officer accounts get password hashes at argon2's least cost, as in the test suite: a smoke run checks that each
# step runs, not its figures, and the sandbox's accounts otherwise take most of its time.
SMOKE_ENVIRONMENT = os.environ | {"ACCORD_PASSWORD_HASHING": "test"}


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    seconds: float
    problem: str | None  # None: ran and reported without error


def smoke(name: str) -> Outcome:
    started = time.monotonic()
    command = [sys.executable, str(BENCH / f"{name}.py"), "--quick", "--time-limit", str(TIME_LIMIT_S)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIME_LIMIT_S + 60, check=False, env=SMOKE_ENVIRONMENT
        )
    except subprocess.TimeoutExpired:
        return Outcome(name, time.monotonic() - started, f"no answer within {TIME_LIMIT_S + 60} s")
    seconds = time.monotonic() - started
    lines = done.stdout.splitlines()
    if len(lines) != 1:
        return Outcome(name, seconds, f"{len(lines)} lines on stdout, not one; stderr ends: {done.stderr[-2000:]}")
    try:
        result = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        return Outcome(name, seconds, f"stdout is not JSON ({exc}): {lines[0][:500]}")
    if not isinstance(result, dict):
        return Outcome(name, seconds, f"the result line is not a JSON object: {lines[0][:500]}")
    if "error" in result:
        return Outcome(name, seconds, f"reported an error: {result['error']}; stderr ends: {done.stderr[-2000:]}")
    if done.returncode != 0:
        return Outcome(name, seconds, f"exit status {done.returncode}; stderr ends: {done.stderr[-2000:]}")
    return Outcome(name, seconds, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help=f"only these benchmarks, of {', '.join(BENCHMARKS)}")
    parser.add_argument("--jobs", type=int, default=2, help="benchmarks run at once (default 2, one per core)")
    args = parser.parse_args()
    if unknown := set(args.names) - set(BENCHMARKS):
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
    started = time.monotonic()
    failed = 0
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for future in as_completed([pool.submit(smoke, name) for name in args.names or BENCHMARKS]):
            outcome = future.result()
            status = "ok" if outcome.problem is None else f"FAILED: {outcome.problem}"
            print(f"bench-smoke {outcome.name:<9} {outcome.seconds:5.1f} s  {status}", flush=True)
            failed += outcome.problem is not None
    print(f"bench-smoke: {failed or 'no'} failure(s) in {time.monotonic() - started:.1f} s", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""TAXII 2.1 benchmark: Accord's TAXII server against the OASIS reference server (medallion 3.0.0, memory backend),
both on loopback in the same run, both driven by the OASIS client (taxii2-client) with HTTP Basic.

Usage: .venv/bin/python bench/taxii.py [--sizes 1000,10000] [--accord-only 100000] [--import-sizes 100000]
                                       [--batch 500] [--page 1000] [--quick]

For each N: a fresh server (Accord: one node on SQLite with default settings, serving its national cyber collection;
medallion: its own CLI's Werkzeug server, memory backend, one collection) is given N STIX 2.1 indicators in POSTs
of --batch objects (each POST waits for its status to be complete), then the whole collection is read back with
as_pages at --page objects a page. Objects per second for both phases, the ratios Accord/medallion, Accord's read
time per object (flat as N grows means linear) and the Accord node's peak resident memory (VmHWM) are reported.
Sizes in --accord-only run Accord alone (medallion's read is quadratic in N). Sizes in --import-sizes time `accord
cyber import` of a bundle of N indicators into a fresh node, then of the same file again (all held already).

One JSON line goes to stdout, whatever happened (with an `error` and the runs measured when a step fails); progress
goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from taxii2client.v21 import Collection, as_pages

from accord.bootstrap import init_node
from accord.config import load_settings, write_node_file
from accord.directory.officers import Role, create_officer
from accord.domain.parties import Party
from progress import Progress, log  # bench/progress.py, beside this script
from result_line import add_run_options, fill_defaults, result_line

USER, PASSWORD = "ca.bench", "bench-password-not-secret"
NATIONAL = "01a21452-dd4d-7ce9-91c5-b46321d43095"  # Accord's cyber-national collection: nothing is sent on
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
PRODUCER = "identity--0a1f6d60-7c2e-4a43-9b4f-5b2f3a0c9e11"
MEDIA = "application/taxii+json;version=2.1"
FULL: dict[str, Any] = {
    "sizes": [1000, 10000],
    "accord_only": [100000],
    "import_sizes": [],
    "batch": 500,
    "page": 1000,
}
# two POSTs, three pages
QUICK: dict[str, Any] = {"sizes": [40], "accord_only": [], "import_sizes": [], "batch": 20, "page": 15}


# ------------------------------------------------------------------------------------------------------------ objects


def indicators(n: int, seed: int = 2026) -> list[dict[str, Any]]:
    """`n` valid STIX 2.1 indicators (about 750 bytes each): IPv4, domain, URL and SHA-256 patterns, TLP:GREEN."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    objects = []
    for i in range(n):
        at = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        kind = i % 4
        if kind == 0:
            value = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            pattern, name = f"[ipv4-addr:value = '{value}']", f"C2 address {value}"
        elif kind == 1:
            value = f"login-{rng.getrandbits(40):010x}.example-bank-secure.net"
            pattern, name = f"[domain-name:value = '{value}']", f"Phishing domain {value}"
        elif kind == 2:
            value = f"https://cdn-{rng.getrandbits(32):08x}.example.org/invoice/{i}.zip"
            pattern, name = f"[url:value = '{value}']", "Malware download URL"
        else:
            value = f"{rng.getrandbits(256):064x}"
            pattern, name = f"[file:hashes.'SHA-256' = '{value}']", "Loader by SHA-256"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created_by_ref": PRODUCER,
                "created": at,
                "modified": at,
                "name": name,
                "description": "Observed in intrusions against municipal networks (benchmark data).",
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": at,
                "confidence": rng.randrange(40, 100),
                "labels": ["ransomware", "benchmark"],
                "object_marking_refs": [TLP_GREEN],
            }
        )
    return objects


# ------------------------------------------------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} not up after {timeout_s} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def accord_server(root: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """One Canada node on SQLite with a CCCS analyst; yields the collection URL and the node process."""
    data = root / "accord"
    port = free_port()
    data.mkdir()
    write_node_file(data, "127.0.0.1", port, None)
    node = init_node(load_settings(data), Party.CA)
    create_officer(node, USER, PASSWORD, "Benchmark analyst", "CCCS", frozenset({Role.ANALYST}))
    node.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    log_path = data / "node.log"
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "accord", "node", "serve", "--data", str(data)], env=env, stdout=out, stderr=out
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log_path)
        yield f"http://127.0.0.1:{port}/taxii2/accord/collections/{NATIONAL}/", process
    finally:
        stop(process)


@contextmanager
def medallion_server(root: Path, page: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """medallion as its `medallion` command runs it, memory backend, one readable and writable collection."""
    data = root / "medallion"
    data.mkdir()
    port = free_port()
    backend_data = {
        "/discovery": {"title": "medallion", "api_roots": [f"http://127.0.0.1:{port}/accord/"]},
        "accord": {
            "information": {"title": "accord", "versions": [MEDIA], "max_content_length": 100 * 1024 * 1024},
            "status": [],
            "collections": [
                {
                    "id": MEDALLION_COLLECTION,
                    "title": "benchmark",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (data / "data.json").write_text(json.dumps(backend_data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(data / "data.json"),
            "session_timeout": 3600,  # its next tokens must outlive the slow first page
        },
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": page},
    }
    (data / "config.json").write_text(json.dumps(config))
    log_path = data / "medallion.log"
    with open(log_path, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "medallion.scripts.run", "--port", str(port), str(data / "config.json")],
            stdout=out,
            stderr=out,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/taxii2/", process, log_path)
        yield f"http://127.0.0.1:{port}/accord/collections/{MEDALLION_COLLECTION}/", process
    finally:
        stop(process)


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float | None:
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


# ------------------------------------------------------------------------------------------------------------ phases


def measure(label: str, url: str, objects: list[dict[str, Any]], batch: int, page: int) -> dict[str, Any]:
    collection = Collection(url, user=USER, password=PASSWORD)
    progress = Progress(f"{label} ingest", len(objects))
    started = time.perf_counter()
    for start in range(0, len(objects), batch):
        status = collection.add_objects({"objects": objects[start : start + batch]}, poll_interval=0.1, timeout=3600)
        if status.status != "complete" or status.failure_count:
            raise RuntimeError(f"{label}: batch at {start} ended {status.status}, failures {status.failures[:3]}")
        progress.update(start + batch)
    ingest_s = time.perf_counter() - started

    progress = Progress(f"{label} read", len(objects))
    started = time.perf_counter()
    read, pages, seen = 0, 0, set[str]()
    for envelope in as_pages(collection.get_objects, page):
        served = envelope.get("objects", [])
        read += len(served)
        pages += 1
        seen.update(o["id"] for o in served)
        progress.update(read)
    read_s = time.perf_counter() - started
    if read != len(objects) or len(seen) != len(objects):
        raise RuntimeError(f"{label}: read {read} objects ({len(seen)} distinct) of {len(objects)}")
    return {
        "ingest_s": round(ingest_s, 3),
        "ingest_objects_per_s": round(len(objects) / ingest_s, 1),
        "read_s": round(read_s, 3),
        "read_objects_per_s": round(len(objects) / read_s, 1),
        "read_us_per_object": round(read_s / len(objects) * 1e6, 1),
        "pages": pages,
    }


def run_size(n: int, with_medallion: bool, batch: int, page: int, keep: bool) -> dict[str, Any]:
    objects = indicators(n)
    root = Path(tempfile.mkdtemp(prefix=f"accord-bench-taxii-{n}-"))
    result: dict[str, Any] = {"n": n, "bytes_per_object": round(len(json.dumps(objects)) / n)}
    try:
        with accord_server(root) as (url, process):
            result["accord"] = measure(f"accord N={n}", url, objects, batch, page)
            result["accord"]["node_peak_rss_mb"] = peak_rss_mb(process)
        if with_medallion:
            with medallion_server(root, page) as (url, process):
                result["medallion"] = measure(f"medallion N={n}", url, objects, batch, page)
                result["medallion"]["server_peak_rss_mb"] = peak_rss_mb(process)
            accord, medallion = result["accord"], result["medallion"]
            result["ratio_accord_to_medallion"] = {
                "read": round(accord["read_objects_per_s"] / medallion["read_objects_per_s"], 2),
                "ingest": round(accord["ingest_objects_per_s"] / medallion["ingest_objects_per_s"], 2),
            }
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    log(f"N={n}: {json.dumps(result)}")
    return result


def run_counting_cpu(command: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `command` to its end; with the CPU seconds of it and of every process under it (those sampled from /proc
    every 0.1 s while they run: the validator workers are the fork server's children, which the command does not wait
    for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    under: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        while process.poll() is None:
            for pid, seconds in tree_cpu(process.pid, tick).items():
                if pid != process.pid:
                    under[pid] = max(under.get(pid, 0.0), seconds)
            time.sleep(0.1)
        out.seek(0)
        output = out.read()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return subprocess.CompletedProcess(command, process.returncode, output, ""), own + sum(under.values())


def tree_cpu(root: int, tick: int) -> dict[int, float]:
    """CPU seconds (user + system) of `root` and of every process under it, from /proc."""
    parents, seconds = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier += children
    return {pid: seconds[pid] for pid in found if pid in seconds}


def measure_import(n: int, keep: bool) -> dict[str, Any]:
    """`accord cyber import` of an N-indicator bundle into a fresh node's national collection (SQLite), then the same
    file again (every object held already); wall time, and the CPU time of the command and its validator processes
    (on a machine other work shares, the CPU time says more than the wall time)."""
    root = Path(tempfile.mkdtemp(prefix=f"accord-bench-import-{n}-"))
    data, bundle = root / "accord", root / "bundle.json"
    try:
        data.mkdir()
        write_node_file(data, "127.0.0.1", free_port(), None)
        node = init_node(load_settings(data), Party.CA)
        create_officer(node, USER, PASSWORD, "Benchmark analyst", "CCCS", frozenset({Role.ANALYST}))
        node.close()
        bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": indicators(n)}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
        command = [sys.executable, "-m", "accord", "cyber", "import", str(bundle), "--data", str(data)]
        command += ["--officer", USER, "--collection", "cyber-national"]
        result: dict[str, Any] = {"n": n, "bundle_mb": round(bundle.stat().st_size / 1e6, 1)}
        for phase, expected in (("import", f"stored {n:,}, already held 0"), ("again", f"already held {n:,}")):
            log(f"accord cyber import N={n} ({phase})")
            started = time.perf_counter()
            done, cpu_s = run_counting_cpu(command, env | {"COLUMNS": "200"})
            wall = time.perf_counter() - started
            if done.returncode != 0 or expected not in " ".join(done.stdout.split()):
                raise RuntimeError(f"import N={n} ({phase}): exit {done.returncode}: {done.stdout[-500:]}")
            result[phase] = {
                "s": round(wall, 2),
                "objects_per_s": round(n / wall, 1),
                "cpu_ms_per_object": round(cpu_s / n * 1e3, 3),  # the command and its validator processes
            }
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
        result["cores"] = len(os.sched_getaffinity(0))
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    log(f"import N={n}: {json.dumps(result)}")
    return result


def sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=sizes, default=None, help="N for both servers (default 1000,10000)")
    parser.add_argument("--accord-only", type=sizes, default=None, help="N for Accord alone (default 100000)")
    parser.add_argument("--batch", type=int, default=None, help="objects per POST (default 500)")
    parser.add_argument("--page", type=int, default=None, help="objects per page (limit) when reading (default 1000)")
    parser.add_argument("--import-sizes", type=sizes, default=None, help="N for `accord cyber import` (default none)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' data directories")
    add_run_options(parser, f"{QUICK['sizes']} objects on both servers in POSTs of {QUICK['batch']}")
    args = parser.parse_args()
    fill_defaults(args, full=FULL, quick=QUICK)
    with result_line("taxii", args) as output:
        output |= {"batch": args.batch, "page": args.page, "runs": []}
        runs: list[dict[str, Any]] = output["runs"]  # each run is in the output as soon as it is measured
        runs += [run_size(n, True, args.batch, args.page, args.keep) for n in args.sizes]
        runs += [run_size(n, False, args.batch, args.page, args.keep) for n in args.accord_only]
        accord_reads = sorted((r["n"], r["accord"]["read_us_per_object"]) for r in runs)
        linearity = {f"{n2}/{n1}": round(us2 / us1, 2) for (n1, us1), (n2, us2) in pairwise(accord_reads)}
        output["accord_read_time_per_object_ratio"] = linearity  # about 1.0 when read time grows linearly in N
        output["imports"] = []
        imports: list[dict[str, Any]] = output["imports"]
        imports += [measure_import(n, args.keep) for n in args.import_sizes]


if __name__ == "__main__":
    main()

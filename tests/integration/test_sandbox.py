"""`accord up`: both sandbox nodes start, are pinned to each other, print sample sign-ins, and stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.nodes import free_port, wait_for


def test_accord_up_runs_both_parties_with_sample_officers_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    india, canada = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["COLUMNS"] = "200"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "accord",
            "up",
            "--var",
            str(tmp_path / "var"),
            "--india-port",
            str(india),
            "--canada-port",
            str(canada),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: _healthy(india) and _healthy(canada), timeout_s=60)
        health = {httpx.get(f"http://127.0.0.1:{p}/healthz").json()["party"] for p in (india, canada)}
        assert health == {"IN", "CA"}
        token = httpx.post(
            f"http://127.0.0.1:{canada}/api/v1/token",
            data={"username": "sample.rcmp", "password": "sample.rcmp-SAMPLE-pw"},
        )
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        agencies = httpx.get(f"http://127.0.0.1:{canada}/api/v1/agencies", headers=headers).json()["agencies"]
        codes = {a["code"] for a in agencies}
        assert {"RCMP", "CBSA", "IRCC", "CSIS", "CCCS", "NCB", "NIA", "CBI", "CERT-In", "I4C", "BOI"} <= codes
        areas = httpx.get(f"http://127.0.0.1:{canada}/api/v1/agreement", headers=headers).json()["focus_areas"]
        assert [a["code"] for a in areas] == ["drugs", "networks", "cyber", "fraud", "immigration"]
        time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "SAMPLE" in output and "sample.rcmp-SAMPLE-pw" in output and "sample.ncb-SAMPLE-pw" in output
    assert "stopped." in output
    assert not _healthy(india) and not _healthy(canada)
    # What the sandbox and its nodes wrote (databases, logs, blobs, keys) is the owner's alone.
    for party in ("in", "ca"):
        data = tmp_path / "var" / party
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "node.log").stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "accord.sqlite3").stat().st_mode) == 0o600
        assert [p for p in data.rglob("*") if stat.S_IMODE(p.lstat().st_mode) & 0o077] == []


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False

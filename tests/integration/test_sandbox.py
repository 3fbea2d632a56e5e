"""`accord up`: both sandbox nodes start (or a busy port is named and nothing starts), are pinned to each other, print
the sample sign-ins in lined-up columns when the output is no terminal, run the README's shell examples, prove
seeded traffic in the ledger, mail their notifications into the sandbox's Maildir, and stop on Ctrl-C. One sandbox for
the module, started as `make run` starts it."""

from __future__ import annotations

import mailbox
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from accord.cli import app
from accord.datafiles import load_sample_officers
from accord.domain.parties import Party
from accord.store.tables import messages
from tests.integration.nodes import PairTemplates, free_port, wait_for
from tests.integration.readme_examples import AccordShim, runnable_blocks, shell_script

REPOSITORY = Path(__file__).resolve().parents[2]
STARTED = "Both nodes are running"
CBSA_DUTY = "sample.cbsa@ca.sandbox.invalid"  # CBSA's SAMPLE officer, on duty


@dataclass
class Sandbox:
    checkout: Path  # where `var/` is, as in a checkout after `make run`; the README's examples run here
    ports: dict[Party, int]
    mail_port: int
    process: subprocess.Popen[bytes]
    output: Path

    def url(self, party: Party) -> str:
        return f"http://127.0.0.1:{self.ports[party]}"

    def data(self, party: Party) -> Path:
        return self.checkout / "var" / party.value.lower()

    @property
    def mail(self) -> Path:
        return self.checkout / "var" / "mail"


def environment() -> dict[str, str]:
    """An operator's shell: none of the test process's ACCORD_* settings but its cheap password hashing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["ACCORD_PASSWORD_HASHING"] = os.environ.get("ACCORD_PASSWORD_HASHING", "test")
    env.pop("COLUMNS", None)  # the output is a pipe: no terminal width to go by
    return env


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    checkout = tmp_path_factory.mktemp("checkout")
    for shared in ("src", "docs"):  # what the README's examples read, as in a checkout
        (checkout / shared).symlink_to(REPOSITORY / shared)
    ports = {Party.IN: free_port(), Party.CA: free_port()}
    mail_port = free_port()
    output = checkout / "up.out"
    argv = ["up", "--var", "var", "--india-port", str(ports[Party.IN]), "--canada-port", str(ports[Party.CA])]
    argv += ["--mail-port", str(mail_port)]
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "accord", *argv], cwd=checkout, env=environment(), stdout=out, stderr=out
        )
    try:
        wait_for(lambda: STARTED in output.read_text() or process.poll() is not None, timeout_s=180)
        assert process.poll() is None, output.read_text()
        yield Sandbox(checkout, ports, mail_port, process, output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def test_accord_up_names_a_busy_port_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        argv = ["up", "--var", str(tmp_path / "var"), "--india-port", str(free_port()), "--canada-port", str(busy)]
        result = CliRunner().invoke(app, argv)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"port {busy} of 127.0.0.1, the CA node's, is in use" in result.stderr
    assert "--canada-port PORT" in result.stderr and "make run CA_PORT=PORT" in result.stderr
    assert STARTED not in result.output and not (tmp_path / "var").exists()


def test_accord_up_names_a_busy_mail_port_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        argv = ["up", "--var", str(tmp_path / "var"), "--india-port", str(free_port())]
        result = CliRunner().invoke(app, [*argv, "--canada-port", str(free_port()), "--mail-port", str(busy)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"port {busy} of 127.0.0.1, the sandbox mail catcher's, is in use" in result.stderr
    assert "--mail-port PORT" in result.stderr and "make run MAIL_PORT=PORT" in result.stderr
    assert STARTED not in result.output and not (tmp_path / "var").exists()


def test_make_run_starts_the_sandbox_on_the_ports_it_is_given() -> None:
    # Under `make test` this is a make inside a make: without the outer one's flags, and without its directory lines.
    outer = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "IN_PORT=8411", "CA_PORT=8412", "MAIL_PORT=8413"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in outer},
    )
    assert planned.returncode == 0, planned.stderr
    last = planned.stdout.strip().splitlines()[-1]
    assert last.endswith("accord up --india-port 8411 --canada-port 8412 --mail-port 8413")


def test_accord_up_runs_both_parties_with_sample_officers_in_lined_up_columns(sandbox: Sandbox) -> None:
    health = {party: httpx.get(sandbox.url(party) + "/healthz").json()["party"] for party in Party}
    assert health == {Party.IN: "IN", Party.CA: "CA"}
    canada = sandbox.url(Party.CA)
    token = httpx.post(canada + "/api/v1/token", data={"username": "sample.rcmp", "password": "sample.rcmp-SAMPLE-pw"})
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    codes = {a["code"] for a in httpx.get(canada + "/api/v1/agencies", headers=headers).json()["agencies"]}
    assert {"RCMP", "CBSA", "IRCC", "CSIS", "CCCS", "NCB", "NIA", "CBI", "CERT-In", "I4C", "BOI"} <= codes
    areas = httpx.get(canada + "/api/v1/agreement", headers=headers).json()["focus_areas"]
    assert [a["code"] for a in areas] == ["drugs", "networks", "cyber", "fraud", "immigration"]

    # Into a pipe, each sign-in is one line, and its password and agency start in the same column as every other's.
    printed = sandbox.output.read_text()
    officers = [o for party in (Party.IN, Party.CA) for o in load_sample_officers(party)]
    lines = [line for line in printed.splitlines() if "-SAMPLE-pw" in line]
    assert len(lines) == len(officers)
    for officer, line in zip(officers, lines, strict=True):
        assert re.fullmatch(rf"\s+{re.escape(officer.username)}\s+password {officer.sample_password}\s+\S+\s+.+", line)
    assert len({line.index(" password ") for line in lines}) == 1
    agency_columns = {
        line.index(f" {o.agency} ", line.index("-SAMPLE-pw")) for o, line in zip(officers, lines, strict=True)
    }
    assert len(agency_columns) == 1


def test_the_readme_shell_examples_run_as_written_against_the_sandbox(
    sandbox: Sandbox, templates: PairTemplates
) -> None:
    blocks = runnable_blocks(REPOSITORY / "README.md")
    assert len(blocks) >= 8
    operators = {party: f"sample.operator.{party.value.lower()}" for party in Party}
    shim = AccordShim(templates.launcher, sandbox.checkout, lambda: wait_until_delivered(sandbox, operators))
    env = environment() | {"PATH": f"{shim.bin}:{os.environ['PATH']}"}
    addresses = {party.value: f"127.0.0.1:{port}" for party, port in sandbox.ports.items()}
    try:
        ran = subprocess.run(
            ["bash", "-c", shell_script(blocks, addresses)],
            cwd=sandbox.checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        shim.close()
    assert ran.returncode == 0, f"{ran.stdout[-6000:]}\n{ran.stderr[-6000:]}"
    assert ran.stdout.count("--- README.md line") == len(blocks)
    assert "VERIFIED: " in ran.stdout and "NOT VERIFIED" not in ran.stdout  # the audit block's bundle and proof


def wait_until_delivered(sandbox: Sandbox, operators: dict[Party, str], timeout_s: float = 60.0) -> None:
    """Until neither node's outbox holds anything for its peer (GET /api/v1/channels, as each node's operator)."""
    headers = {}
    for party, username in operators.items():
        answer = httpx.post(
            sandbox.url(party) + "/api/v1/token", data={"username": username, "password": f"{username}-SAMPLE-pw"}
        )
        headers[party] = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def quiet() -> bool:
        return all(
            queue["pending"] == 0
            for party in Party
            for queue in httpx.get(sandbox.url(party) + "/api/v1/channels", headers=headers[party]).json()["outbox"]
        )

    wait_for(quiet, timeout_s=timeout_s)


def test_a_seeded_message_is_proven_in_the_ledger_under_a_countersigned_checkpoint(
    sandbox: Sandbox, templates: PairTemplates
) -> None:
    env = environment()
    var = str(sandbox.checkout / "var")
    seeded = templates.launcher.run(["sandbox", "seed", "--messages", "20", "--seed", "18", "--var", var], env)
    assert seeded.returncode == 0, seeded.stderr
    assert "under checkpoints the other node countersigned" in seeded.stdout
    engine = create_engine(f"sqlite:///{sandbox.data(Party.CA) / 'accord.sqlite3'}")
    with engine.connect() as conn:
        ids = conn.execute(select(messages.c.id, messages.c.direction).where(messages.c.title.like("[SAMPLE]%"))).all()
    engine.dispose()
    for direction in ("outgoing", "incoming"):
        message = next(row.id for row in ids if row.direction == direction)
        proven = templates.launcher.run(
            ["audit", "prove", "--data", str(sandbox.data(Party.CA)), "--message", message], env
        )
        assert proven.returncode == 0, proven.stdout + proven.stderr
        assert "sandbox.message_written  VERIFIED" in proven.stdout and "VERIFIED: 1 ledger entries" in proven.stdout


def test_an_immediate_alert_from_india_lands_in_the_sandboxs_maildir_for_cbsas_duty_officer_without_its_content(
    sandbox: Sandbox,
) -> None:
    india = sandbox.url(Party.IN)
    token = httpx.post(india + "/api/v1/token", data={"username": "sample.ncb", "password": "sample.ncb-SAMPLE-pw"})
    alert = {
        "kind": "alert",
        "recipient_agency": "CBSA",
        "focus_area": "drugs",
        "priority": "immediate",
        "handling": {"classification": "Restricted", "tlp": "AMBER", "caveats": ["H0"]},
        "legal_basis": "DPDP Act 2023 s.17(1)(c); India–Canada arrangement",
        "title": "Container MSKU 7702 to Vancouver",
        "body": "The consignee of the acetic anhydride has no import licence; the container lands tomorrow.",
    }
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    sent = httpx.post(india + "/api/v1/messages", json=alert, headers=headers)
    assert sent.status_code == 201 and sent.json()["delivery"]["state"] == "queued", sent.text
    message_id = sent.json()["id"]

    def arrived() -> list[tuple[bytes, EmailMessage]]:
        found = []
        for raw in (bytes(m) for m in mailbox.Maildir(sandbox.mail, create=False)):  # as a mail client reads it
            mail = message_from_bytes(raw, policy=policy.default)
            assert isinstance(mail, EmailMessage)
            if message_id in str(mail.get_content()):
                found.append((raw, mail))
        return found

    ((raw, mail),) = wait_for(arrived, timeout_s=30)
    assert mail["Delivered-To"] == CBSA_DUTY and mail["To"].addresses[0].addr_spec == CBSA_DUTY
    text = str(mail.get_content())
    assert f"{sandbox.url(Party.CA)}/messages/{message_id}" in text and "\nFrom NCB to CBSA\n" in text
    assert b"MSKU" not in raw and b"anhydride" not in raw, "a Restricted message's content never travels by mail"

    listed = CliRunner().invoke(app, ["sandbox", "mail", "--var", str(sandbox.checkout / "var")])
    assert listed.exit_code == 0, listed.output
    line = [line for line in listed.stdout.splitlines() if CBSA_DUTY in line][-1]  # the newest last
    number = line.split()[0]
    assert "[Accord] New alert from NCB (immediate)" in line
    shown = CliRunner().invoke(app, ["sandbox", "mail", "--var", str(sandbox.checkout / "var"), "--show", number])
    assert shown.exit_code == 0 and f"/messages/{message_id}" in shown.stdout, shown.output
    missing = CliRunner().invoke(app, ["sandbox", "mail", "--var", str(sandbox.checkout / "var"), "--show", "999"])
    assert missing.exit_code == 1 and "no mail 999 in" in missing.stderr


def test_accord_up_stops_both_nodes_cleanly_on_ctrl_c_and_leaves_owner_only_files(sandbox: Sandbox) -> None:
    sandbox.process.send_signal(signal.SIGINT)
    assert sandbox.process.wait(timeout=60) == 0, sandbox.output.read_text()
    assert "stopped." in sandbox.output.read_text()
    time.sleep(0.2)
    assert not any(_answers(sandbox.url(party)) for party in Party)
    with socket.socket() as mail_port:  # the mail catcher is stopped too: its port can be listened on again
        mail_port.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        mail_port.bind(("127.0.0.1", sandbox.mail_port))
    assert [p for p in sandbox.mail.rglob("*") if stat.S_IMODE(p.lstat().st_mode) & 0o077] == []
    for party in Party:
        data = sandbox.data(party)
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "node.log").stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "accord.sqlite3").stat().st_mode) == 0o600
        assert [p for p in data.rglob("*") if stat.S_IMODE(p.lstat().st_mode) & 0o077] == []


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False

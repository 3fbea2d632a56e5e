"""The `accord` command: set up and run nodes, pin peers, manage officers, start the two-party sandbox."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from accord.cli_audit import audit_app
from accord.cli_cyber import cyber_app
from accord.cli_policy import policy_app
from accord.cli_precursors import precursors_app, substances_app
from accord.cli_sandbox import sandbox_app
from accord.cli_workplan import report, workplan_app
from accord.config import load_settings, write_node_file
from accord.domain.parties import Party
from accord.errors import AccordError

if TYPE_CHECKING:
    from accord.sandbox import SandboxNode

app = typer.Typer(help="Accord: each party's node for the signed, encrypted, lawful exchange.", no_args_is_help=True)
node_app = typer.Typer(help="Set up and run this party's node.", no_args_is_help=True)
peer_app = typer.Typer(help="Exchange signed node descriptors and pin the peer's keys.", no_args_is_help=True)
officer_app = typer.Typer(help="Officer accounts of this node.", no_args_is_help=True)
app.add_typer(node_app, name="node")
app.add_typer(peer_app, name="peer")
app.add_typer(officer_app, name="officer")
app.add_typer(audit_app, name="audit")
app.add_typer(policy_app, name="policy")
app.add_typer(workplan_app, name="workplan")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(substances_app, name="substances")
app.add_typer(precursors_app, name="precursors")
app.add_typer(cyber_app, name="cyber")
app.command("report")(report)

console = Console()
errors = Console(stderr=True)

DataOption = Annotated[Path, typer.Option("--data", help="the node's data directory")]


def _fail(message: str) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code=1)


def _parse_party(value: str) -> Party:
    try:
        return Party(value.upper())
    except ValueError:
        _fail(f"unknown party {value!r}; the parties are {', '.join(p.value for p in Party)}")


@node_app.command("init")
def node_init(
    party: Annotated[str, typer.Option(help="CA or IN")],
    data: DataOption,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8400,
    public_url: Annotated[str | None, typer.Option(help="URL the peer reaches this node at")] = None,
    node_id: Annotated[str | None, typer.Option(help="this node's id (default: <party>-node-1)")] = None,
) -> None:
    """Create keys (mode 0600) and a migrated database (SQLite in DIR, or ACCORD_DATABASE_URL)."""
    from accord.bootstrap import init_node

    the_party = _parse_party(party)
    data.mkdir(parents=True, exist_ok=True)
    settings = load_settings(data, host=host, port=port, public_url=public_url)
    node = init_node(settings, the_party, node_id)
    write_node_file(data, host, port, public_url)
    keys = node.keys.public
    console.print(f"[green]node {node.node_id}[/] ({the_party}) initialised in {data}")
    console.print(f"signing key    Ed25519 {keys.signing_fingerprint}")
    console.print(f"encryption key X25519  {keys.encryption_fingerprint}")
    console.print(f"database       {_safe_url(settings.resolved_database_url)}")
    console.print("next: `accord peer export` here, `accord peer import` at the peer, and the reverse")
    node.close()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@node_app.command("serve")
def node_serve(
    data: DataOption,
    host: Annotated[str | None, typer.Option(help="override the listen address")] = None,
    port: Annotated[int | None, typer.Option(help="override the listen port")] = None,
    delivery_workers: Annotated[int | None, typer.Option(help="delivery threads in this process (0: none)")] = None,
) -> None:
    """Run the node: REST API, federation endpoint and delivery workers."""
    import uvicorn

    from accord.bootstrap import create_app, open_node
    from accord.logs import configure_logging

    settings = load_settings(data, host=host, port=port)
    configure_logging(settings.log_level)
    node = open_node(settings)
    application = create_app(node, delivery_workers)
    uvicorn.run(
        application,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@node_app.command("purge")
def node_purge(
    data: DataOption,
    as_of: Annotated[str | None, typer.Option(help="purge as if it were this ISO time (default: now)")] = None,
) -> None:
    """Remove personal data whose retention time (set by the policy pack) is up; each purge is logged."""
    from accord.bootstrap import open_node
    from accord.exchange.retention import purge_expired

    try:
        when = datetime.fromisoformat(as_of) if as_of else None
    except ValueError:
        _fail(f"--as-of {as_of!r} is not an ISO 8601 time")
    if when is not None and when.tzinfo is None:
        _fail("--as-of needs a time zone, e.g. 2031-01-01T00:00:00+00:00")
    try:
        node = open_node(load_settings(data))
        try:
            summary = purge_expired(node, when)
        finally:
            node.close()
    except AccordError as exc:
        _fail(exc.detail)
    console.print(
        f"purged personal data from {summary.purged} messages (retention {summary.message_days} days, "
        f"refused {summary.refused_days} days, as of {summary.as_of.isoformat()})"
    )


@node_app.command("deliver")
def node_deliver(data: DataOption) -> None:
    """Run only a delivery worker (scale-out on PostgreSQL: run as many as you like)."""
    from accord.bootstrap import open_node
    from accord.exchange.delivery import DeliveryWorker
    from accord.logs import configure_logging

    settings = load_settings(data)
    configure_logging(settings.log_level)
    node = open_node(settings)
    stop = threading.Event()
    # Handle Ctrl-C explicitly: a shell that starts us in the background leaves SIGINT ignored, and Python then
    # never raises KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    DeliveryWorker(node).run(stop)
    node.close()


@peer_app.command("export")
def peer_export(
    data: DataOption,
    out: Annotated[Path | None, typer.Option(help="write the descriptor to this file (default: stdout)")] = None,
) -> None:
    """Print this node's signed descriptor, to hand to the peer's operator."""
    from accord.bootstrap import open_node
    from accord.trust.peers import export_descriptor

    node = open_node(load_settings(data))
    token = export_descriptor(node)
    node.close()
    if out is None:
        sys.stdout.write(token + "\n")
    else:
        out.write_text(token + "\n", encoding="ascii")
        errors.print(f"descriptor of {node.node_id} written to {out}")


@peer_app.command("import")
def peer_import(
    descriptor_file: Annotated[Path, typer.Argument(help="the peer's descriptor file ('-' for stdin)")],
    data: DataOption,
    url: Annotated[str | None, typer.Option(help="reach the peer at this URL instead of the one it states")] = None,
) -> None:
    """Verify the peer's signed descriptor and pin its key fingerprints."""
    from accord.bootstrap import open_node
    from accord.trust.peers import pin_peer

    try:
        token = sys.stdin.read() if str(descriptor_file) == "-" else descriptor_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read descriptor {descriptor_file}: {exc}")
    node = open_node(load_settings(data))
    try:
        descriptor = pin_peer(node, token, url)
    finally:
        node.close()
    console.print(f"[green]pinned[/] {descriptor.node_id} ({descriptor.party}) at {url or descriptor.url}")
    console.print(f"signing key    {descriptor.keys.signing_fingerprint}")
    console.print(f"encryption key {descriptor.keys.encryption_fingerprint}")
    console.print("compare these fingerprints with the peer's operator over a separate channel")


ROLE_NAMES = ("officer", "analyst", "legal", "deputy_head", "coordinator", "operator", "oversight")


@officer_app.command("add")
def officer_add(
    data: DataOption,
    username: Annotated[str, typer.Option()],
    agency: Annotated[str, typer.Option(help="agency code of this node's party, e.g. RCMP")],
    name: Annotated[str, typer.Option(help="display name")],
    role: Annotated[
        list[str], typer.Option(help="officer, analyst, legal, deputy_head, coordinator, operator, oversight")
    ],
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
    clearance: Annotated[
        str, typer.Option(help="unclassified, restricted, confidential, secret, top_secret")
    ] = "secret",
    focus_area: Annotated[
        list[str] | None, typer.Option(help="limit reading to these focus areas (default: all)")
    ] = None,
) -> None:
    """Create an officer account (the password is asked for, never given on the command line)."""
    from accord.bootstrap import open_node
    from accord.directory.officers import Role, create_officer
    from accord.domain.handling import CommonLevel

    try:
        roles = frozenset(Role(r) for r in role)
    except ValueError:
        _fail(f"unknown role in {role}; roles are {', '.join(r.value for r in Role)}")
    try:
        level = CommonLevel(clearance)
    except ValueError:
        _fail(f"unknown clearance {clearance!r}; one of {', '.join(c.value for c in CommonLevel)}")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("password: ")
    node = open_node(load_settings(data))
    try:
        officer = create_officer(node, username, password, name, agency, roles, False, level, tuple(focus_area or ()))
    finally:
        node.close()
    console.print(f"[green]officer {officer.username}[/] ({officer.agency}, {', '.join(sorted(roles))}) created")


@app.command("up")
def up(
    var: Annotated[Path, typer.Option(help="where the sandbox keeps both nodes' data")] = Path("var"),
    india_port: Annotated[int, typer.Option(help="India node's port")] = 8401,
    canada_port: Annotated[int, typer.Option(help="Canada node's port")] = 8402,
) -> None:
    """Start the two-party sandbox: India on 127.0.0.1:8401, Canada on 127.0.0.1:8402. Ctrl-C stops both."""
    from accord.sandbox import prepare_sandbox, start_node_process, stop_processes, wait_healthy

    with console.status("preparing the India and Canada nodes…"):
        nodes = prepare_sandbox(var, {Party.IN: india_port, Party.CA: canada_port})
    processes = [start_node_process(node) for node in nodes]
    stop = threading.Event()
    # Handle Ctrl-C explicitly: a shell that starts us in the background leaves SIGINT ignored, and Python then
    # never raises KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        for node in nodes:
            wait_healthy(node.url)
        _print_sandbox(nodes)
        while not stop.is_set():
            for process, node in zip(processes, nodes, strict=True):
                if process.poll() is not None:
                    _fail(f"the {node.party} node stopped (exit {process.returncode}); see {node.data_dir}/node.log")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping both nodes…")
        stop_processes(processes)
        console.print("stopped.")


def _print_sandbox(nodes: list[SandboxNode]) -> None:
    for node in nodes:
        console.print(f"\n[bold]{node.party} node[/] at {node.url}  (API docs: {node.url}/docs)")
        console.print("  SAMPLE sign-ins — not real people, sandbox only:")
        for officer in node.officers:
            console.print(
                f"    {officer.username:<20} password {officer.sample_password:<28} {officer.agency:<8} "
                f"{', '.join(officer.roles)}",
                highlight=False,
            )
    console.print("\nBoth nodes are running. Ctrl-C stops both.")


def main() -> None:
    try:
        app()
    except AccordError as exc:
        _fail(exc.detail)

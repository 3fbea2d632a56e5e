"""The composition root: creates and opens a node, validates every data file once, registers each capability's
message kinds and indicators, and assembles the HTTP application. The only module that imports everything."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from accord import __version__, forwarding, matching
from accord.clock import clock_for
from accord.config import Settings
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.datafiles import DEFAULT_AGREEMENT, load_agreement
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.exchange import roster
from accord.exchange.delivery import DeliveryWorker
from accord.exchange.pack_install import log_pack_installed
from accord.exchange.retention import run_retention
from accord.exchange.screen_workers import ScreenWorkers
from accord.exchange.uploads import UploadSlots, sweep_incoming
from accord.exchange.wake import announce_when_listening
from accord.exchange.witnessing import run_checkpoints
from accord.focus import cyber, networks, precursors
from accord.i18n import N_, _
from accord.ledger.events import EventType, append_event
from accord.matching.retention import run_holdings_retention
from accord.monitoring import monitoring_for
from accord.node import BLOB_DIR, KEY_DIR, Node, default_node_id
from accord.notifications import notification_rules, run_notifier
from accord.policy.deployment import load_deployment
from accord.policy.engine import DisclosurePolicy
from accord.policy.installed import InstalledPolicy, install_shipped_pack
from accord.policy.screens import load_screen_data
from accord.policy.warm import warm_policy, warm_search_words
from accord.registry import Registry
from accord.store.engine import make_engine
from accord.store.migrate import migrate
from accord.store.modes import require_private, tighten
from accord.store.tables import agencies, node_identity
from accord.workplan import register as register_workplan
from accord.workplan.plan import ensure_default_plan, plan_is_empty

if TYPE_CHECKING:
    from fastapi import FastAPI


# Each capability's `register(registry)`, in the order its pieces should appear (e.g. indicators in the report).
CAPABILITIES = (
    register_workplan,
    precursors.register,
    cyber.register,
    networks.register,
    matching.register,
    forwarding.register,
    roster.register,
)
# An upload body left in the data directory this long ago belongs to no live request (one arriving is written to
# all the time): removed when a node process starts.
INCOMPLETE_UPLOAD_S = 3600.0


def build_registry() -> Registry:
    """Every capability registered, and every data file a capability reads loaded and validated (so a broken file
    stops the node at start-up, not at the first message that needs it)."""
    registry = Registry()
    for register in CAPABILITIES:
        register(registry)
    load_screen_data()
    notification_rules()
    return registry


def init_node(settings: Settings, party: Party, node_id: str | None = None) -> Node:
    """Create keys (mode 0600), migrate the database and record the node's identity and agencies; then take from
    group and world every permission on what the data directory (and a SQLite file) holds, made now or before."""
    data_dir = settings.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (data_dir / BLOB_DIR).mkdir(mode=0o700, exist_ok=True)
    key_dir = data_dir / KEY_DIR
    if key_dir.exists() and any(key_dir.iterdir()):
        raise ConfigurationError(
            _("{data_dir} already holds a node (keys in {key_dir}); choose another --data").format(
                data_dir=data_dir, key_dir=key_dir
            )
        )
    agreement = load_agreement()
    keys = NodeKeys.generate()
    keys.save(key_dir)
    migrate(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    node_id = node_id or default_node_id(party)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if conn.execute(select(node_identity.c.node_id)).first() is not None:
            raise ConfigurationError(_("the database already holds a node identity; use an empty database"))
        conn.execute(
            insert(node_identity),
            [{"node_id": node_id, "party": party.value, "agreement": agreement.id, "created_at": now}],
        )
        conn.execute(
            insert(agencies),
            [
                {
                    "party": a.party.value,
                    "code": a.code,
                    "name": a.name,
                    "role": a.role,
                    "contact_24_7": a.contact_24_7,
                }
                for a in agreement.agencies
            ],
        )
        append_event(conn, EventType.NODE_INITIALISED, node_id, {"party": party.value, "agreement": agreement.id})
        ensure_default_plan(conn, agreement, node_id)
        log_pack_installed(conn, install_shipped_pack(data_dir, keys, party))
    engine.dispose()
    tighten(data_dir, settings.resolved_database_url)
    return open_node(settings)


class NoNodeHere(ConfigurationError):
    slug = "no-node-here"
    title = N_("No node in this data directory")


def require_node_directory(data_dir: Path) -> None:
    """Refuse a data directory that holds no node (a mistyped `--data`, most often), saying which directories do and
    how a node is made: before anything is looked for in it."""
    if data_dir.is_dir() and (data_dir / KEY_DIR).is_dir():
        return
    why = (
        _("there is no such directory") if not data_dir.is_dir() else _("it has no {keys}/ folder").format(keys=KEY_DIR)
    )
    raise NoNodeHere(
        _(
            "no node in {data_dir} ({why}): give --data a node's data directory (the sandbox's are var/ca and "
            "var/in), or make a node there with `accord node init --party CA --data {data_dir}` (or --party IN)"
        ).format(data_dir=data_dir, why=why)
    )


def open_node(settings: Settings, policy: DisclosurePolicy | None = None) -> Node:
    """The node in `settings.data_dir`, migrated; refused if its data directory or SQLite file is open to others."""
    require_node_directory(settings.data_dir)
    require_private(settings.data_dir, settings.resolved_database_url)
    registry = build_registry()
    key_dir = settings.data_dir / KEY_DIR
    keys = NodeKeys.load(key_dir)
    migrate(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        row = conn.execute(select(node_identity)).first()
        plan_missing = plan_is_empty(conn)
    if row is None:
        raise NoNodeHere(
            _(
                "the database {url} holds no node: is it the one `accord node init` made for {data_dir} "
                "(ACCORD_DATABASE_URL)?"
            ).format(
                url=make_url(settings.resolved_database_url).render_as_string(hide_password=True),
                data_dir=settings.data_dir,
            )
        )
    deployment = load_deployment(settings)
    shared = load_agreement(DEFAULT_AGREEMENT)
    if row.agreement != shared.id:
        raise ConfigurationError(
            _("database was initialised for agreement {agreement}, not {id}").format(
                agreement=row.agreement, id=shared.id
            )
        )
    agreement = deployment.agreement_for(shared)
    (settings.data_dir / BLOB_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
    if plan_missing:  # a node made before the work plan existed gets the default plan once
        with engine.begin() as conn:
            ensure_default_plan(conn, agreement, row.node_id)
    return Node(
        settings=settings,
        node_id=row.node_id,
        party=Party(row.party),
        agreement=agreement,
        keys=keys,
        engine=engine,
        policy=policy or InstalledPolicy(settings.data_dir, partial(_public_keys, key_dir), agreement, deployment),
        registry=registry,
        clock=clock_for(settings.clock_offset_file),
    )


def _public_keys(key_dir: Path) -> PublicKeys:
    """The node's public keys in force, read from its key files (a rotation replaces them while the node runs)."""
    return NodeKeys.load(key_dir).public


def create_app(node: Node, delivery_workers: int | None = None) -> FastAPI:
    """The node's ASGI application: the API, the web UI and TAXII, with the node's background jobs beside it
    (delivery workers, the start-up announcement, checkpoints, retention, the notifier) for the process's lifetime."""
    # The API and the web UI (FastAPI, their routes and pydantic models) take about a second to import: only a
    # serving process builds them, not a CLI command that opens the node.
    from fastapi import FastAPI

    from accord import api, web
    from accord.http.languages import RequestLanguage
    from accord.http.problems import install_problem_handlers
    from accord.http.request_ids import RequestIds

    workers = node.settings.delivery_workers if delivery_workers is None else delivery_workers
    monitoring = monitoring_for(node)
    # Started by the first routine batch large enough to use them, kept until the process stops.
    screen_workers = ScreenWorkers(node.settings.screen_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweep_incoming(node.settings.data_dir, INCOMPLETE_UPLOAD_S)
        stop = threading.Event()
        jobs: list[tuple[str, Callable[[], None]]] = [
            (f"delivery-{n}", partial(DeliveryWorker(node, watch=monitoring.watch, polls=n == 0).run, stop))
            for n in range(workers)
        ]
        if workers and node.settings.urgent_delivery_lane:
            lane = DeliveryWorker(node, watch=monitoring.watch, urgent_only=True)
            jobs.append(("delivery-urgent", partial(lane.run, stop)))
        jobs += [
            ("announce", partial(announce_when_listening, node, stop)),
            ("checkpoints", partial(run_checkpoints, node, stop)),
            ("retention", partial(run_retention, node, stop)),
            ("holdings-retention", partial(run_holdings_retention, node, stop)),
            ("notifier", partial(run_notifier, node, stop)),
        ]
        threads = [threading.Thread(target=job, name=name, daemon=True) for name, job in jobs]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            node.wake_delivery(urgent=True)
            for thread in threads:
                thread.join(timeout=10)
            screen_workers.close()
            node.close()

    app = FastAPI(
        title=f"Accord node {node.node_id} ({node.party})",
        version=__version__,
        description="Signed, encrypted, policy-checked exchange between the parties to the agreement.",
        lifespan=lifespan,
    )
    app.state.node = node
    app.state.monitoring = monitoring  # /metrics and /readyz
    # Per process: with several node processes on one PostgreSQL database, each admits this many uploads.
    app.state.upload_slots = UploadSlots(node.settings.max_concurrent_uploads, 2 * node.settings.max_envelope_age_s)
    app.state.batch_slots = UploadSlots(node.settings.max_concurrent_batches, 2 * node.settings.max_envelope_age_s)
    app.state.screen_workers = screen_workers
    install_problem_handlers(app)
    web.install(app)  # before the API: its error handler shows the UI's errors as pages, the rest as problems
    api.install(app, node)
    app.add_middleware(
        RequestLanguage, default=node.settings.language, zone=node.time_zone
    )  # outside the handlers: errors speak it too
    app.add_middleware(RequestIds)  # last, so outermost: every answer carries its request id
    return app


_FULL_COLLECTION_EVERY = 100


def prepare_for_traffic(node: Node) -> None:
    """Build now what the first message would otherwise wait for (the search index's word pattern, the screens:
    measured, the first urgent message after a start took 1.5 s more to decide than the next). Then: what
    start-up made (modules, schemas, the pack, the screens' term lists) lives as long as the process: moved
    out of the collector's generations, a full collection scans only what requests make. Measured on the send
    path: one message's policy screens 0.97 → 0.33 ms. For a node's own process only (objects frozen are never
    collected, so a process that opens many nodes, a test run, must not)."""
    warm_search_words()
    warm_policy(node.party, node.policy, node.agreement)
    gc.collect()
    gc.freeze()
    # With start-up's objects frozen, what requests keep a while (a batch of 500 drafts in hand) soon outnumbers the
    # quarter of the collected objects after which CPython collects them all: full collections came every second or
    # so under a bulk load, each stopping every thread for 50–200 ms (an urgent message's included). Ten times
    # fewer (every 100 collections of the middle generation, not 10); the young generations are collected as before.
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, _FULL_COLLECTION_EVERY)

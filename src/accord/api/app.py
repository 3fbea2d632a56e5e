"""Builds the node's ASGI application; delivery workers run beside it for the process's lifetime."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from accord import __version__
from accord.api import (
    audit,
    auth,
    cyber,
    directory,
    federation,
    messages,
    precursor_transfer,
    precursors,
    reviews,
    workplan,
)
from accord.api.problems import install_problem_handlers
from accord.api.taxii import install_taxii
from accord.exchange.delivery import DeliveryWorker
from accord.exchange.retention import run_retention
from accord.exchange.wake import announce_when_listening
from accord.focus import load_focus_modules
from accord.ledger.checkpoints import run_checkpoints
from accord.node import Node
from accord.web.install import install_web


def create_app(node: Node, delivery_workers: int | None = None) -> FastAPI:
    load_focus_modules()
    workers = node.settings.delivery_workers if delivery_workers is None else delivery_workers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        threads = [
            threading.Thread(target=DeliveryWorker(node).run, args=(stop,), name=f"delivery-{n}", daemon=True)
            for n in range(workers)
        ]
        threads.append(
            threading.Thread(target=announce_when_listening, args=(node, stop), name="announce", daemon=True)
        )
        threads.append(threading.Thread(target=run_checkpoints, args=(node, stop), name="checkpoints", daemon=True))
        threads.append(threading.Thread(target=run_retention, args=(node, stop), name="retention", daemon=True))
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            node.outbox_signal.set()
            for thread in threads:
                thread.join(timeout=10)
            node.close()

    app = FastAPI(
        title=f"Accord node {node.node_id} ({node.party})",
        version=__version__,
        description="Signed, encrypted, policy-checked exchange between the parties to the agreement.",
        lifespan=lifespan,
    )
    app.state.node = node
    install_problem_handlers(app)
    install_web(app)
    for router in (
        directory.router,
        auth.router,
        messages.router,
        reviews.router,
        workplan.router,
        precursors.router,
        precursor_transfer.router,
        cyber.router,
        audit.router,
        federation.router,
    ):
        app.include_router(router)
    install_taxii(app, node)  # after the other handlers: it answers errors under /taxii2/ as TAXII errors
    return app

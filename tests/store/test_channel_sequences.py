"""Channel sequence numbers: consecutive and never given twice, even when node processes race to a channel's first
message."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text

from accord.exchange.outbox import reserve_sequence
from accord.store.engine import make_engine
from accord.store.migrate import migrate
from tests.conftest import DatabaseFactory

CHANNEL = "ca-node-1>in-node-1"


def fresh(databases: DatabaseFactory) -> Engine:
    url = databases.new_url("sequences")
    migrate(url)
    return make_engine(url)


def _wait_until_blocked(engine: Engine, backend_pid: int, timeout_s: float = 10.0) -> None:
    """Until PostgreSQL's backend `backend_pid` waits for a lock: the race is then certain, not a matter of timing."""
    deadline = time.monotonic() + timeout_s
    with engine.connect() as conn:
        while (
            conn.scalar(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend_pid})
            != "Lock"
        ):
            assert time.monotonic() < deadline, "the second reservation never waited for the first"
            time.sleep(0.01)


def test_two_transactions_reserving_on_a_new_channel_at_once_get_consecutive_ranges(databases: DatabaseFactory) -> None:
    engine = fresh(databases)
    second: dict[str, object] = {}
    started = threading.Event()

    def reserve_second() -> None:
        try:
            if engine.dialect.name != "postgresql":
                started.set()  # SQLite: its BEGIN waits for the first writer's commit
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    second["pid"] = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
                    started.set()
                second["first"] = reserve_sequence(conn, CHANNEL, 3)
        except BaseException as exc:
            second["error"] = exc
            started.set()

    try:
        with engine.begin() as conn:
            first = reserve_sequence(conn, CHANNEL, 5)  # creates the channel's counter, not committed yet
            racing = threading.Thread(target=reserve_second)
            racing.start()
            started.wait(10)
            if "pid" in second:
                _wait_until_blocked(engine, int(str(second["pid"])))
        racing.join(30)
        assert "error" not in second, f"the second reservation failed: {second.get('error')!r}"
        assert (first, second["first"]) == (1, 6)
        with engine.begin() as conn:
            assert reserve_sequence(conn, CHANNEL, 1) == 9
    finally:
        engine.dispose()

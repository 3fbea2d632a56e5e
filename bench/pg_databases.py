"""Throw-away PostgreSQL databases for the benchmarks, created on a server they are given and dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import URL

from progress import log  # bench/progress.py, beside this script

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_reachable(admin_dsn: str) -> bool:
    try:
        with psycopg.connect(admin_dsn, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def libpq_dsn(sqlalchemy_url: str) -> str:
    """The DSN psycopg connects with, from the SQLAlchemy URL a node is given."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def postgres_database(admin_dsn: str, label: str = "bench") -> Iterator[str]:
    """A throw-away database on the server of admin_dsn, dropped on the way out; yields its SQLAlchemy URL."""
    name = f"accord_{label}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        admin = psycopg.conninfo.conninfo_to_dict(admin_dsn)
        url = URL.create(
            "postgresql+psycopg",
            username=str(admin.get("user", "postgres")),
            password=str(admin["password"]) if admin.get("password") else None,
            host=str(admin.get("host", "127.0.0.1")),
            port=int(admin.get("port") or 5432),
            database=name,
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        log(f"dropped PostgreSQL database {name}")

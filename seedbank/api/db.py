"""Read-only queries of the service over a small pool of RLS-bound connections.

Every query runs in a READ ONLY transaction bound to the caller's tenant
(``app.tenant_id``), and also filters on ``tenant_id``: RLS is the guarantee, the
filter lets PostgreSQL use the (tenant_id, id) primary key.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from seedbank.adapters.postgres import bind_tenant, connect
from seedbank.domain.errors import DatabaseUnavailable

WAIT_FOR_CONNECTION_S = 5.0


class ConnectionPool:
    """At most ``size`` connections, reused last-in first-out; a broken one is dropped."""

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._slots = threading.BoundedSemaphore(size)
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        if not self._slots.acquire(timeout=WAIT_FOR_CONNECTION_S):
            raise DatabaseUnavailable(
                "every database connection of the API stayed busy",
                fix="retry later or raise SEEDBANK_API_DB_POOL",
            )
        conn: psycopg.Connection | None = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = connect(self._url)
                conn.read_only = True
            yield conn
        except psycopg.Error:
            if conn is not None:
                conn.close()
            conn = None
            raise
        finally:
            if conn is not None and not conn.closed:
                self._idle.put(conn)
            self._slots.release()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def _select(table: str, columns: Sequence[str]) -> sql.Composed:
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    return sql.SQL("SELECT {} FROM {} WHERE tenant_id = %s").format(cols, sql.Identifier(table))


def read_page(
    conn: psycopg.Connection,
    *,
    tenant_id: uuid.UUID,
    table: str,
    columns: Sequence[str],
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Up to ``limit`` rows ordered by id, starting after ``after``."""
    query = _select(table, columns)
    args: list[Any] = [tenant_id]
    if after is not None:
        query += sql.SQL(" AND id > %s")
        args.append(after)
    query += sql.SQL(" ORDER BY id LIMIT %s")
    args.append(limit)
    with conn.transaction():
        bind_tenant(conn, tenant_id)
        return list(conn.execute(query, args).fetchall())


def read_one(
    conn: psycopg.Connection,
    *,
    tenant_id: uuid.UUID,
    table: str,
    columns: Sequence[str],
    row_id: uuid.UUID,
) -> tuple[Any, ...] | None:
    with conn.transaction():
        bind_tenant(conn, tenant_id)
        row: tuple[Any, ...] | None = conn.execute(
            _select(table, columns) + sql.SQL(" AND id = %s"), (tenant_id, row_id)
        ).fetchone()
        return row

"""Purging one mode's dataset of an env/tenant (FR-028, FR-016, right to be forgotten).

Children go before parents; each entity's rows and its checkpoints leave in one
transaction, so an interrupted purge leaves a consistent state that a re-run of the
seed (or of the purge) completes: purged entities are regenerated, intact ones are
skipped by their checkpoints.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import psycopg
from psycopg import sql

from seedbank.adapters.postgres import tenant_transaction
from seedbank.domain.models import DOMAIN_TABLES, table_name

CHILDREN_FIRST: tuple[str, ...] = tuple(table_name(m) for m in reversed(DOMAIN_TABLES))


Fence = Callable[[psycopg.Connection], None]
"""`RunLock.fence`: raises inside the transaction when the run's lease was taken over."""


def purge_dataset(
    conn: psycopg.Connection,
    *,
    tenant_id: uuid.UUID,
    env: str,
    mode: str,
    fence: Fence | None = None,
    deleted: dict[str, int] | None = None,
    stop: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Delete every row and checkpoint of `mode` for the tenant; returns rows per entity.

    `fence` runs first in every entity's transaction; `stop` runs between entities (it
    raises to interrupt at that boundary); `deleted` is filled as entities go, so a
    caller that was interrupted can say what was done.
    """
    deleted = {} if deleted is None else deleted
    for entity in CHILDREN_FIRST:
        if stop is not None:
            stop()
        with tenant_transaction(conn, tenant_id):
            if fence is not None:
                fence(conn)
            # The tenant row is shared by every mode (only `forget` removes it): drop
            # just this mode's checkpoint of it, so a reseed re-checks it.
            if entity != "tenant":
                cur = conn.execute(
                    sql.SQL("DELETE FROM {} WHERE tenant_id = %s AND dataset = %s").format(
                        sql.Identifier(entity)
                    ),
                    (tenant_id, mode),
                )
                deleted[entity] = cur.rowcount
            conn.execute(
                "DELETE FROM seed_checkpoint WHERE tenant_id = %s AND env = %s AND mode = %s"
                " AND entity = %s",
                (tenant_id, env, mode, entity),
            )
    return deleted


def dataset_exists(conn: psycopg.Connection, *, tenant_id: uuid.UUID, env: str, mode: str) -> bool:
    with tenant_transaction(conn, tenant_id):
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM seed_checkpoint WHERE tenant_id = %s AND env = %s"
            " AND mode = %s)",
            (tenant_id, env, mode),
        ).fetchone()
    return bool(row and row[0])


def expired_datasets(
    conn: psycopg.Connection, *, tenant_id: uuid.UUID, env: str, at: datetime | None = None
) -> list[tuple[str, datetime]]:
    """The modes of env/tenant whose TTL (FR-016) has passed at `at` (by default the
    database's clock), each with its earliest expiry: the one query expurge and the
    TTL guard both read."""
    with tenant_transaction(conn, tenant_id):
        rows = conn.execute(
            "SELECT mode, min(expires_at) FROM seed_checkpoint WHERE tenant_id = %s AND env = %s"
            " AND expires_at IS NOT NULL AND expires_at <= coalesce(%s::timestamptz, now())"
            " GROUP BY mode ORDER BY mode",
            (tenant_id, env, at),
        ).fetchall()
    return [(str(mode), expiry) for mode, expiry in rows]

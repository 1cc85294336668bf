"""Reading one dataset's rows back, as the RLS-bound application role sees them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from seedbank.domain.models import DOMAIN_TABLES, column_names, table_name
from seedbank.gates.model import GateTarget

ENTITY_ORDER: tuple[str, ...] = tuple(table_name(m) for m in DOMAIN_TABLES)
COLUMNS: dict[str, tuple[str, ...]] = {table_name(m): column_names(m) for m in DOMAIN_TABLES}
CHUNK = 5_000


def dataset_filter(entity: str, target: GateTarget) -> tuple[sql.Composed, tuple[Any, ...]]:
    """WHERE clause of this mode's dataset (the tenant row is shared by every mode)."""
    if entity == "tenant":
        return sql.SQL("tenant_id = %s").format(), (target.tenant_id,)
    return sql.SQL("tenant_id = %s AND dataset = %s").format(), (target.tenant_id, target.mode)


def dataset_select(
    entity: str,
    columns: Sequence[str],
    target: GateTarget,
    *,
    limit: int | None = None,
) -> tuple[sql.Composed, tuple[Any, ...]]:
    """SELECT of `columns` over this mode's dataset."""
    where, args = dataset_filter(entity, target)
    query = sql.SQL("SELECT {} FROM {} WHERE {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(entity), where
    )
    if limit is not None:
        # Row ids are keyed random bits: the first ids by order are a fair, stable sample.
        key = "tenant_id" if entity == "tenant" else "id"
        query += sql.SQL(" ORDER BY {} LIMIT %s").format(sql.Identifier(key))
        args += (limit,)
    return query, args


def stream(
    conn: psycopg.Connection, query: sql.Composed, args: Sequence[Any], *, name: str
) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of rows from a server-side cursor: memory stays flat on a 1 M-row table."""
    with conn.cursor(name=name) as cur:
        cur.itersize = CHUNK
        cur.execute(query, args)
        while chunk := cur.fetchmany(CHUNK):
            yield chunk

"""PostgreSQL's ceiling on this machine: the same rows, generated beforehand (not timed),
binary-COPYed by N loader processes into an empty clone of the schema (same PK, FK,
unique indexes and RLS; the owner role bypasses RLS, as COPY FROM requires).

Each loader generates its half of every entity up front, then all load entity by entity
in FK order: a barrier after each entity keeps parents committed before children.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from typing import Any

import psycopg
from psycopg import sql

from bench.probes import CpuMeter
from factories.planner import BatchSpec, generate_batch
from factories.rows import COLUMNS
from factories.spec import ENTITIES, DatasetSpec

CHUNK = 10_000
BARRIER_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class CeilingRun:
    rows: int
    seconds: float
    per_entity: dict[str, float]
    loaders: int


def share(count: int, loaders: int, k: int) -> tuple[int, int]:
    """Loader k's contiguous share [start, stop) of `count` rows."""
    return count * k // loaders, count * (k + 1) // loaders


def _column_types(conn: psycopg.Connection, table: str, columns: tuple[str, ...]) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a"
        " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
        (table,),
    ).fetchall()
    kinds = {str(n): str(t) for n, t in rows}
    return [kinds[c] for c in columns]


def _generate(spec: DatasetSpec, salt: bytes, loaders: int, k: int) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = {}
    for entity in ENTITIES:
        start, stop = share(spec.count(entity), loaders, k)
        out: list[Any] = []
        for s in range(start, stop, CHUNK):
            out += generate_batch(spec, BatchSpec(entity, s, min(s + CHUNK, stop)), salt).rows
        rows[entity] = out
    return rows


def _loader(
    url: str, spec: DatasetSpec, salt: bytes, loaders: int, k: int, barrier: Barrier
) -> None:
    try:
        rows = _generate(spec, salt, loaders, k)
        with psycopg.connect(url) as conn:
            types = {e: _column_types(conn, e, COLUMNS[e]) for e in ENTITIES}
            conn.commit()
            barrier.wait(BARRIER_TIMEOUT_S)  # every loader has its rows: the clock starts
            for entity in ENTITIES:
                columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS[entity])
                statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                    sql.Identifier(entity), columns
                )
                if rows[entity]:
                    with conn.cursor() as cur, cur.copy(statement) as copy:
                        copy.set_types(types[entity])
                        for row in rows[entity]:
                            copy.write_row(row)
                    conn.commit()
                rows[entity] = []  # free as we go
                barrier.wait(BARRIER_TIMEOUT_S)  # parents committed before any child loads
    except BaseException:
        barrier.abort()
        raise


def run_ceiling(
    admin_url: str, spec: DatasetSpec, salt: bytes, *, loaders: int, cpu: CpuMeter | None = None
) -> CeilingRun:
    """Wall time of the loads only (from every loader ready to the last entity committed)."""
    ctx = mp.get_context("fork")  # loaders inherit the spec; nothing is pickled back
    barrier = ctx.Barrier(loaders + 1)
    procs = [
        ctx.Process(
            target=_loader, args=(admin_url, spec, salt, loaders, k, barrier), name=f"copy-{k}"
        )
        for k in range(loaders)
    ]
    for p in procs:
        p.start()
    per_entity: dict[str, float] = {}
    try:
        barrier.wait(BARRIER_TIMEOUT_S)
        started = last = time.monotonic()
        if cpu is not None:
            cpu.start()  # the loads only, like the clock
        for entity in ENTITIES:
            barrier.wait(BARRIER_TIMEOUT_S)
            now = time.monotonic()
            per_entity[entity] = round(now - last, 3)
            last = now
    finally:
        for p in procs:
            p.join(timeout=60)
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit("bench: a COPY loader failed (see its traceback above)")
    rows = sum(spec.count(e) for e in ENTITIES)
    return CeilingRun(rows, last - started, per_entity, loaders)


def stored_rows(admin_url: str) -> int:
    """Rows in every domain table (a sanity check after the loads, not timed)."""
    total = 0
    with psycopg.connect(admin_url) as conn:
        for entity in ENTITIES:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(entity)))
            total += int(row.fetchone()[0])  # type: ignore[index]  # count(*) always answers
    return total

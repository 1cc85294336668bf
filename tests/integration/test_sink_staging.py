"""The sink's staging table: a batch in a transaction of its own starts from an empty
staging table without a TRUNCATE (no new file, no catalogue change per batch), and
batches sharing one transaction (a dry run) or following an aborted one still move
exactly their own rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from factories.planner import GeneratedBatch, generate_batch, plan
from factories.spec import DatasetSpec
from seedbank.adapters.postgres import bind_tenant
from seedbank.adapters.sink import BatchSink
from tests.support.checkpoints import checkpoint_of
from tests.support.databases import ScratchDatabase
from tests.unit.factories.support import GOLDEN_SALT, golden_spec

BATCH = 8  # the golden spec has 20 customers


def _batches(spec: DatasetSpec, entity: str) -> list[GeneratedBatch]:
    """Every batch before `entity`'s first (parents), then `entity`'s first two."""
    out: list[GeneratedBatch] = []
    seen = 0
    for batch in plan(spec, BATCH):
        if batch.entity == entity:
            seen += 1
        out.append(generate_batch(spec, batch, GOLDEN_SALT))
        if seen == 2:
            return out
    raise AssertionError(f"the golden spec has fewer than two batches of {entity}")


def _write(sink: BatchSink, spec: DatasetSpec, made: GeneratedBatch) -> int:
    checkpoint = checkpoint_of(spec, made.batch, made.digest)
    return sink.write(
        tenant_id=spec.tenant_id,
        table=made.batch.entity,
        columns=made.columns,
        rows=made.rows,
        checkpoint=checkpoint,
        record_checkpoint=False,
    ).rows


@contextmanager
def _customers(
    database: ScratchDatabase, tenant: str
) -> Iterator[tuple[psycopg.Connection, BatchSink, DatasetSpec, GeneratedBatch, GeneratedBatch]]:
    """A sink with every parent of the customers written, and two customer batches."""
    spec = golden_spec(tenant=tenant)
    *parents, first, second = _batches(spec, "customer")
    with psycopg.connect(database.app_url) as conn:
        sink = BatchSink(conn)
        for made in parents:
            _write(sink, spec, made)
        yield conn, sink, spec, first, second


def _stored(conn: psycopg.Connection, spec: DatasetSpec, table: str) -> int:
    bind_tenant(conn, spec.tenant_id)
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {} WHERE tenant_id = %s").format(sql.Identifier(table)),
        (spec.tenant_id,),
    ).fetchone()
    return int(row[0]) if row else -1


def _staging_file(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(
        "SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", (f"staging_{table}",)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_batches_of_their_own_transactions_keep_the_staging_file(
    database: ScratchDatabase,
) -> None:
    with _customers(database, "staging-own") as (conn, sink, spec, first, second):
        assert _write(sink, spec, first) == BATCH
        before = _staging_file(conn, "customer")
        conn.commit()  # the read above opened a transaction; the worker's batches have none
        assert _write(sink, spec, second) == BATCH
        assert _staging_file(conn, "customer") == before  # a TRUNCATE gives a new file
        assert _stored(conn, spec, "customer") == 2 * BATCH


def test_batches_sharing_one_transaction_move_only_their_own_rows(
    database: ScratchDatabase,
) -> None:
    with _customers(database, "staging-shared") as (conn, sink, spec, first, second):
        with conn.transaction(force_rollback=True):  # as a dry run writes
            assert _write(sink, spec, first) == BATCH
            # Left in staging, the first batch's rows would collide on the primary key.
            assert _write(sink, spec, second) == BATCH
            assert _stored(conn, spec, "customer") == 2 * BATCH
        assert _stored(conn, spec, "customer") == 0


def test_a_batch_after_an_aborted_one_moves_only_its_own_rows(
    database: ScratchDatabase,
) -> None:
    with _customers(database, "staging-aborted") as (conn, sink, spec, first, second):
        staging, types = sink.staging("customer", first.columns)
        try:
            with conn.transaction():
                bind_tenant(conn, spec.tenant_id)
                sink.copy_rows(staging, "customer", first.columns, types, first.rows)
                raise RuntimeError("the batch's worker dies before its commit")
        except RuntimeError:
            pass
        assert _stored(conn, spec, "customer") == 0
        assert _write(sink, spec, second) == BATCH
        assert _stored(conn, spec, "customer") == BATCH

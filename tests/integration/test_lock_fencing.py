"""The run lock's session dies mid-run and a second run takes the lock at once (issue 16).

Both runs are in-process pieces of a real run (the lock, the batch job's `execute_batch`
on its own sink connection, the load-mode purge), against a scratch database: the
stack's Celery worker runs main's code, so it cannot exercise this branch's fencing.
Run A writes a third of its batches, its lock session is terminated with
`pg_terminate_backend`, run B takes the lock at once, purges (load mode) and writes
every batch while A keeps going. Never may both succeed, and the data must end exactly
as a clean run leaves it.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from typing import Any

import psycopg
from psycopg import sql

from factories.digest import dataset_digest
from factories.planner import plan
from factories.spec import ENTITIES
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import bind_tenant, connect, tenant_transaction
from seedbank.adapters.purge import purge_dataset
from seedbank.adapters.sink import BatchSink
from seedbank.adapters.vault import Salt
from seedbank.domain.errors import SeedbankError
from seedbank.gates.stored_fold import fold_from_word_sums, fold_select
from seedbank.services.seeding import stages
from seedbank.services.seeding.batches import execute_batch
from tests.support.databases import ScratchDatabase
from tests.support.inprocess import expected_dataset_digest, record, run_lock, small_manifest

BATCH_SIZE = 100


def _stored_digest(
    db: ScratchDatabase, tenant_id: uuid.UUID, mode: str
) -> tuple[str, dict[str, int]]:
    folds: dict[str, int] = {}
    counts: dict[str, int] = {}
    with psycopg.connect(db.app_url) as conn:
        bind_tenant(conn, tenant_id)
        for entity in ENTITIES:
            args: tuple[Any, ...]
            if entity == "tenant":  # shared by every mode
                where, args = sql.SQL("t.tenant_id = %s"), (tenant_id,)
            else:
                where, args = sql.SQL("t.tenant_id = %s AND t.dataset = %s"), (tenant_id, mode)
            row = conn.execute(fold_select(entity, where), args).fetchone()
            assert row is not None
            counts[entity], folds[entity] = int(row[0]), fold_from_word_sums(row[1:])
    return dataset_digest(folds, counts), counts


def test_lock_session_killed_then_second_run_never_both_succeed(database: ScratchDatabase) -> None:
    manifest = small_manifest(batch_size=BATCH_SIZE)
    salt = Salt(version=1, value=secrets.token_bytes(32))
    run_a = stages.new_run(manifest, dry_run=False, actor="run-a")
    run_b = stages.new_run(manifest, dry_run=False, actor="run-b")
    ctx_a, ctx_b = run_a.ctx, run_b.ctx
    batches = list(plan(ctx_a.spec, BATCH_SIZE))
    first = len(batches) // 3

    lock_a = run_lock(database, run_a)
    lock_a.acquire(holder="run-a")
    record(database, run_a, salt)
    sink_a = BatchSink(connect(database.app_url))
    for batch in batches[:first]:
        execute_batch(sink_a, ctx_a, salt, batch)

    # The lock session dies (a DBA, a pooler, a network cut) and run B starts at once.
    with psycopg.connect(database.admin_url, autocommit=True) as admin:
        pid = admin.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
        assert pid is not None
        admin.execute("SELECT pg_terminate_backend(%s)", (pid[0],))
    lock_b = run_lock(database, run_b)
    lock_b.acquire(holder="run-b", wait_seconds=10)

    outcome: dict[str, Any] = {}
    # getattr: the same file runs unchanged against the base commit, to show it fails there.
    check_a = getattr(lock_a, "check", lambda: None)

    def rest_of_a() -> None:
        try:
            for batch in batches[first:]:
                execute_batch(sink_a, ctx_a, salt, batch)
            check_a()  # what the dispatcher's poll loop asks at every tick
            outcome["a"] = "succeeded"
        except SeedbankError as exc:
            outcome["a"] = exc

    a_thread = threading.Thread(target=rest_of_a)
    a_thread.start()
    record(database, run_b, salt)
    with connect(database.app_url) as conn:
        purge_dataset(conn, tenant_id=ctx_b.tenant_id, env=ctx_b.env, mode=ctx_b.mode)
    sink_b = BatchSink(connect(database.app_url))
    for batch in batches:
        execute_batch(sink_b, ctx_b, salt, batch)
    getattr(lock_b, "check", lambda: None)()
    a_thread.join(timeout=120)
    lock_b.release()

    assert outcome["a"] != "succeeded", "both runs succeeded: run A kept writing without its lock"
    assert isinstance(outcome["a"], SeedbankError)
    assert outcome["a"].exit_code == 12
    assert "lost" in outcome["a"].sentence()
    lock_a.release()  # on its dead session: must not raise

    # The data is exactly a clean run's: counts = manifest, every checkpoint run B's.
    digest, counts = _stored_digest(database, ctx_b.tenant_id, ctx_b.mode)
    assert counts == {e: ctx_b.spec.count(e) for e in ENTITIES}
    assert digest == expected_dataset_digest(ctx_b.spec, salt.value, BATCH_SIZE)
    with psycopg.connect(database.app_url) as conn:
        bind_tenant(conn, ctx_b.tenant_id)
        writers = conn.execute(
            "SELECT run_id, count(*), sum(row_count) FROM seed_checkpoint WHERE tenant_id = %s"
            " GROUP BY run_id",
            (ctx_b.tenant_id,),
        ).fetchall()
        statuses: dict[uuid.UUID, str] = dict(
            conn.execute(
                "SELECT id, status FROM seed_run WHERE tenant_id = %s", (ctx_b.tenant_id,)
            ).fetchall()
        )
    assert writers == [(ctx_b.run_id, len(batches), sum(counts.values()))]
    # B found A `running` without a live lock: A is marked abandoned.
    assert statuses[ctx_a.run_id] == "abandoned"


def test_lock_session_killed_without_a_taker_is_reacquired(database: ScratchDatabase) -> None:
    manifest = small_manifest(batch_size=BATCH_SIZE)
    run = stages.new_run(manifest, dry_run=False, actor="run-a")
    ctx = run.ctx
    with RunLock(
        database.app_url,
        env=ctx.env,
        tenant=ctx.tenant,
        tenant_id=ctx.tenant_id,
        run_id=ctx.run_id,
        heartbeat_s=0.2,
    ) as lock:
        epoch, pid = lock.epoch, lock.backend_pid
        with psycopg.connect(database.admin_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 30
        while lock.backend_pid in (None, pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        lock.check()  # still ours: no LeaseLost
        assert lock.backend_pid not in (None, pid)
        assert (lock.epoch or 0) > (epoch or 0) > 0
        with connect(database.app_url) as conn, tenant_transaction(conn, ctx.tenant_id):
            lock.fence(conn)  # the new epoch fences
    with psycopg.connect(database.app_url) as conn:
        bind_tenant(conn, ctx.tenant_id)
        left = conn.execute("SELECT count(*) FROM seed_lease").fetchone()
    assert left == (0,)

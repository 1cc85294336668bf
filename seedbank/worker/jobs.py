"""The Celery batch job: serialisation, retries and slots here; the work in `batches`."""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

import psycopg
import redis
import structlog
from celery import Task, shared_task
from celery.signals import worker_process_init, worker_ready

from factories.planner import BatchSpec
from seedbank.adapters.concurrency import TenantSemaphore, release_stale
from seedbank.adapters.postgres import connect
from seedbank.adapters.sink import BatchSink
from seedbank.adapters.vault import Salt
from seedbank.bootstrap import vault_client
from seedbank.domain.errors import (
    BrokerUnavailable,
    DatabaseUnavailable,
    SeedbankError,
    VaultUnavailable,
)
from seedbank.observability import metrics
from seedbank.observability.alerts import init_sentry
from seedbank.observability.logs import configure_logging
from seedbank.observability.tracing import configure_tracing
from seedbank.services.seeding.batches import RunContext, execute_batch, load_run_context
from seedbank.services.status_metrics import StatusCollector
from seedbank.settings import Settings, settings_or_exit

_SETTINGS = settings_or_exit()  # Celery imports this module: a bad setting is one sentence
#: Databases a worker may write to: the demo's and the test suite's scratch ones.
ALLOWED_DATABASES = re.compile(_SETTINGS.worker_databases)
TENANT_CONCURRENCY = _SETTINGS.tenant_concurrency
SLOT_TTL_S = 300
SLOT_WAIT_S = 0.5
SLOT_WAITS = int(SLOT_TTL_S / SLOT_WAIT_S) + 20
BOOT = uuid.uuid4().hex[:12]
"""This worker node's incarnation: set in the main process, inherited by the pool."""


class _WorkerState:
    """Per worker process: connections, run contexts and salts kept in memory only."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.sinks: dict[str, BatchSink] = {}
        self.conns: dict[str, psycopg.Connection] = {}
        self.runs: dict[uuid.UUID, RunContext] = {}
        self.salts: dict[uuid.UUID, Salt] = {}
        self.vault = vault_client(self.settings)
        self.redis = redis.Redis.from_url(
            self.settings.redis_url, socket_timeout=3, socket_connect_timeout=3
        )

    def conn(self, database: str) -> psycopg.Connection:
        conn = self.conns.get(database)
        if conn is None or conn.closed:
            url = psycopg.conninfo.make_conninfo(self.settings.database_url, dbname=database)
            conn = connect(url)
            self.conns[database] = conn
            self.sinks[database] = BatchSink(
                conn, set_based_references=self.settings.set_based_references
            )
        return conn

    def forget(self, database: str) -> None:
        conn = self.conns.pop(database, None)
        self.sinks.pop(database, None)
        if conn is not None:
            conn.close()


_state: _WorkerState | None = None
log = structlog.get_logger()


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _configure_process(**_: Any) -> None:
    """Each pool process sets up logging, tracing and Sentry once, like every entry point."""
    configure_logging(json=True)
    configure_tracing("celery-worker")
    init_sentry("celery-worker")


@worker_ready.connect  # type: ignore[untyped-decorator]
def _serve_metrics(**_: Any) -> None:
    """The worker's main process exposes /metrics for all its pool processes."""
    port = _SETTINGS.worker_metrics_port
    if port:
        metrics.serve(port, extra=[StatusCollector()], addr=str(_SETTINGS.worker_metrics_addr))


@worker_ready.connect  # type: ignore[untyped-decorator]
def _free_stale_slots(sender: Any = None, **_: Any) -> None:
    """A node restarted after a SIGKILL frees the tenant slots its dead processes held."""
    node = getattr(sender, "hostname", None)
    if not node:
        return
    # Not `state()`: the pool processes fork from this one and must build their own.
    client = redis.Redis.from_url(Settings().redis_url, socket_timeout=3, socket_connect_timeout=3)
    try:
        with client:
            freed = release_stale(client, node=node, boot=BOOT)
    except redis.RedisError as exc:  # the slots still expire by themselves
        log.warning("stale tenant slots not freed", error=type(exc).__name__)
        return
    if freed:
        log.info("stale tenant slots freed", node=node, slots=freed)


def state() -> _WorkerState:
    global _state  # noqa: PLW0603  (one lazily built state per worker process)
    if _state is None:
        _state = _WorkerState()
    return _state


@shared_task(name="seedbank.seed_batch", bind=True, max_retries=8)  # type: ignore[untyped-decorator]
def seed_batch(
    self: Task, *, run_id: str, tenant_id: str, database: str, entity: str, start: int, stop: int
) -> dict[str, Any]:
    if not ALLOWED_DATABASES.fullmatch(database):
        raise ValueError(f"database {database!r} is not one this worker may write to")
    st = state()
    run, tenant = uuid.UUID(run_id), uuid.UUID(tenant_id)
    ctx: RunContext | None = None
    try:
        conn = st.conn(database)
        ctx = st.runs.get(run) or load_run_context(conn, run_id=run, tenant_id=tenant)
        st.runs[run] = ctx
        salt = st.salts.get(run) or st.vault.read_salt(
            ctx.env, ctx.tenant, version=ctx.salt_version
        )
        st.salts[run] = salt
        slots = TenantSemaphore(
            st.redis, env=ctx.env, tenant=ctx.tenant, limit=TENANT_CONCURRENCY, ttl_s=SLOT_TTL_S
        )
        structlog.contextvars.bind_contextvars(
            run_id=run_id, tenant=ctx.tenant, env=ctx.env, mode=ctx.mode, stage="seed-batch"
        )
        token = slots.try_acquire(holder=f"{self.request.hostname}/{BOOT}/{os.getpid()}/")
        if token is None:
            # Waiting for a slot is not a failure: wait as long as a dead holder's slot lives.
            raise self.retry(countdown=SLOT_WAIT_S, max_retries=SLOT_WAITS)
        labels = {"tenant": ctx.tenant, "env": ctx.env, "mode": ctx.mode}
        started = time.monotonic()
        try:
            outcome = execute_batch(st.sinks[database], ctx, salt, BatchSpec(entity, start, stop))
        except SeedbankError:
            metrics.BATCHES.labels(**labels, entity=entity, outcome="failed").inc()
            raise
        finally:
            slots.release(token)
        seconds = time.monotonic() - started
        metrics.BATCH_SECONDS.labels(**labels, entity=entity).observe(seconds)
        metrics.ROWS_WRITTEN.labels(**labels, entity=entity).inc(outcome.rows)
        metrics.BATCHES.labels(
            **labels, entity=entity, outcome="skipped" if outcome.skipped else "written"
        ).inc()
        log.info(
            "batch written" if not outcome.skipped else "batch skipped (checkpoint exists)",
            entity=entity,
            start=start,
            stop=stop,
            rows=outcome.rows,
            seconds=round(seconds, 3),
        )
    except (
        DatabaseUnavailable,
        VaultUnavailable,
        BrokerUnavailable,
        psycopg.OperationalError,
    ) as exc:
        st.forget(database)
        metrics.BATCH_RETRIES.labels(
            tenant=ctx.tenant if ctx else "?",
            env=ctx.env if ctx else "?",
            mode=ctx.mode if ctx else "?",
        ).inc()
        log.warning(
            "batch will be retried", entity=entity, start=start, error=exc.__class__.__name__
        )
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30)) from None
    finally:
        structlog.contextvars.clear_contextvars()
    return {
        "entity": outcome.entity,
        "start": outcome.start,
        "stop": outcome.stop,
        "rows": outcome.rows,
        "digest": outcome.digest,
        "fold": outcome.fold,
        "skipped": outcome.skipped,
    }

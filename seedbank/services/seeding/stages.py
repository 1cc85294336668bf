"""The stages of one seed run, as plain functions (Prefect tasks wrap them thinly).

lock → salt check → WORM preflight → batched seeding → verification → evidence →
release. Each stage before seeding fails closed: nothing is written but the audit.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from factories.digest import combine_folds, dataset_digest
from factories.planner import plan
from factories.references import parent_spans
from factories.spec import GENERATOR_VERSION
from seedbank.adapters import audit, interrupts
from seedbank.adapters.dataset_format import refuse_other_format
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect, tenant_transaction
from seedbank.adapters.purge import dataset_exists, purge_dataset
from seedbank.adapters.sink import BatchSink
from seedbank.adapters.vault import Salt
from seedbank.bootstrap import Wiring
from seedbank.domain.errors import SaltMismatch, UsageError, VerificationFailed
from seedbank.domain.manifest import MODES, Manifest
from seedbank.domain.models import DOMAIN_TABLES, ENTITY_PARENTS, table_name
from seedbank.gates import (
    GateResult,
    GateTarget,
    failure_sentence,
    run_gates,
    run_gates_rolled_back,
    smoke_config,
)
from seedbank.observability import progress
from seedbank.services.seeding import policy
from seedbank.services.seeding.batches import RunContext, execute_batch
from seedbank.services.seeding.dataset import dataset_spec, queue_name
from seedbank.services.seeding.dispatch import Dispatcher, DispatchTarget, check_deadline
from seedbank.services.seeding.policy import PolicyOutcome
from seedbank.services.seeding.schedule import Schedule

ENTITY_ORDER: tuple[str, ...] = tuple(table_name(m) for m in DOMAIN_TABLES)


@dataclass
class RunState:
    """What one run carries from stage to stage (in the flow's process only)."""

    ctx: RunContext
    dry_run: bool
    actor: str
    lock: RunLock | None = None
    salt: Salt | None = None
    batches: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    dataset_digest: str = ""
    evidence: dict[str, Any] | None = None
    recorded: bool = False
    breakglass: str | None = None
    policy: PolicyOutcome | None = None
    deadline: datetime | None = None
    purged: dict[str, int] | None = None
    gates: list[GateResult] = field(default_factory=list)


def new_run(
    manifest: Manifest,
    *,
    dry_run: bool,
    actor: str,
    mode: str | None = None,
    breakglass: str | None = None,
) -> RunState:
    if mode is not None and mode != manifest.mode:
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r}", fix=f"use one of {', '.join(MODES)}")
        manifest = manifest.model_copy(update={"mode": mode})
    spec = dataset_spec(manifest)
    ctx = RunContext(
        run_id=uuid.uuid4(),  # a run is an event: its id is unique, not derived
        tenant_id=spec.tenant_id,
        manifest=manifest,
        spec=spec,
        started_at=datetime.now(UTC),
    )
    return RunState(ctx=ctx, dry_run=dry_run, actor=actor, breakglass=breakglass)


def check_policy(w: Wiring, run: RunState, *, context: str) -> None:
    """The run-policy guards, before the lock (window, budget, FR-017, TTL debt)."""
    run.policy = policy.evaluate(
        w.settings.database_url,
        run.ctx,
        context=context,
        breakglass=run.breakglass,
        actor=run.actor,
    )
    run.deadline = policy.slo_deadline(run.ctx.started_at, run.policy.slo_seconds)


def purge_previous(w: Wiring, run: RunState) -> None:
    """Load and DR re-runs start from nothing: their previous dataset goes first (FR-028)."""
    ctx = run.ctx
    if ctx.mode == "baseline" or run.dry_run:
        return
    with connect(w.settings.database_url) as conn:
        if not dataset_exists(conn, tenant_id=ctx.tenant_id, env=ctx.env, mode=ctx.mode):
            return
        run.purged = purge_dataset(
            conn,
            tenant_id=ctx.tenant_id,
            env=ctx.env,
            mode=ctx.mode,
            fence=run.lock.fence if run.lock is not None else None,
            stop=interrupts.check,
        )
    audit.note(
        w.settings.database_url,
        ctx.subject(run.actor),
        event="purge",
        outcome="done",
        reason=f"purged the previous {ctx.mode} dataset before re-creating it (FR-028)",
        detail={"mode": ctx.mode, "deleted": run.purged},
    )


def acquire_lock(w: Wiring, run: RunState, *, wait_seconds: float) -> None:
    ctx = run.ctx
    # Entered here, exited by the flow's `release` task in its `finally` (never raises).
    run.lock = RunLock(
        w.settings.database_url,
        env=ctx.env,
        tenant=ctx.tenant,
        tenant_id=ctx.tenant_id,
        run_id=ctx.run_id,
        holder=run.actor,
        wait_seconds=wait_seconds,
    ).__enter__()


def check_salt(w: Wiring, run: RunState) -> None:
    """Manifest, Vault and existing checkpoints must agree on the salt version (FR-024)."""
    ctx = run.ctx
    pinned = ctx.salt_version
    current = w.vault.current_salt_version(ctx.env, ctx.tenant)
    if current is None:
        raise SaltMismatch(
            f"Vault has no salt for {ctx.env}/{ctx.tenant}",
            fix="create it with `seed_data salt init` (dev/CI) or in the Vault pipeline",
        )
    if current != pinned:
        raise SaltMismatch(
            f"the manifest pins salt version {pinned} but Vault's current version is {current}",
            fix="coordinate a purge and reseed, then set pii.salt_version to the new version",
        )
    run.salt = w.vault.read_salt(ctx.env, ctx.tenant, version=pinned)
    if ctx.mode != "baseline":
        return  # a load/DR run purges its previous dataset first: old salts go with it
    with connect(w.settings.database_url) as conn, tenant_transaction(conn, ctx.tenant_id):
        rows = conn.execute(
            "SELECT DISTINCT salt_version FROM seed_checkpoint WHERE tenant_id = %s AND env = %s"
            " AND mode = %s",
            (ctx.tenant_id, ctx.env, ctx.mode),
        ).fetchall()
        seeded = conn.execute(
            "SELECT salt_fingerprint FROM seed_run WHERE tenant_id = %s AND env = %s AND mode = %s"
            " AND status = 'succeeded' AND salt_version = %s AND salt_fingerprint IS NOT NULL"
            " ORDER BY started_at DESC LIMIT 1",
            (ctx.tenant_id, ctx.env, ctx.mode, pinned),
        ).fetchone()
        refuse_other_format(
            conn, tenant_id=ctx.tenant_id, env=ctx.env, tenant=ctx.tenant, mode=ctx.mode
        )
        # The runs that wrote the checkpoints, succeeded or not: after a failed first run
        # a changed salt would otherwise surface as "the generator changed" (exit 9).
        writers = conn.execute(
            "SELECT DISTINCT r.salt_fingerprint FROM seed_checkpoint c JOIN seed_run r"
            " ON r.tenant_id = c.tenant_id AND r.id = c.run_id WHERE c.tenant_id = %s"
            " AND c.env = %s AND c.mode = %s AND c.salt_version = %s"
            " AND r.salt_fingerprint IS NOT NULL",
            (ctx.tenant_id, ctx.env, ctx.mode, pinned),
        ).fetchall()
    fingerprints = {r[0] for r in writers} | ({seeded[0]} if rows and seeded else set())
    others = sorted(r[0] for r in rows if r[0] != pinned)
    if others:
        raise SaltMismatch(
            f"the {ctx.mode} dataset of {ctx.env}/{ctx.tenant} was seeded with salt version"
            f" {others[0]}, not {pinned}",
            fix="purge it (`seed_data purge`) and reseed with the new salt version",
        )
    if fingerprints - {run.salt.fingerprint}:
        raise SaltMismatch(
            f"Vault's salt version {pinned} for {ctx.env}/{ctx.tenant} is not the salt the"
            " dataset was seeded with (did Vault lose its data?)",
            fix="purge the dataset (`seed_data purge`) and reseed",
        )


def worm_preflight(w: Wiring, run: RunState) -> None:
    """The evidence store must enforce COMPLIANCE retention and accept a write (FR-023)."""
    w.worm.check_object_lock()
    if run.dry_run:
        return  # a dry run publishes nothing, not even its intent
    ctx = run.ctx
    w.worm.put_json(
        f"intents/{ctx.env}/{ctx.tenant}/{ctx.run_id}.json",
        {
            "run_id": str(ctx.run_id),
            "env": ctx.env,
            "tenant": ctx.tenant,
            "mode": ctx.mode,
            "manifest_digest": ctx.spec.manifest_digest,
            "salt_version": ctx.salt_version,
            "started_at": ctx.started_at.isoformat(),
            "actor": run.actor,
        },
        retain_until=ctx.started_at + timedelta(days=w.settings.evidence_retention_days),
    )


def record_run(w: Wiring, run: RunState, conn: psycopg.Connection | None = None) -> None:
    """Store the validated manifest with the run: every worker reads exactly this."""
    ctx = run.ctx
    statement = (
        "INSERT INTO seed_run (tenant_id, id, env, tenant, mode, status, dry_run, manifest_digest,"
        " salt_version, salt_fingerprint, manifest, expires_at, started_at, generator_version)"
        " VALUES (%s, %s, %s, %s, %s, 'running', %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    params = (
        ctx.tenant_id,
        ctx.run_id,
        ctx.env,
        ctx.tenant,
        ctx.mode,
        run.dry_run,
        ctx.spec.manifest_digest,
        ctx.salt_version,
        run.salt.fingerprint if run.salt else None,
        psycopg.types.json.Jsonb(ctx.manifest.model_dump(mode="json")),
        ctx.expires_at,
        ctx.started_at,
        GENERATOR_VERSION,
    )
    if conn is not None:
        conn.execute(statement, params)
    else:
        with connect(w.settings.database_url) as own, tenant_transaction(own, ctx.tenant_id):
            own.execute(statement, params)
    run.recorded = True


def seed_with_celery(w: Wiring, run: RunState) -> None:
    ctx = run.ctx
    dispatcher = Dispatcher(
        w.celery,
        DispatchTarget(
            run_id=ctx.run_id,
            tenant_id=ctx.tenant_id,
            database=w.database,
            queue=queue_name(ctx.manifest),
            labels={"tenant": ctx.tenant, "env": ctx.env, "mode": ctx.mode},
        ),
        stall_s=w.settings.batch_stall_seconds,
        expires_s=w.settings.batch_expires_seconds,
        window=w.settings.batch_window,
        deadline=run.deadline,
        check=lambda: _still_ours(run),
    )
    schedule = Schedule.of(
        plan(ctx.spec, ctx.manifest.generation.batch_size),
        ENTITY_PARENTS,
        ENTITY_ORDER,
        needs=lambda batch, parent: parent_spans(
            ctx.spec, batch.entity, parent, batch.start, batch.stop
        ),
    )
    reporter = progress.current()
    started: dict[str, float] = {}

    def released(entity: str) -> None:
        started[entity] = time.monotonic()
        reporter.entity_started(entity, ctx.spec.count(entity))

    def finished(entity: str) -> None:
        run.timings[entity] = round(time.monotonic() - started[entity], 3)

    def done(outcome: dict[str, Any]) -> None:
        run.batches.append(outcome)  # as they land: a failure later can say what is written
        _report_batch(outcome)

    dispatcher.ensure_consumers()
    try:
        dispatcher.run(schedule, on_done=done, on_released=released, on_finished=finished)
    finally:
        dispatcher.revoke_outstanding()


def _still_ours(run: RunState) -> None:
    """Asked at every dispatcher tick: the lease is still ours and no SIGINT/SIGTERM came."""
    if run.lock is not None:
        run.lock.check()
    interrupts.check()


def _report_batch(outcome: dict[str, Any]) -> None:
    progress.current().batch_done(
        outcome["entity"], outcome["stop"] - outcome["start"], skipped=outcome["skipped"]
    )


def seed_in_transaction(run: RunState, conn: psycopg.Connection) -> None:
    """Dry run: every batch in the caller's transaction (rolled back later), no checkpoints."""
    ctx = run.ctx
    assert run.salt is not None
    sink = BatchSink(conn)
    reporter = progress.current()
    for batch in plan(ctx.spec, ctx.manifest.generation.batch_size):
        check_deadline(run.deadline)
        if batch.start == 0:
            reporter.entity_started(batch.entity, ctx.spec.count(batch.entity))
        outcome = execute_batch(sink, ctx, run.salt, batch, dry_run=True)
        run.batches.append(asdict(outcome))
        _report_batch(run.batches[-1])


def verify(w: Wiring, run: RunState, conn: psycopg.Connection | None = None) -> None:
    """Every verification gate (`seedbank.gates`) over the run's dataset.

    After a normal seed the gates read on their own connection in a transaction that is
    rolled back; a dry run passes its own transaction. Results stay on `run.gates` (for
    the report and the summary); any failed gate raises `VerificationFailed` naming the
    gate, entity, row id and field, never a value.
    """
    ctx = run.ctx
    folds: dict[str, int] = {}
    for b in run.batches:
        folds[b["entity"]] = combine_folds((folds.get(b["entity"], 0), int(b["fold"], 16)))
    run.dataset_digest = dataset_digest(folds, {e: ctx.spec.count(e) for e in ENTITY_ORDER})
    target = GateTarget(
        spec=ctx.spec,
        salt_version=ctx.salt_version,
        run_id=ctx.run_id,
        generated_folds=folds,
        audit_url=w.settings.database_url,
        actor=run.actor,
        dry_run=run.dry_run,
        reader_url=w.settings.database_url,
    )
    _run_gates(w, run, conn, target)
    if any(g.failed for g in run.gates):
        raise VerificationFailed(
            failure_sentence(run.gates),
            fix="the run report lists every finding; purge and reseed once the cause is fixed",
        )


def _run_gates(
    w: Wiring, run: RunState, conn: psycopg.Connection | None, target: GateTarget
) -> None:
    salt = run.salt.value if run.salt is not None else None
    smoke = smoke_config(w.settings.redis_url, run.ctx.manifest.rate_limit)
    if conn is None:
        url, tenant_id = w.settings.database_url, run.ctx.tenant_id
        run.gates = run_gates_rolled_back(url, tenant_id, target, salt=salt, smoke=smoke)
    else:
        run.gates = run_gates(conn, target, salt=salt, smoke=smoke)
    for gate in run.gates:
        if gate.name == "counts" and isinstance(gate.figures.get("found"), dict):
            run.counts = dict(gate.figures["found"])

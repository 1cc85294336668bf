"""One batch, from its spec to committed rows: what a Celery job (or a dry run) executes.

A batch message carries only the run id, the tenant id, the target database's
name and an index range; everything else is re-derived here from the run's stored
manifest and the salt this process reads from Vault itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from factories.planner import BatchSpec, generate_batch
from factories.spec import DatasetSpec
from seedbank.adapters import audit
from seedbank.adapters.postgres import bind_tenant
from seedbank.adapters.sink import BatchSink, Checkpoint
from seedbank.adapters.vault import Salt
from seedbank.domain.errors import SaltMismatch, SeedbankError
from seedbank.domain.manifest import Manifest
from seedbank.services.seeding.dataset import dataset_spec


@dataclass(frozen=True)
class RunContext:
    run_id: uuid.UUID
    tenant_id: uuid.UUID
    manifest: Manifest
    spec: DatasetSpec
    started_at: datetime

    @property
    def env(self) -> str:
        return self.manifest.metadata.env

    @property
    def tenant(self) -> str:
        return self.manifest.metadata.tenant

    @property
    def mode(self) -> str:
        return self.manifest.mode

    def subject(self, actor: str) -> audit.Subject:
        """This run's env/tenant and `actor`, for its audit rows."""
        return audit.Subject(self.tenant_id, self.env, self.tenant, actor, self.run_id)

    @property
    def salt_version(self) -> int:
        return self.manifest.pii.salt_version

    @property
    def expires_at(self) -> datetime | None:
        hours = self.manifest.ttl.hours(self.mode)
        return None if hours is None else self.started_at + timedelta(hours=hours)


@dataclass(frozen=True)
class BatchOutcome:
    entity: str
    start: int
    stop: int
    rows: int
    digest: str
    fold: str
    """This batch's share of the batch-size-independent dataset digest (hex)."""
    skipped: bool


def load_run_context(
    conn: psycopg.Connection, *, run_id: uuid.UUID, tenant_id: uuid.UUID
) -> RunContext:
    with conn.transaction():
        bind_tenant(conn, tenant_id)
        row = conn.execute(
            "SELECT manifest, started_at FROM seed_run WHERE tenant_id = %s AND id = %s",
            (tenant_id, run_id),
        ).fetchone()
    if row is None:
        raise SeedbankError(
            f"run {run_id} is not recorded in this database",
            fix="dispatch batches only for runs the seed flow started",
        )
    manifest = Manifest.model_validate(row[0])
    return RunContext(
        run_id=run_id,
        tenant_id=tenant_id,
        manifest=manifest,
        spec=dataset_spec(manifest),
        started_at=row[1],
    )


def execute_batch(
    sink: BatchSink, ctx: RunContext, salt: Salt, batch: BatchSpec, *, dry_run: bool = False
) -> BatchOutcome:
    """Generate, mask and write one batch with its checkpoint (or skip it if done)."""
    if salt.version != ctx.salt_version:
        raise SaltMismatch(
            f"this worker read salt version {salt.version}, but run {ctx.run_id} pinned"
            f" version {ctx.salt_version}",
            fix="let the run finish or fail, then purge and reseed with one salt version",
        )
    generated = generate_batch(ctx.spec, batch, salt.value)
    result = sink.write(
        tenant_id=ctx.tenant_id,
        table=batch.entity,
        columns=generated.columns,
        rows=generated.rows,
        checkpoint=Checkpoint(
            run_id=ctx.run_id,
            env=ctx.env,
            mode=ctx.mode,
            entity=batch.entity,
            batch_start=batch.start,
            batch_stop=batch.stop,
            digest=generated.digest,
            salt_version=salt.version,
            manifest_digest=ctx.spec.manifest_digest,
            expires_at=ctx.expires_at,
            created_at=datetime.now(UTC),
        ),
        record_checkpoint=not dry_run,
    )
    return BatchOutcome(
        entity=batch.entity,
        start=batch.start,
        stop=batch.stop,
        rows=result.rows,
        digest=generated.digest,
        fold=f"{generated.fold:064x}",
        skipped=result.skipped,
    )

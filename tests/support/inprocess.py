"""In-process pieces of a seed run (lock, batch job, purge) for tests of this branch's code.

The stack's Celery worker runs main's code, so tests of the write path call the batch
job's `execute_batch` directly, each "run" on its own sink connection.
"""

from __future__ import annotations

import secrets
from typing import Any, cast

import yaml

from factories.digest import combine_folds, dataset_digest
from factories.planner import generate_batch, plan
from factories.spec import ENTITIES, DatasetSpec
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect, tenant_transaction
from seedbank.adapters.profiles import default_profiles_dir
from seedbank.adapters.sink import BatchSink
from seedbank.adapters.vault import Salt
from seedbank.domain.manifest import Manifest
from seedbank.services.seeding import stages
from seedbank.services.seeding.batches import execute_batch
from tests.support.databases import ScratchDatabase


def small_manifest(*, mode: str = "load", batch_size: int = 100) -> Manifest:
    """dev/acme's manifest for a fresh tenant, in `mode`, with small batches."""
    data = yaml.safe_load((default_profiles_dir() / "dev" / "acme.yaml").read_text())
    data["metadata"]["tenant"] = f"t-{secrets.token_hex(5)}"
    data["mode"] = mode
    data["generation"]["batch_size"] = batch_size
    return Manifest.model_validate(data)


def expected_dataset_digest(spec: DatasetSpec, salt: bytes, batch_size: int) -> str:
    """The dataset digest a faithful seed produces, regenerated serially in this process
    (the test oracle; rows streamed, none kept)."""
    folds: dict[str, int] = {}
    for batch in plan(spec, batch_size):
        generated = generate_batch(spec, batch, salt)
        folds[batch.entity] = combine_folds((folds.get(batch.entity, 0), generated.fold))
    return dataset_digest(folds, {e: spec.count(e) for e in ENTITIES})


def run_lock(db: ScratchDatabase, run: stages.RunState) -> RunLock:
    ctx = run.ctx
    return RunLock(
        db.app_url, env=ctx.env, tenant=ctx.tenant, tenant_id=ctx.tenant_id, run_id=ctx.run_id
    )


def record(db: ScratchDatabase, run: stages.RunState, salt: Salt) -> None:
    """The `seed_run` row the flow writes before dispatching (its manifest, its salt)."""
    run.salt = salt
    with connect(db.app_url) as conn, tenant_transaction(conn, run.ctx.tenant_id):
        stages.record_run(cast(Any, None), run, conn)


def write_dataset(db: ScratchDatabase, manifest: Manifest, salt: Salt) -> stages.RunState:
    """A whole dataset written under its run's lock, as a finished run leaves it."""
    run = stages.new_run(manifest, dry_run=False, actor="test-writer")
    with run_lock(db, run):
        record(db, run, salt)
        with connect(db.app_url) as conn:
            sink = BatchSink(conn)
            for batch in plan(run.ctx.spec, manifest.generation.batch_size):
                execute_batch(sink, run.ctx, salt, batch)
    return run

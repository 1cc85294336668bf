"""Same manifest + salt => same stored dataset digest, whatever the worker count and batch
size (issue 17): 1, 2 and 4 concurrent writers, each batch on its own connection, batches
of an entity finished in a shuffled order, each into its own database."""

from __future__ import annotations

import random
import secrets
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql

from factories.digest import dataset_digest
from factories.planner import BatchSpec, plan
from factories.spec import ENTITIES
from seedbank.adapters.postgres import connect
from seedbank.adapters.sink import BatchSink
from seedbank.adapters.vault import Salt
from seedbank.domain.manifest import Manifest
from seedbank.gates.stored_fold import UTF8_SETTINGS, fold_from_word_sums, fold_select
from seedbank.services.seeding import stages
from seedbank.services.seeding.batches import execute_batch
from tests.support.databases import ScratchDatabase, temporary_database
from tests.support.inprocess import expected_dataset_digest, record, run_lock, small_manifest


def _seed(db: ScratchDatabase, manifest: Manifest, salt: Salt, workers: int, size: int) -> None:
    run = stages.new_run(manifest, dry_run=False, actor="test-workers")
    batches = plan(run.ctx.spec, size)

    def write(batch: BatchSpec) -> None:
        with connect(db.app_url) as conn:
            execute_batch(BatchSink(conn), run.ctx, salt, batch)

    with run_lock(db, run):
        record(db, run, salt)
        for entity in ENTITIES:  # parents first, as the flow's dependencies order them
            mine = [b for b in batches if b.entity == entity]
            random.Random(workers).shuffle(mine)
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(write, mine))


def _stored_digest(db: ScratchDatabase, manifest: Manifest) -> str:
    spec = stages.new_run(manifest, dry_run=True, actor="test-workers").ctx.spec
    folds, counts = {}, {}
    with psycopg.connect(db.admin_url) as conn:
        for name, value in UTF8_SETTINGS.items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        for entity in ENTITIES:
            row = conn.execute(
                fold_select(entity, sql.SQL("tenant_id = %s")), (spec.tenant_id,)
            ).fetchone()
            assert row is not None
            counts[entity] = int(row[0])
            folds[entity] = fold_from_word_sums(row[1:])
    assert counts == {e: spec.count(e) for e in ENTITIES}
    return dataset_digest(folds, counts)


def test_one_two_and_four_writers_store_the_same_dataset(pg_server_url: str) -> None:
    manifest = small_manifest(mode="baseline")
    salt = Salt(version=1, value=secrets.token_bytes(32))
    spec = stages.new_run(manifest, dry_run=True, actor="test-workers").ctx.spec
    expected = expected_dataset_digest(spec, salt.value, 1000)
    for workers, size in ((1, 1000), (2, 333), (4, 97)):
        with temporary_database(pg_server_url) as db:
            _seed(db, manifest, salt, workers, size)
            assert _stored_digest(db, manifest) == expected, (workers, size)

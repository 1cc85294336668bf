"""The tenant row is shared by a tenant's datasets: it goes with the last one, so a reseed
writes it afresh (after a dataset-format upgrade it would otherwise meet a stale row)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg

from factories.spec import GENERATOR_VERSION
from seedbank.adapters.purge import purge_dataset
from tests.support.databases import ScratchDatabase

NOW = datetime.now(UTC)


def _tenant_with(conn: psycopg.Connection, tenant_id: uuid.UUID, *modes: str) -> None:
    conn.execute(
        "INSERT INTO tenant (tenant_id, slug, env, name, created_at)"
        " VALUES (%s, 't', 'dev', 'Banco T', %s)",
        (tenant_id, NOW),
    )
    for mode in modes:
        conn.execute(
            "INSERT INTO seed_checkpoint (tenant_id, id, run_id, env, mode, entity, batch_start,"
            " batch_stop, row_count, digest, salt_version, manifest_digest, created_at,"
            " generator_version) VALUES (%s, %s, %s, 'dev', %s, 'tenant', 0, 1, 1, %s, 1, %s,"
            " %s, %s)",
            (tenant_id, uuid.uuid4(), uuid.uuid4(), mode, "0" * 64, "0" * 64, NOW,
             GENERATOR_VERSION),
        )  # fmt: skip


def _tenant_rows(database: ScratchDatabase, tenant_id: uuid.UUID) -> int:
    with psycopg.connect(database.admin_url) as conn:
        row = conn.execute("SELECT count(*) FROM tenant WHERE tenant_id = %s", (tenant_id,))
        return int(row.fetchone()[0])  # type: ignore[index]


def test_the_last_dataset_takes_the_tenant_row_with_it(database: ScratchDatabase) -> None:
    tenant_id = uuid.uuid4()
    with psycopg.connect(database.admin_url) as conn:
        _tenant_with(conn, tenant_id, "baseline", "load")
    with psycopg.connect(database.app_url) as conn:
        kept = purge_dataset(conn, tenant_id=tenant_id, env="dev", mode="load")
    assert "tenant" not in kept
    assert _tenant_rows(database, tenant_id) == 1  # the baseline still needs it
    with psycopg.connect(database.app_url) as conn:
        gone = purge_dataset(conn, tenant_id=tenant_id, env="dev", mode="baseline")
    assert gone["tenant"] == 1
    assert _tenant_rows(database, tenant_id) == 0

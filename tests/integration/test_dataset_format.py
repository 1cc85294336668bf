"""Dataset format 2026.1 (issue 14): the database proves business keys unique, and data of
another format is never mixed with this one: a run refuses it, the migration refuses
duplicates it cannot constrain, each in one sentence that says what to do.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from seedbank.adapters.dataset_format import refuse_other_format
from seedbank.domain.errors import DatasetFormatMismatch

from factories.spec import GENERATOR_VERSION
from seedbank.adapters.migrations import scratch_database, upgrade
from seedbank.adapters.postgres import tenant_transaction
from tests.support.databases import ScratchDatabase

TENANT = uuid.UUID("00000000-0000-0000-0000-0000000000f1")
AT = datetime(2026, 6, 30, 12, tzinfo=UTC)
ADVISOR = uuid.UUID("10000000-0000-0000-0000-0000000000f1")


def _tenant_and_advisor(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO tenant (tenant_id, slug, env, name, created_at)"
        " VALUES (%s, 'fmt', 'dev', 'Fmt', %s)",
        (TENANT, AT),
    )
    conn.execute(
        "INSERT INTO advisor (tenant_id, id, dataset, full_name, email, phone, branch_code,"
        " created_at) VALUES (%s, %s, 'baseline', 'A', 'a@example.com', '+55 00 90000-0001',"
        " '0001', %s)",
        (TENANT, ADVISOR, AT),
    )


def _customer(conn: psycopg.Connection, n: int, cpf: str) -> None:
    conn.execute(
        "INSERT INTO customer (tenant_id, id, dataset, advisor_id, full_name, cpf, email, phone,"
        " birth_date, segment, created_at) VALUES (%s, %s, 'baseline', %s, 'C', %s, %s, %s,"
        " '1990-01-01', 'retail', %s)",
        (TENANT, uuid.uuid5(TENANT, f"c{n}"), ADVISOR, cpf, f"c{n}@example.com", f"p{n}", AT),
    )


def test_the_database_refuses_a_duplicate_cpf_in_one_tenant(database: ScratchDatabase) -> None:
    with psycopg.connect(database.admin_url) as conn:
        _tenant_and_advisor(conn)
        _customer(conn, 1, "52998224725")
        with pytest.raises(psycopg.errors.UniqueViolation, match="uq_customer_cpf"):
            _customer(conn, 2, "52998224725")


def test_a_run_refuses_a_dataset_of_another_format(database: ScratchDatabase) -> None:
    tenant_id = uuid.uuid4()
    with psycopg.connect(database.admin_url) as conn:
        conn.execute(
            "INSERT INTO seed_checkpoint (tenant_id, id, run_id, env, mode, entity, batch_start,"
            " batch_stop, row_count, digest, salt_version, manifest_digest, created_at,"
            " generator_version) VALUES (%s, %s, %s, 'dev', 'baseline', 'customer', 0, 10, 10,"
            " %s, 1, %s, %s, '2025.1')",
            (tenant_id, uuid.uuid4(), uuid.uuid4(), "0" * 64, "a" * 64, AT),
        )
    with psycopg.connect(database.app_url) as conn, tenant_transaction(conn, tenant_id):
        refuse_other_format(conn, tenant_id=tenant_id, env="dev", tenant="t", mode="load")
        with pytest.raises(DatasetFormatMismatch) as refused:
            refuse_other_format(conn, tenant_id=tenant_id, env="dev", tenant="t", mode="baseline")
    sentence = refused.value.sentence()
    assert "dataset format 2025.1" in sentence
    assert GENERATOR_VERSION in sentence
    assert "seed_data purge --env=dev --tenant=t --mode=baseline" in sentence
    assert refused.value.exit_code == 9


def test_the_migration_refuses_old_duplicates_and_changes_nothing(pg_server_url: str) -> None:
    with scratch_database(pg_server_url, prefix="seedbank_test", migrate=False) as db:
        upgrade(db.admin_url, "0004")
        with psycopg.connect(db.admin_url) as conn:
            _tenant_and_advisor(conn)
            _customer(conn, 1, "52998224725")
            _customer(conn, 2, "52998224725")  # format 2025.1 could draw the same CPF twice
        with pytest.raises(DatasetFormatMismatch, match=r"customer\.cpf holds 1 duplicate"):
            upgrade(db.admin_url)
        with psycopg.connect(db.admin_url) as conn:
            version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version == ("0004",)

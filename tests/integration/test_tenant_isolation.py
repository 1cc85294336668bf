"""RLS and composite foreign keys keep every tenant's rows to itself (issue 2)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from seedbank.adapters.migrations import upgrade
from seedbank.adapters.postgres import bind_tenant
from tests.support.databases import ScratchDatabase

TENANT_A = uuid.UUID("00000000-0000-0000-0000-00000000000a")
TENANT_B = uuid.UUID("00000000-0000-0000-0000-00000000000b")
ADVISOR_A = uuid.UUID("10000000-0000-0000-0000-00000000000a")
ADVISOR_B = uuid.UUID("10000000-0000-0000-0000-00000000000b")
AT = datetime(2026, 6, 30, 12, tzinfo=UTC)


def _insert_advisor(conn: psycopg.Connection, tenant: uuid.UUID, advisor: uuid.UUID) -> None:
    conn.execute(
        "INSERT INTO advisor (tenant_id, id, dataset, full_name, email, phone, branch_code,"
        " created_at) VALUES (%s, %s, 'baseline', 'Advisor', 'a@example.com', '5511900000000',"
        " '0001', %s)",
        (tenant, advisor, AT),
    )


def _insert_customer(conn: psycopg.Connection, tenant: uuid.UUID, advisor: uuid.UUID) -> None:
    conn.execute(
        "INSERT INTO customer (tenant_id, id, dataset, advisor_id, full_name, cpf, email, phone,"
        " birth_date, segment, created_at) VALUES (%s, %s, 'baseline', %s, 'C', '00000000000',"
        " 'c@example.com', '5511900000000', '1990-01-01', 'retail', %s)",
        (tenant, uuid.uuid5(tenant, "customer-0"), advisor, AT),
    )


@pytest.fixture(scope="module")
def seeded(database: ScratchDatabase) -> ScratchDatabase:
    with psycopg.connect(database.admin_url) as conn:
        for tenant, advisor, slug in (
            (TENANT_A, ADVISOR_A, "a"),
            (TENANT_B, ADVISOR_B, "b"),
        ):
            conn.execute(
                "INSERT INTO tenant (tenant_id, slug, env, name, created_at)"
                " VALUES (%s, %s, 'dev', %s, %s)",
                (tenant, slug, slug, AT),
            )
            _insert_advisor(conn, tenant, advisor)
    return database


@pytest.fixture
def app_conn(seeded: ScratchDatabase) -> Iterator[psycopg.Connection]:
    with psycopg.connect(seeded.app_url) as conn:
        yield conn
        conn.rollback()


def test_application_role_is_neither_owner_nor_bypassing(
    app_conn: psycopg.Connection,
) -> None:
    row = app_conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False)
    owners = app_conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
    ).fetchone()
    assert owners == (0,)


def test_every_table_has_forced_rls_and_a_tenant_id(
    app_conn: psycopg.Connection,
) -> None:
    rows = app_conn.execute(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
        " EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
        "         AND a.attname = 'tenant_id' AND a.attnotnull)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'alembic_version'"
    ).fetchall()
    assert len(rows) == 18
    assert [r[0] for r in rows if r[1:] != (True, True, True)] == []


def test_other_tenants_rows_are_invisible(app_conn: psycopg.Connection) -> None:
    bind_tenant(app_conn, TENANT_A)
    ids = app_conn.execute("SELECT tenant_id FROM advisor").fetchall()
    assert ids == [(TENANT_A,)]
    assert app_conn.execute(
        "SELECT count(*) FROM advisor WHERE tenant_id = %s", (TENANT_B,)
    ).fetchone() == (0,)


def test_unset_tenant_sees_nothing(app_conn: psycopg.Connection) -> None:
    assert app_conn.execute("SELECT count(*) FROM advisor").fetchone() == (0,)
    assert app_conn.execute("SELECT count(*) FROM tenant").fetchone() == (0,)


def test_unset_tenant_cannot_write(app_conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _insert_advisor(app_conn, TENANT_A, uuid.uuid4())


def test_insert_with_another_tenants_id_is_refused(
    app_conn: psycopg.Connection,
) -> None:
    bind_tenant(app_conn, TENANT_A)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _insert_advisor(app_conn, TENANT_B, uuid.uuid4())


def test_update_into_another_tenant_is_refused(app_conn: psycopg.Connection) -> None:
    bind_tenant(app_conn, TENANT_A)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        app_conn.execute("UPDATE advisor SET tenant_id = %s WHERE id = %s", (TENANT_B, ADVISOR_A))


def test_update_of_another_tenants_row_touches_nothing(
    app_conn: psycopg.Connection,
) -> None:
    bind_tenant(app_conn, TENANT_A)
    cur = app_conn.execute("UPDATE advisor SET full_name = 'x' WHERE id = %s", (ADVISOR_B,))
    assert cur.rowcount == 0


def test_cross_tenant_foreign_key_is_impossible_even_for_the_owner(
    seeded: ScratchDatabase,
) -> None:
    # The superuser bypasses RLS; the composite key still refuses A -> B.
    with psycopg.connect(seeded.admin_url) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            _insert_customer(conn, TENANT_A, ADVISOR_B)
        conn.rollback()
        _insert_customer(conn, TENANT_A, ADVISOR_A)  # the same row, own tenant: accepted
        conn.rollback()


def test_read_only_role_cannot_write(seeded: ScratchDatabase) -> None:
    with psycopg.connect(seeded.ro_url) as conn:
        bind_tenant(conn, TENANT_A)
        assert conn.execute("SELECT count(*) FROM advisor").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _insert_advisor(conn, TENANT_A, uuid.uuid4())


def test_migrations_are_idempotent(seeded: ScratchDatabase) -> None:
    upgrade(seeded.admin_url)
    with psycopg.connect(seeded.admin_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0008",)

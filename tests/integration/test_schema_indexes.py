"""Deletes that scale (issue 14): every foreign key's referencing columns lead an index,
and a purge of a 20 k-account (80 k-row) dataset finishes under a statement timeout.

Without the indexes PostgreSQL's FK trigger scans each child table once per deleted
parent row (rows x rows): the purge below then runs for minutes and the timeout fails it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from seedbank.adapters.purge import purge_dataset
from tests.support.databases import ScratchDatabase

# Every FK of the public schema, and whether some index's leading columns are exactly
# its referencing columns (in any order): what PostgreSQL's FK checks on delete can use.
# A partial index counts only when its predicate is `<one referencing column> IS NOT
# NULL`, which the check's `col = $n` implies; any other predicate could skip rows.
UNCOVERED_FKS = """
SELECT c.conrelid::regclass::text, c.conname
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
  AND NOT EXISTS (
    SELECT 1 FROM pg_index i
    WHERE i.indrelid = c.conrelid
      AND (SELECT array_agg(k ORDER BY k)
           FROM unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) k)
          = (SELECT array_agg(k ORDER BY k) FROM unnest(c.conkey) k)
      AND (i.indpred IS NULL OR pg_get_expr(i.indpred, i.indrelid) IN (
        SELECT '(' || quote_ident(a.attname) || ' IS NOT NULL)'
        FROM pg_attribute a WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey))))
ORDER BY 1, 2
"""
# The statement PostgreSQL's delete check on supplier runs against its child, as a
# generic plan (parameters unknown, as the trigger's cached plan has them).
SUPPLIER_DELETE_CHECK = (
    "SELECT 1 FROM ONLY financial_transaction x WHERE tenant_id = $1 AND supplier_id = $2"
    " FOR KEY SHARE OF x"
)

TENANT = uuid.UUID("00000000-0000-0000-0000-0000000000e4")
AT = datetime(2026, 6, 30, 12, tzinfo=UTC)
ACCOUNTS = 20_000
TRANSACTIONS_PER_ACCOUNT = 2
TIMEOUT = "30s"
"""Indexed: ~2-4 s on a shared 2-core machine. Unindexed: 20 k parents x a 40-80 k-row
child table per FK check, minutes (measured in the issue's report)."""


def test_every_foreign_key_has_a_leading_index(database: ScratchDatabase) -> None:
    with psycopg.connect(database.admin_url) as conn:
        fks = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
            " AND connamespace = 'public'::regnamespace"
        ).fetchone()
        uncovered = conn.execute(UNCOVERED_FKS).fetchall()
    assert fks is not None
    assert fks[0] >= 13  # the query sees the schema's FKs
    assert uncovered == [], (
        f"foreign keys without an index on their referencing columns: {uncovered}"
    )


def test_the_nullable_reference_index_skips_nulls_and_serves_the_delete_check(
    database: ScratchDatabase,
) -> None:
    with psycopg.connect(database.admin_url) as conn:
        predicate = conn.execute(
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index"
            " WHERE indexrelid = 'ix_financial_transaction_supplier_id'::regclass"
        ).fetchone()
        assert predicate == ("(supplier_id IS NOT NULL)",)
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute("SET enable_seqscan = off")  # an empty table: make the index the choice
        # Client-side binding: PREPARE keeps its $n, EXECUTE (a utility) gets literals.
        with psycopg.ClientCursor(conn) as cur:
            cur.execute(f"PREPARE supplier_check (uuid, uuid) AS {SUPPLIER_DELETE_CHECK}")
            cur.execute("EXPLAIN EXECUTE supplier_check (%s, %s)", (TENANT, uuid.uuid4()))
            plan = "\n".join(str(row[0]) for row in cur.fetchall())
    assert "ix_financial_transaction_supplier_id" in plan, plan


def _seed_accounts(conn: psycopg.Connection, dataset: str, n: int) -> None:
    """n customers with one account and two transactions each, in one dataset (set SQL)."""
    ns = f"{dataset}-"
    digit = "1" if dataset == "baseline" else "2"  # business keys are unique per tenant
    params = {"t": TENANT, "d": dataset, "n": n, "at": AT, "ns": ns, "digit": digit}
    conn.execute(
        "INSERT INTO customer (tenant_id, id, dataset, advisor_id, full_name, cpf, email, phone,"
        " birth_date, segment, created_at)"
        " SELECT %(t)s, md5(%(ns)s || 'c' || g)::uuid, %(d)s::text, md5('advisor')::uuid, 'C',"
        " lpad(g::text, 10, '0') || %(digit)s, 'c' || g || '@' || %(d)s::text || '.example.com',"
        " %(ns)s || g, '1990-01-01', 'retail', %(at)s FROM generate_series(1, %(n)s) g",
        params,
    )
    conn.execute(
        "INSERT INTO bank_account (tenant_id, id, dataset, customer_id, category_id,"
        " account_number, branch, currency, status, balance, opened_at)"
        " SELECT %(t)s, md5(%(ns)s || 'a' || g)::uuid, %(d)s, md5(%(ns)s || 'c' || g)::uuid,"
        " md5('category')::uuid, %(ns)s || g, '0001', 'BRL', 'active', 0, %(at)s"
        " FROM generate_series(1, %(n)s) g",
        params,
    )
    conn.execute(
        "INSERT INTO financial_transaction (tenant_id, id, dataset, account_id, supplier_id,"
        " kind, amount, description, booked_at)"
        " SELECT %(t)s, md5(%(ns)s || 'x' || g || '/' || k)::uuid, %(d)s,"
        " md5(%(ns)s || 'a' || g)::uuid, NULL, 'debit', 1, 'x', %(at)s"
        " FROM generate_series(1, %(n)s) g, generate_series(1, %(k)s) k",
        params | {"k": TRANSACTIONS_PER_ACCOUNT},
    )


@pytest.fixture
def two_datasets(database: ScratchDatabase) -> ScratchDatabase:
    """A baseline and a load dataset of ACCOUNTS accounts each, in one tenant."""
    with psycopg.connect(database.admin_url) as conn:
        conn.execute(
            "INSERT INTO tenant (tenant_id, slug, env, name, created_at)"
            " VALUES (%s, 'purge-volume', 'dev', 'Purge', %s)",
            (TENANT, AT),
        )
        conn.execute(
            "INSERT INTO advisor (tenant_id, id, dataset, full_name, email, phone, branch_code,"
            " created_at) VALUES (%s, md5('advisor')::uuid, 'baseline', 'A', 'a@example.com',"
            " '5511900000000', '0001', %s)",
            (TENANT, AT),
        )
        conn.execute(
            "INSERT INTO account_category (tenant_id, id, dataset, code, name, kind,"
            " default_limit) VALUES (%s, md5('category')::uuid, 'baseline', 'CHK', 'C',"
            " 'checking', 0)",
            (TENANT,),
        )
        for dataset in ("baseline", "load"):
            _seed_accounts(conn, dataset, ACCOUNTS)
        conn.execute("ANALYZE")
    return database


def test_purge_of_an_80k_row_dataset_finishes_under_a_statement_timeout(
    two_datasets: ScratchDatabase,
) -> None:
    with psycopg.connect(two_datasets.app_url) as conn:
        conn.execute(f"SET statement_timeout = '{TIMEOUT}'")
        conn.commit()
        deleted = purge_dataset(conn, tenant_id=TENANT, env="dev", mode="load")
    assert deleted["bank_account"] == ACCOUNTS
    assert deleted["customer"] == ACCOUNTS
    assert deleted["financial_transaction"] == ACCOUNTS * TRANSACTIONS_PER_ACCOUNT
    with psycopg.connect(two_datasets.admin_url) as conn:
        left = conn.execute(
            "SELECT dataset, count(*) FROM bank_account GROUP BY dataset ORDER BY 1"
        ).fetchall()
    assert left == [("baseline", ACCOUNTS)]  # the other dataset is untouched

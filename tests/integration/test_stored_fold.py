"""PostgreSQL's fold of stored rows equals `factories.digest`'s fold of the same values.

The determinism gate compares the two, so any drift between `record_send` and
`factories.record` (a numeric's scale or sign, a time zone, a NULL, a non-ASCII string,
a date before 2000) would fail
every run — or, worse, hide a difference. Edge rows for every domain table are written
as the superuser with FK triggers off (only the encoding is under test here).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Date, DateTime, Integer, Numeric, String, Uuid

from factories.digest import fold_rows
from factories.record import RECORDS, record_send
from seedbank.domain.models import DOMAIN_TABLES, table_name
from seedbank.gates.readback import _fold_parts
from seedbank.gates.rows import COLUMNS, ENTITY_ORDER
from seedbank.gates.stored_fold import UTF8_SETTINGS, fold_from_word_sums, fold_select
from tests.support.databases import ScratchDatabase

VARIANTS = 3


def _numeric(kind: Numeric[Decimal]) -> list[Decimal]:
    scale, precision = int(kind.scale or 0), int(kind.precision or 18)
    unit = Decimal(1).scaleb(-scale)
    top = Decimal(10) ** (precision - scale) - unit
    return [Decimal(0).quantize(unit), Decimal("-12.5").quantize(unit), top]


def _edges(kind: Any) -> list[Any]:
    if isinstance(kind, String):
        texts = ["", "ação ✓ 😀 'q' \\ \t\n", "x" * 300]
        return [t[: kind.length] if kind.length else t for t in texts]
    if isinstance(kind, Numeric):
        return _numeric(kind)
    edges: dict[type, list[Any]] = {
        Integer: [0, -1, 2_147_483_647],
        DateTime: [
            datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
            datetime(1970, 1, 1, tzinfo=UTC),
            datetime(2038, 1, 19, 3, 14, 8, 123_456, tzinfo=timezone(timedelta(hours=5.5))),
        ],
        Date: [date(1, 1, 1), date(1950, 2, 28), date(2024, 2, 29)],
    }
    for base, values in edges.items():
        if isinstance(kind, base):
            return values
    raise AssertionError(f"no edge values for {kind!r}")


def _value(kind: Any, nullable: bool, k: int) -> Any:
    if nullable and k == 0:
        return None
    if isinstance(kind, Uuid):
        return uuid.uuid4()
    return _edges(kind)[k]


def _edge_rows(entity: str, tenant_id: uuid.UUID) -> list[tuple[Any, ...]]:
    model = next(m for m in DOMAIN_TABLES if table_name(m) == entity)
    rows = []
    for k in range(1 if entity == "tenant" else VARIANTS):
        row = []
        for column in model.__table__.columns:  # type: ignore[attr-defined]
            if column.name == "tenant_id":
                row.append(tenant_id)
            else:
                row.append(_value(column.type, bool(column.nullable), k))
        rows.append(tuple(row))
    return rows


@pytest.fixture(scope="module")
def edge_rows(database: ScratchDatabase) -> tuple[uuid.UUID, dict[str, list[tuple[Any, ...]]]]:
    tenant_id = uuid.uuid4()
    written = {e: _edge_rows(e, tenant_id) for e in ENTITY_ORDER}
    with psycopg.connect(database.admin_url) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers
        for entity, rows in written.items():
            columns = COLUMNS[entity]
            statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(entity),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            )
            conn.cursor().executemany(statement, rows)
    return tenant_id, written


@pytest.mark.parametrize("entity", ENTITY_ORDER)
def test_the_server_fold_equals_the_generator_fold(
    database: ScratchDatabase,
    edge_rows: tuple[uuid.UUID, dict[str, list[tuple[Any, ...]]]],
    entity: str,
) -> None:
    tenant_id, written = edge_rows
    with psycopg.connect(database.admin_url) as conn:
        for name, value in UTF8_SETTINGS.items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        query = fold_select(entity, sql.SQL("tenant_id = %s"))
        # Row by row too: a difference names its row instead of only moving the sum.
        by_row = conn.execute(
            sql.SQL("SELECT record_send({}) FROM {} AS t WHERE tenant_id = %s").format(
                sql.SQL("ROW({})").format(
                    sql.SQL(", ").join(sql.Identifier("t", c) for c in COLUMNS[entity])
                ),
                sql.Identifier(entity),
            ),
            (tenant_id,),
        ).fetchall()
        row = conn.execute(query, (tenant_id,)).fetchone()
        stored = conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE tenant_id = %s").format(
                sql.SQL(", ").join(map(sql.Identifier, COLUMNS[entity])), sql.Identifier(entity)
            ),
            (tenant_id,),
        ).fetchall()
    assert row is not None
    assert row[0] == len(written[entity])
    assert sorted(bytes(r[0]) for r in by_row) == sorted(
        record_send(RECORDS[entity], w) for w in written[entity]
    )
    server = fold_from_word_sums(row[1:])
    assert server == fold_rows(entity, written[entity])  # the values as generated
    assert server == fold_rows(entity, stored)  # the values as psycopg reads them back


def test_the_read_back_pins_its_client_encoding(
    database: ScratchDatabase, edge_rows: tuple[uuid.UUID, dict[str, list[tuple[Any, ...]]]]
) -> None:
    """A session in another client encoding (non-ASCII text in the rows) folds alike: the
    read-back sets UTF8 for its transaction, then gives the session its own back."""
    tenant_id, written = edge_rows
    parts = [(e, sql.SQL("tenant_id = %s"), (tenant_id,)) for e in ("customer", "address")]
    with psycopg.connect(database.admin_url) as conn:
        conn.execute("SET client_encoding = 'EUC_JP'")
        with conn.transaction():
            folds = _fold_parts(conn, parts)
            row = conn.execute("SELECT current_setting('client_encoding')").fetchone()
    assert row is not None
    assert row[0] == "EUC_JP"
    for entity, rows, fold in folds:
        assert (rows, fold) == (len(written[entity]), fold_rows(entity, written[entity]))


def test_one_changed_value_changes_the_server_fold(
    database: ScratchDatabase, edge_rows: tuple[uuid.UUID, dict[str, list[tuple[Any, ...]]]]
) -> None:
    tenant_id, written = edge_rows
    query = fold_select("financial_transaction", sql.SQL("tenant_id = %s"))
    with psycopg.connect(database.admin_url) as conn:
        conn.execute(
            "UPDATE financial_transaction SET amount = -amount WHERE tenant_id = %s"
            " AND amount <> 0",
            (tenant_id,),
        )
        row = conn.execute(query, (tenant_id,)).fetchone()
        conn.rollback()
    assert row is not None
    assert fold_from_word_sums(row[1:]) != fold_rows(
        "financial_transaction", written["financial_transaction"]
    )


def test_no_rows_fold_to_zero(database: ScratchDatabase) -> None:
    with psycopg.connect(database.admin_url) as conn:
        row = conn.execute(
            fold_select("loan", sql.SQL("tenant_id = %s")), (uuid.uuid4(),)
        ).fetchone()
    assert row is not None
    assert row[0] == 0
    assert fold_from_word_sums(row[1:]) == 0

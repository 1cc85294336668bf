"""A row's canonical bytes are ``record_send``'s (dataset format 2026.3): each field as
psycopg's binary dumper sends that type, framed by its oid and length. The server side
(``record_send(ROW(...))`` itself) is held equal in tests/integration/test_stored_fold.py."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.adapt import PyFormat, Transformer
from psycopg.postgres import types as pg_types
from psycopg.pq import Format

from factories.record import OID, RECORDS, Column, numeric_send, record_send
from factories.rows import COLUMNS

SAMPLES: dict[str, list[Any]] = {
    "uuid": [uuid.UUID(int=0), uuid.uuid5(uuid.NAMESPACE_URL, "seedbank")],
    "text": ["", "São Paulo", "x" * 300, "日本語"],
    "varchar": ["BRL", "ação"],
    "int4": [0, -7, 2**31 - 1, -(2**31)],
    "date": [date(2000, 1, 1), date(1969, 12, 31), date(2000, 2, 29), date(1, 1, 1)],
    "timestamptz": [
        datetime(2026, 6, 30, 12, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3))),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
}


def _psycopg(kind: str, value: Any) -> bytes:
    tx = Transformer()
    tx.set_dumper_types([pg_types.get(kind).oid], Format.BINARY)  # type: ignore[union-attr]
    (field,) = tx.dump_sequence([value], [PyFormat.BINARY])
    return bytes(field or b"")


def _framed(oid: int, data: bytes | None) -> bytes:
    if data is None:
        return struct.pack(">Ii", oid, -1)
    return struct.pack(">Ii", oid, len(data)) + data


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_type_is_framed_as_psycopg_dumps_it(kind: str) -> None:
    column = Column("c", kind)
    assert column.oid == pg_types.get(kind).oid  # type: ignore[union-attr]
    for value in SAMPLES[kind]:
        expected = struct.pack(">i", 1) + _framed(column.oid, _psycopg(kind, value))
        assert record_send([column], [value]) == expected
    assert record_send([column], [None]) == struct.pack(">i", 1) + _framed(column.oid, None)


@settings(max_examples=400, deadline=None)
@given(
    scale=st.sampled_from([2, 6]),
    value=st.decimals(-(10**12), 10**12, allow_nan=False, allow_infinity=False, places=6),
)
def test_numeric_is_psycopg_binary_numeric_at_the_column_scale(scale: int, value: Decimal) -> None:
    stored = value.quantize(Decimal(1).scaleb(-scale))  # what numeric(p, scale) keeps
    assert numeric_send(stored, scale) == _psycopg("numeric", stored)
    # "12.3" and "12.30" are one stored value: the column's scale decides the bytes.
    assert numeric_send(stored.normalize(), scale) == numeric_send(stored, scale)


def test_a_whole_row_is_the_count_then_each_field() -> None:
    columns = [Column("a", "uuid"), Column("b", "numeric", 2), Column("c", "text")]
    row = [uuid.UUID(int=5), Decimal("-0.01"), None]
    expected = (
        struct.pack(">i", 3)
        + _framed(OID["uuid"], uuid.UUID(int=5).bytes)
        + _framed(OID["numeric"], _psycopg("numeric", Decimal("-0.01")))
        + _framed(OID["text"], None)
    )
    assert record_send(columns, row) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("int4", True),
        ("int4", 1.5),
        ("text", b"x"),
        ("uuid", "5a1e..."),
        ("timestamptz", datetime(2026, 1, 1)),  # noqa: DTZ001 - naive on purpose
        ("date", datetime(2026, 1, 1, tzinfo=UTC)),
        ("numeric", 12),
    ],
)
def test_a_value_its_column_cannot_hold_is_refused(kind: str, value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        record_send([Column("c", kind, 2)], [value])


def test_more_places_than_the_scale_and_a_wrong_width_are_refused() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        numeric_send(Decimal("1.005"), 2)
    with pytest.raises(ValueError, match="2 values for 1 columns"):
        record_send([Column("c", "text")], ["a", "b"])


def test_every_entity_record_follows_its_table() -> None:
    assert set(RECORDS) == set(COLUMNS)
    for entity, columns in RECORDS.items():
        assert tuple(c.name for c in columns) == COLUMNS[entity]
    money = next(c for c in RECORDS["financial_transaction"] if c.name == "amount")
    assert (money.kind, money.scale) == ("numeric", 2)

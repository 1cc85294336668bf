"""The canonical fold of stored rows, computed by PostgreSQL next to the data.

`factories.digest` defines a row's canonical bytes and the entity fold (sum of the rows'
SHA-256 digests mod 2**256). Reading a million rows back into Python to re-encode them
costs ~17 µs a row; here the server builds the same bytes per row from the column types
of `seedbank.models`, digests them with `sha256()` and sums each digest's eight 32-bit
words, so only 8 sums and a count cross the wire. `fold_from_word_sums` turns them into
the fold. Byte equality with `factories.digest.encode_row` is what the determinism gate
relies on: tests/integration/test_stored_fold.py holds the two equal on every entity and
on edge values (NULL, zero and negative amounts, non-ASCII text, dates before 1970).
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql
from sqlalchemy import Date, DateTime, Integer, Numeric, String, Uuid

from seedbank.models import DOMAIN_TABLES, table_name

WORDS = 8
"""A SHA-256 digest as eight 32-bit words: each word's sum is exact in `numeric`."""
_MOD = 1 << 256
_NULL = sql.SQL("'\\x000000014e'::bytea")  # len 1 + "N"


def _payload(column: str, kind: object) -> sql.Composable:
    """The canonical payload (tag + value) of one non-NULL value, as bytea."""
    col = sql.Identifier(column)
    if isinstance(kind, Uuid):
        return sql.SQL("'\\x55'::bytea || uuid_send({})").format(col)
    if isinstance(kind, String):  # Text is a String
        return sql.SQL("'\\x53'::bytea || convert_to({}, 'UTF8')").format(col)
    if isinstance(kind, Integer):
        return sql.SQL("convert_to('I' || {}::text, 'UTF8')").format(col)
    if isinstance(kind, Numeric):
        # Decimal.as_integer_ratio(): the reduced fraction n/g over 10**scale/g. With at
        # most 18 digits the numerator fits a bigint, whose gcd is ten times cheaper.
        den = sql.Literal(10 ** int(kind.scale or 0))
        if kind.precision is not None and int(kind.precision) <= 18:
            num, ratio = sql.SQL("({} * {})::bigint").format(col, den), "({} / {})::text"
        else:
            num, ratio = sql.SQL("trunc({} * {})").format(col, den), "div({}, {})::text"
        g = sql.SQL("gcd({}, {})").format(num, den)
        return sql.SQL("convert_to('D' || {} || '/' || {}, 'UTF8')").format(
            sql.SQL(ratio).format(num, g), sql.SQL(ratio).format(den, g)
        )
    if isinstance(kind, DateTime):
        return sql.SQL(
            "convert_to('T' || (extract(epoch FROM {}) * 1000000)::bigint::text, 'UTF8')"
        ).format(col)
    if isinstance(kind, Date):
        # date.toordinal(): 0001-01-01 is day 1 (both calendars are proleptic Gregorian).
        return sql.SQL("convert_to('A' || ({} - DATE '0001-01-01' + 1)::text, 'UTF8')").format(col)
    raise TypeError(f"no canonical encoding for column {column} of type {kind}")


def _field(column: str, kind: object, nullable: bool) -> sql.Composable:
    payload = _payload(column, kind)
    framed = sql.SQL("int4send(length({p})) || {p}").format(p=payload)
    if nullable:
        return sql.SQL("coalesce({}, {})").format(framed, _NULL)
    return framed


def row_bytes_sql(entity: str) -> sql.Composable:
    """SQL for the canonical bytes of a row of `entity` (its columns in model order)."""
    model = next(m for m in DOMAIN_TABLES if table_name(m) == entity)
    columns = model.__table__.columns  # type: ignore[attr-defined]
    return sql.SQL(" || ").join(_field(c.name, c.type, bool(c.nullable)) for c in columns)


def fold_select(entity: str, where: sql.Composable) -> sql.Composed:
    """count(*) and the 8 word sums of the rows of `entity` matching `where`."""
    words = sql.SQL(", ").join(
        sql.SQL(
            "coalesce(sum(('x' || encode(substr(h, {}, 4), 'hex'))::bit(32)::bigint), 0)"
        ).format(sql.Literal(1 + 4 * i))
        for i in range(WORDS)
    )
    # OFFSET 0 keeps the subquery whole: flattened, each word would re-digest the row.
    return sql.SQL(
        "SELECT count(*), {} FROM (SELECT sha256({}) AS h FROM {} WHERE {} OFFSET 0) AS d"
    ).format(words, row_bytes_sql(entity), sql.Identifier(entity), where)


def fold_from_word_sums(sums: Sequence[int]) -> int:
    """The entity fold from the per-word sums (word 0 is the digest's most significant)."""
    if len(sums) != WORDS:
        raise ValueError(f"expected {WORDS} word sums, got {len(sums)}")
    total = 0
    for i, s in enumerate(sums):
        total += int(s) << (32 * (WORDS - 1 - i))
    return total % _MOD

"""The canonical fold of stored rows, computed by PostgreSQL next to the data.

`factories.digest` defines a row's canonical bytes and the entity fold (sum of the rows'
SHA-256 digests mod 2**256). Reading a million rows back into Python to re-encode them
costs ~17 µs a row; here the server builds the same bytes per row from the column types
of `seedbank.domain.models`, digests them with `sha256()` and sums each digest's five words
(7+7+7+7+4 bytes), so only 5 sums and a count cross the wire. `fold_from_word_sums` turns them into
the fold. Byte equality with `factories.digest.encode_row` is what the determinism gate
relies on: tests/integration/test_stored_fold.py holds the two equal on every entity and
on edge values (NULL, zero and negative amounts, non-ASCII text, dates before 1970).

The cheaper forms (issue 17, same bytes; ~1.1 of ~7 µs a transaction row): the ASCII
payloads of numbers, timestamps and dates go out through `textsend` (any client encoding
keeps ASCII as is; `convert_to` validates the string once more), and each digest becomes
one `bit(256)` cut into its words. With `utf8=True` a string is framed with its own
`octet_length` and `textsend` instead of two `convert_to(…, 'UTF8')`: that needs a UTF8
server (a text's octets are then its UTF-8 bytes) and a UTF8 client encoding for the
statement (`textsend` converts to it), which `UTF8_SETTINGS` pins for the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql
from sqlalchemy import Date, DateTime, Integer, Numeric, String, Uuid

from seedbank.domain.models import DOMAIN_TABLES, table_name

WORD_BYTES = (7, 7, 7, 7, 4)
"""A SHA-256 digest cut into words below 64 bits, so each is a non-negative bigint whose
sum is exact in `numeric`; five words cost less to sum than eight 32-bit ones."""
WORDS = len(WORD_BYTES)
_MOD = 1 << 256
_NULL = sql.SQL("'\\x000000014e'::bytea")  # len 1 + "N"
UTF8_SETTINGS = {"client_encoding": "UTF8"}
"""Set (locally) around a `utf8=True` fold: `textsend` sends text in the client encoding."""


def _payload(column: str, kind: object) -> sql.Composable:
    """The canonical payload (tag + value text) of one non-NULL number, timestamp or date,
    as bytea (uuids and strings are framed inline by `_framed`)."""
    col = sql.Identifier(column)
    if isinstance(kind, Integer):
        return sql.SQL("textsend('I' || {}::text)").format(col)
    if isinstance(kind, Numeric):
        # Decimal.as_integer_ratio(): the reduced fraction n/g over 10**scale/g. With at
        # most 18 digits the numerator fits a bigint, whose gcd is ten times cheaper.
        den = sql.Literal(10 ** int(kind.scale or 0))
        if kind.precision is not None and int(kind.precision) <= 18:
            num, ratio = sql.SQL("({} * {})::bigint").format(col, den), "({} / {})::text"
        else:
            num, ratio = sql.SQL("trunc({} * {})").format(col, den), "div({}, {})::text"
        g = sql.SQL("gcd({}, {})").format(num, den)
        return sql.SQL("textsend('D' || {} || '/' || {})").format(
            sql.SQL(ratio).format(num, g), sql.SQL(ratio).format(den, g)
        )
    if isinstance(kind, DateTime):
        return sql.SQL("textsend('T' || (extract(epoch FROM {}) * 1000000)::bigint::text)").format(
            col
        )
    if isinstance(kind, Date):
        # date.toordinal(): 0001-01-01 is day 1 (both calendars are proleptic Gregorian).
        return sql.SQL("textsend('A' || ({} - DATE '0001-01-01' + 1)::text)").format(col)
    raise TypeError(f"no canonical encoding for column {column} of type {kind}")


def _framed(
    column: str, kind: object, slot: str, *, utf8: bool
) -> tuple[sql.Composable, sql.Composable | None]:
    """One field's length-prefixed bytes, and the payload to compute once (or None).

    A uuid's frame is constant and a string's length is its octet length, so both are
    inline; other payloads are text whose length is only known once built: they are
    computed once per row, as columns of the subquery the rows come from (`t.<slot>`),
    rather than twice.
    """
    col = sql.Identifier(column)
    if isinstance(kind, Uuid):
        return sql.SQL("'\\x0000001155'::bytea || uuid_send({})").format(col), None
    if isinstance(kind, String):
        frame = sql.SQL(
            "int4send(octet_length({c}) + 1) || '\\x53'::bytea || textsend({c})"
            if utf8
            else "int4send(octet_length(convert_to({c}, 'UTF8')) + 1) || '\\x53'::bytea"
            " || convert_to({c}, 'UTF8')"
        )
        return frame.format(c=col), None
    payload = sql.SQL("{} AS {}").format(_payload(column, kind), sql.Identifier(slot))
    ref = sql.Identifier("t", slot)
    return sql.SQL("int4send(length({p})) || {p}").format(p=ref), payload


def _row_parts(entity: str, *, utf8: bool) -> tuple[sql.Composable, list[sql.Composable]]:
    model = next(m for m in DOMAIN_TABLES if table_name(m) == entity)
    fields: list[sql.Composable] = []
    payloads: list[sql.Composable] = []
    for i, c in enumerate(model.__table__.columns):  # type: ignore[attr-defined]
        framed, payload = _framed(c.name, c.type, f"_fold_p{i}", utf8=utf8)
        if c.nullable:
            framed = sql.SQL("coalesce({}, {})").format(framed, _NULL)
        fields.append(framed)
        if payload is not None:
            payloads.append(payload)
    return sql.SQL(" || ").join(fields), payloads


def fold_select(entity: str, where: sql.Composable, *, utf8: bool = False) -> sql.Composed:
    """count(*) and the word sums of the rows of `entity` (alias `t`) matching `where`;
    `utf8` only on a UTF8 server inside `UTF8_SETTINGS` (module docstring)."""
    row_bytes, payloads = _row_parts(entity, utf8=utf8)
    # Each payload is a column of the subquery the rows come from: built once per row
    # (a LATERAL subquery per row cost ~0.15 us more a transaction row, measured). OFFSET
    # 0 keeps each subquery whole: flattened, its expressions would be copied into every
    # reference (a payload built twice, a row digested once per word).
    rows = sql.SQL("(SELECT *{} FROM {} AS t WHERE {} OFFSET 0)").format(
        sql.SQL("").join(sql.SQL(", {}").format(p) for p in payloads),
        sql.Identifier(entity),
        where,
    )
    offsets = [sum(WORD_BYTES[:i]) for i in range(WORDS)]
    words = sql.SQL(", ").join(
        sql.SQL("coalesce(sum(substring(b FROM {} FOR {})::bit({})::bigint), 0)").format(
            sql.Literal(8 * at + 1), sql.Literal(8 * size), sql.Literal(8 * size)
        )
        for at, size in zip(offsets, WORD_BYTES, strict=True)
    )
    return sql.SQL(
        "SELECT count(*), {} FROM (SELECT ('x' || encode(sha256({}), 'hex'))::bit(256) AS b"
        " FROM {} AS t OFFSET 0) AS d"
    ).format(words, row_bytes, rows)


def fold_from_word_sums(sums: Sequence[int]) -> int:
    """The entity fold from the per-word sums (word 0 is the digest's most significant)."""
    if len(sums) != WORDS:
        raise ValueError(f"expected {WORDS} word sums, got {len(sums)}")
    total, below = 0, 0
    for size, word_sum in zip(reversed(WORD_BYTES), reversed(sums), strict=True):
        total += int(word_sum) << (8 * below)
        below += size
    return total % _MOD

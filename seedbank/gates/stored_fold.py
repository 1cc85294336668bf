"""The canonical fold of stored rows, computed by PostgreSQL next to the data.

`factories.digest` defines the entity fold (sum of the rows' SHA-256 digests mod 2**256)
over each row's canonical bytes, which are PostgreSQL's own `record_send` of the row
(`factories.record`, dataset format 2026.3). So the server digests each stored row in
one built-in call, `sha256(record_send(ROW(t.c1, ..., t.cn)))`, and sums each digest's
five words (7+7+7+7+4 bytes): only 5 sums and a count cross the wire, and
`fold_from_word_sums` turns them into the fold. Byte equality with
`factories.record.record_send` is what the determinism gate relies on:
tests/integration/test_stored_fold.py holds the two equal on every entity and on edge
values (NULL, zero and negative amounts, non-ASCII text, dates before 2000).

`record_send` sends text in the client encoding: the statement must run with
`UTF8_SETTINGS` (the read-back sets them locally), whatever the server's encoding.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from factories.record import RECORDS

WORD_BYTES = (7, 7, 7, 7, 4)
"""A SHA-256 digest cut into words below 64 bits, so each is a non-negative bigint whose
sum is exact in `numeric`; five words cost less to sum than eight 32-bit ones."""
WORDS = len(WORD_BYTES)
_MOD = 1 << 256
UTF8_SETTINGS = {"client_encoding": "UTF8"}
"""Set (locally) around a fold: `record_send` sends text in the client encoding."""


def _row(entity: str) -> sql.Composable:
    """``ROW(t.c1, ..., t.cn)`` in the column order of the generator's canonical record."""
    return sql.SQL("ROW({})").format(
        sql.SQL(", ").join(sql.Identifier("t", c.name) for c in RECORDS[entity])
    )


def fold_select(entity: str, where: sql.Composable) -> sql.Composed:
    """count(*) and the word sums of the rows of `entity` (alias `t`) matching `where`;
    run inside `UTF8_SETTINGS` (module docstring)."""
    offsets = [sum(WORD_BYTES[:i]) for i in range(WORDS)]
    words = sql.SQL(", ").join(
        sql.SQL("coalesce(sum(substring(b FROM {} FOR {})::bit({})::bigint), 0)").format(
            sql.Literal(8 * at + 1), sql.Literal(8 * size), sql.Literal(8 * size)
        )
        for at, size in zip(offsets, WORD_BYTES, strict=True)
    )
    # OFFSET 0 keeps the digest a column computed once per row: flattened, the expression
    # would be copied into each word's reference (a row digested once per word).
    return sql.SQL(
        "SELECT count(*), {} FROM (SELECT ('x' || encode(sha256(record_send({})), 'hex'))"
        "::bit(256) AS b FROM {} AS t WHERE {} OFFSET 0) AS d"
    ).format(words, _row(entity), sql.Identifier(entity), where)


def fold_from_word_sums(sums: Sequence[int]) -> int:
    """The entity fold from the per-word sums (word 0 is the digest's most significant)."""
    if len(sums) != WORDS:
        raise ValueError(f"expected {WORDS} word sums, got {len(sums)}")
    total, below = 0, 0
    for size, word_sum in zip(reversed(WORD_BYTES), reversed(sums), strict=True):
        total += int(word_sum) << (8 * below)
        below += size
    return total % _MOD

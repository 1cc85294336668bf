"""Foreign keys checked per batch, set-based, instead of per row (issue 17).

PostgreSQL checks a foreign key on INSERT with one trigger call per row (an SPI query
and a FOR KEY SHARE lock on the parent): ~10 µs of server CPU per row and key, two
thirds of what a transaction row costs to store. When the writing role may set
`session_replication_role` (migration 0007 grants it), the batch's `INSERT … SELECT`
runs with those triggers silenced and this module takes their place inside the same
transaction, once per key for the whole batch:

- it locks every distinct parent the batch references FOR KEY SHARE — the lock the
  trigger takes, so no parent can be deleted before the batch commits — and
- it counts them: a locked parent exists, so fewer locked parents than distinct
  non-NULL keys (MATCH SIMPLE: a key with a NULL column references nothing) means a
  missing parent, and the batch is refused before its commit.

Row-level security, unique and primary keys are untouched (they are not triggers). A
role without the privilege keeps the per-row triggers: same guarantee, slower.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from seedbank.domain.errors import SeedingFailed


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


def foreign_keys(conn: psycopg.Connection, table: str) -> list[ForeignKey]:
    """The foreign keys `table` declares (its side: the referencing columns)."""
    rows = conn.execute(
        "SELECT c.conname, c.confrelid::regclass::text,"
        " array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
        " array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
        "       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
        " FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = %s::regclass"
        " ORDER BY c.conname",
        (table,),
    ).fetchall()
    return [ForeignKey(str(n), tuple(cols), str(p), tuple(pcols)) for n, p, cols, pcols in rows]


def may_silence_row_checks(conn: psycopg.Connection) -> bool:
    """May this session set `session_replication_role` (PostgreSQL ≥ 15: a grant)?"""
    row = conn.execute(
        "SELECT CASE WHEN current_setting('server_version_num')::int >= 150000"
        " THEN has_parameter_privilege('session_replication_role', 'SET')"
        " ELSE (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) END"
    ).fetchone()
    return bool(row and row[0])


def _check(staging: str, fk: ForeignKey) -> sql.Composed:
    """Distinct keys of the batch, and how many of them a parent row answers (locked).

    Each distinct key probes the parent's key index once, as the trigger would (the
    LATERAL subquery with its row lock is never flattened): whatever the estimates of a
    fresh staging table, the plan cannot turn into a scan of the batch per parent row.
    """
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in fk.columns)
    not_null = sql.SQL(" AND ").join(
        sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in fk.columns
    )
    match = sql.SQL(" AND ").join(
        sql.SQL("{} = {}").format(sql.Identifier("p", pc), sql.Identifier("k", c))
        for c, pc in zip(fk.columns, fk.parent_columns, strict=True)
    )
    return sql.SQL(
        "SELECT count(*), count(l.found) FROM (SELECT DISTINCT {cols} FROM {st} WHERE {nn}) AS k"
        " LEFT JOIN LATERAL (SELECT true AS found FROM {parent} AS p WHERE {match}"
        " FOR KEY SHARE OF p) AS l ON true"
    ).format(
        cols=cols,
        st=sql.Identifier(staging),
        nn=not_null,
        parent=sql.Identifier(fk.parent),
        match=match,
    )


def check_batch_references(
    conn: psycopg.Connection, *, staging: str, table: str, keys: list[ForeignKey]
) -> None:
    """Lock and count the parents of the staged batch; refuse it if one is missing.

    Call in the writing transaction, after the rows are inserted (a key of the table to
    itself then finds the batch's own rows), with the triggers enabled again.
    """
    for fk in keys:
        row = conn.execute(_check(staging, fk)).fetchone()
        wanted, found = (int(row[0]), int(row[1])) if row else (0, 0)
        if found != wanted:
            raise SeedingFailed(
                f"a batch of {table} references {wanted - found} {fk.parent} row(s) that do"
                f" not exist (foreign key {fk.name}); nothing of this batch was written",
                fix="the parents were removed while the run wrote (a purge outside the run"
                " lock?): re-run the seed, which rewrites the missing parents first",
            )

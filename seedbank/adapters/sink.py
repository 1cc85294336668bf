"""The bulk write path: one batch's rows and its checkpoint in one transaction.

PostgreSQL refuses COPY into a table whose RLS applies to the role, so rows are
streamed with binary COPY into a per-session temp table, then moved with
`INSERT … SELECT` as the RLS-bound application role: the WITH CHECK policy still
judges every row (ARCHITECTURE "Writing"). Foreign keys are checked once per batch,
set-based, when the role may silence the per-row trigger checks
(`seedbank.adapters.references`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from factories.columnar import CopyPayload
from factories.spec import GENERATOR_VERSION
from seedbank.adapters.lock import check_fence
from seedbank.adapters.postgres import bind_tenant
from seedbank.adapters.references import (
    ForeignKey,
    check_batch_references,
    foreign_keys,
    may_silence_row_checks,
)
from seedbank.domain.errors import DatasetFormatMismatch, NonDeterministic


@dataclass(frozen=True)
class Checkpoint:
    run_id: uuid.UUID
    env: str
    mode: str
    entity: str
    batch_start: int
    batch_stop: int
    digest: str
    salt_version: int
    manifest_digest: str
    expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class WriteResult:
    rows: int
    skipped: bool


def _batch_key(tenant_id: uuid.UUID, cp: Checkpoint) -> int:
    text = f"seedbank/batch/{tenant_id}/{cp.env}/{cp.mode}/{cp.entity}/{cp.batch_start}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


class BatchSink:
    """Writes batches over one application-role connection (one per worker process)."""

    def __init__(self, conn: psycopg.Connection, *, set_based_references: bool = True) -> None:
        """`set_based_references=False` keeps PostgreSQL's per-row foreign-key checks even
        where the role may silence them (otherwise: per batch when it may)."""
        self._conn = conn
        self._types: dict[str, list[str]] = {}
        self._keys: dict[str, list[ForeignKey]] = {}
        self._set_based: bool | None = None if set_based_references else False

    @property
    def set_based_references(self) -> bool:
        """Are foreign keys checked per batch (True) or by PostgreSQL's per-row triggers?"""
        if self._set_based is None:
            with self._conn.transaction():
                self._set_based = may_silence_row_checks(self._conn)
        return self._set_based

    def staging(self, table: str, columns: Sequence[str]) -> tuple[str, list[str]]:
        staging = f"staging_{table}"
        if table not in self._types:
            self._types[table] = self._create_staging(staging, table, columns)
        return staging, self._types[table]

    def _create_staging(self, staging: str, table: str, columns: Sequence[str]) -> list[str]:
        # ON COMMIT DELETE ROWS: created once per session, emptied by every commit.
        with self._conn.transaction():
            self._conn.execute(
                sql.SQL(
                    "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS)"
                    " ON COMMIT DELETE ROWS"
                ).format(sql.Identifier(staging), sql.Identifier(table))
            )
            rows = self._conn.execute(
                "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a"
                " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                (table,),
            ).fetchall()
            self._keys[table] = foreign_keys(self._conn, table)
            if self._set_based is None:
                self._set_based = may_silence_row_checks(self._conn)
        by_name: dict[str, str] = {str(name): str(kind) for name, kind in rows}
        return [by_name[c] for c in columns]

    def write(
        self,
        *,
        tenant_id: uuid.UUID,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]] | CopyPayload,
        checkpoint: Checkpoint,
        record_checkpoint: bool = True,
    ) -> WriteResult:
        """Write rows + checkpoint atomically; skip a batch an earlier run already wrote.

        A dry run passes `record_checkpoint=False` inside its own outer transaction (rolled
        back: nothing to fence). Otherwise the run's lease is checked in the same
        transaction: a run whose lock was taken over writes nothing (`LeaseLost`).
        """
        staging, types = self.staging(table, columns)
        # Outside an outer transaction the staging table is empty (ON COMMIT DELETE ROWS;
        # an aborted batch's rows are dead): no TRUNCATE, which would give the temp table
        # a new file and rewrite its pg_class row (a catalogue change and an invalidation
        # every other backend reads) once per batch.
        nested = self._conn.info.transaction_status != TransactionStatus.IDLE
        with self._conn.transaction():
            bind_tenant(self._conn, tenant_id)
            if record_checkpoint:
                check_fence(
                    self._conn, tenant_id=tenant_id, env=checkpoint.env, run_id=checkpoint.run_id
                )
                # A stalled batch re-dispatched while its first copy still runs: the copy
                # waits here, then finds the checkpoint and skips (no unique violation).
                self._conn.execute(
                    "SELECT pg_advisory_xact_lock(%s)", (_batch_key(tenant_id, checkpoint),)
                )
            previous = self._conn.execute(
                "SELECT digest, generator_version FROM seed_checkpoint WHERE tenant_id = %s"
                " AND env = %s AND mode = %s AND entity = %s AND batch_start = %s",
                (tenant_id, checkpoint.env, checkpoint.mode, table, checkpoint.batch_start),
            ).fetchone()
            if previous is not None:
                if previous[1] != GENERATOR_VERSION:  # caught before any write by the stages
                    raise DatasetFormatMismatch(
                        f"batch {table}[{checkpoint.batch_start}:{checkpoint.batch_stop}] has a"
                        f" checkpoint of dataset format {previous[1]}, not {GENERATOR_VERSION}",
                        fix="purge the dataset and reseed",
                    )
                if previous[0] != checkpoint.digest:
                    raise NonDeterministic(
                        f"batch {table}[{checkpoint.batch_start}:{checkpoint.batch_stop}]"
                        f" produced digest {checkpoint.digest[:12]}…, but the checkpoint of an"
                        f" earlier run has {previous[0][:12]}…",
                        fix="the generator or its inputs changed (a salt changed under its version"
                        " is refused earlier, exit 7): purge the dataset and reseed",
                    )
                return WriteResult(rows=0, skipped=True)
            self.copy_rows(staging, table, columns, types, rows, truncate=nested)
            if record_checkpoint:
                self._insert_checkpoint(tenant_id, len(rows), checkpoint)
        return WriteResult(rows=len(rows), skipped=False)

    def copy_rows(
        self,
        staging: str,
        table: str,
        columns: Sequence[str],
        types: list[str],
        rows: Sequence[Sequence[Any]] | CopyPayload,
        *,
        truncate: bool = True,
    ) -> None:
        """Stage `rows` and move them into `table`; `truncate=False` when the staging
        table is known to be empty (a transaction of its own)."""
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        with self._conn.cursor() as cur:
            if truncate:  # a dry run moves many batches in one transaction
                cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(staging)))
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                sql.Identifier(staging), cols
            )
            with cur.copy(copy_sql) as copy:
                if isinstance(rows, CopyPayload):  # the columnar path's complete stream
                    copy.write(rows.data)
                else:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
            # The tenant row is shared by the baseline, load and DR datasets: a row another
            # dataset wrote is the same row, one an older dataset format wrote is rewritten.
            shared = sql.SQL(
                " ON CONFLICT (tenant_id) DO UPDATE SET slug = EXCLUDED.slug, env = EXCLUDED.env,"
                " name = EXCLUDED.name, created_at = EXCLUDED.created_at"
                if table == "tenant"
                else ""
            )
            keys = self._keys.get(table, [])
            set_based = bool(keys) and self.set_based_references
            if set_based:  # LOCAL: a rollback or the commit restores the triggers
                cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute(
                sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}{}").format(
                    sql.Identifier(table), cols, cols, sql.Identifier(staging), shared
                )
            )
            if set_based:
                cur.execute("SET LOCAL session_replication_role = origin")
                check_batch_references(self._conn, staging=staging, table=table, keys=keys)

    def _insert_checkpoint(self, tenant_id: uuid.UUID, rows: int, cp: Checkpoint) -> None:
        self._conn.execute(
            "INSERT INTO seed_checkpoint (tenant_id, id, run_id, env, mode, entity, batch_start,"
            " batch_stop, row_count, digest, salt_version, manifest_digest, expires_at,"
            " created_at, generator_version)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                tenant_id,
                uuid.uuid5(
                    tenant_id, f"checkpoint/{cp.env}/{cp.mode}/{cp.entity}/{cp.batch_start}"
                ),
                cp.run_id,
                cp.env,
                cp.mode,
                cp.entity,
                cp.batch_start,
                cp.batch_stop,
                rows,
                cp.digest,
                cp.salt_version,
                cp.manifest_digest,
                cp.expires_at,
                cp.created_at,
                GENERATOR_VERSION,
            ),
        )

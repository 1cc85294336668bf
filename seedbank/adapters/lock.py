"""One run per env/tenant at a time (FR-014).

`pg_try_advisory_lock` on a key derived from (env, tenant), held on the run's own
session, plus a `seed_lease` row (holder, TTL, heartbeat) that tells operators who
holds it. The advisory lock is the guard: PostgreSQL frees it the moment the
holder's session dies, so a crashed run can never wedge the tenant.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from seedbank.adapters.postgres import bind_tenant, connect
from seedbank.domain.errors import LockHeld

LEASE_TTL = timedelta(minutes=5)
POLL_SECONDS = 0.5


def lock_key(env: str, tenant: str) -> int:
    """A stable signed 64-bit advisory-lock key for (env, tenant)."""
    digest = hashlib.sha256(f"seedbank/{env}/{tenant}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class RunLock:
    def __init__(
        self, url: str, *, env: str, tenant: str, tenant_id: uuid.UUID, run_id: uuid.UUID
    ) -> None:
        self._url = url
        self.env, self.tenant, self.tenant_id, self.run_id = env, tenant, tenant_id, run_id
        self._conn: psycopg.Connection | None = None

    def acquire(self, *, wait_seconds: float = 0.0, holder: str) -> None:
        """Take the lock or raise `LockHeld` (after up to `wait_seconds`)."""
        conn = connect(self._url, autocommit=True)
        key = lock_key(self.env, self.tenant)
        deadline = time.monotonic() + wait_seconds
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row is not None and row[0]:
                break
            if time.monotonic() >= deadline:
                current = self._current_holder(conn)
                conn.close()
                raise LockHeld(
                    f"another seed run holds the lock for {self.env}/{self.tenant}"
                    + (f" ({current})" if current else ""),
                    fix="wait for it to finish, or retry with --wait=<seconds>",
                )
            time.sleep(POLL_SECONDS)
        self._conn = conn
        self._write_lease(holder)

    def heartbeat(self) -> None:
        if self._conn is None:
            return
        now = datetime.now(UTC)
        with self._conn.transaction():
            bind_tenant(self._conn, self.tenant_id)
            self._conn.execute(
                "UPDATE seed_lease SET heartbeat_at = %s, expires_at = %s"
                " WHERE tenant_id = %s AND env = %s AND run_id = %s",
                (now, now + LEASE_TTL, self.tenant_id, self.env, self.run_id),
            )

    def release(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            with conn.transaction():
                bind_tenant(conn, self.tenant_id)
                conn.execute(
                    "DELETE FROM seed_lease WHERE tenant_id = %s AND env = %s AND run_id = %s",
                    (self.tenant_id, self.env, self.run_id),
                )
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(self.env, self.tenant),))
        finally:
            conn.close()

    def _write_lease(self, holder: str) -> None:
        assert self._conn is not None
        now = datetime.now(UTC)
        with self._conn.transaction():
            bind_tenant(self._conn, self.tenant_id)
            # We hold the advisory lock: any lease row left is from a dead run.
            self._conn.execute(
                "INSERT INTO seed_lease (tenant_id, env, run_id, holder, acquired_at,"
                " heartbeat_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (tenant_id, env) DO UPDATE SET run_id = EXCLUDED.run_id,"
                " holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at,"
                " heartbeat_at = EXCLUDED.heartbeat_at, expires_at = EXCLUDED.expires_at",
                (self.tenant_id, self.env, self.run_id, holder, now, now, now + LEASE_TTL),
            )

    def _current_holder(self, conn: psycopg.Connection) -> str | None:
        with conn.transaction():
            bind_tenant(conn, self.tenant_id)
            row = conn.execute(
                "SELECT run_id, holder, heartbeat_at FROM seed_lease"
                " WHERE tenant_id = %s AND env = %s",
                (self.tenant_id, self.env),
            ).fetchone()
        if row is None:
            return None
        return f"run {row[0]} by {row[1]}, last heartbeat {row[2].isoformat(timespec='seconds')}"

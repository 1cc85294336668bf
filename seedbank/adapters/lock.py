"""One run per env/tenant at a time (FR-014), with a fenced lease.

`pg_try_advisory_lock` on a key derived from (env, tenant), held on the run's own
session, plus a `seed_lease` row (run id, epoch, holder, TTL, heartbeat). The
advisory lock decides who may take the lease: PostgreSQL frees it the moment the
holder's session dies, so a crashed run never wedges the tenant. The lease row is
the fencing token (Kleppmann, "How to do distributed locking"): every batch write,
checkpoint, purge and evidence index checks, in its own transaction, that the row
still names its run (`check_fence`, a `FOR KEY SHARE` read). A taker replaces the
row with DELETE + INSERT, which waits for the writers that passed the check, so a
run whose lease was taken over writes nothing after the takeover.

`RunLock` is a context manager: a daemon thread renews the lease well inside its TTL
and watches the session; when the session dies it re-acquires the lock if the lease
is still ours (bumping the epoch), otherwise the run is told at its next `check()`.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import TracebackType

import psycopg
import structlog

from seedbank.adapters import interrupts
from seedbank.adapters.postgres import bind_tenant, connect
from seedbank.domain.errors import DependencyUnavailable, LeaseLost, LockHeld

LEASE_TTL = timedelta(minutes=5)
HEARTBEAT_S = 5.0
"""Renewal period: 60 renewals per TTL, and a dead lock session is noticed in seconds."""
POLL_SECONDS = 0.5
log = structlog.get_logger()


def lock_key(env: str, tenant: str) -> int:
    """A stable signed 64-bit advisory-lock key for (env, tenant)."""
    digest = hashlib.sha256(f"seedbank/{env}/{tenant}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def check_fence(
    conn: psycopg.Connection,
    *,
    tenant_id: uuid.UUID,
    env: str,
    run_id: uuid.UUID,
    epoch: int | None = None,
) -> None:
    """Raise `LeaseLost` unless the env/tenant lease still names `run_id` (and `epoch`).

    Call inside the writing transaction, tenant bound: the share lock on the lease row
    holds a taker's DELETE until this transaction ends, so the check stays true up to
    the commit.
    """
    row = conn.execute(
        "SELECT run_id, epoch FROM seed_lease WHERE tenant_id = %s AND env = %s FOR KEY SHARE",
        (tenant_id, env),
    ).fetchone()
    if row is not None and row[0] == run_id and (epoch is None or row[1] == epoch):
        return
    taker = f"run {row[0]}" if row is not None and row[0] != run_id else "nobody"
    raise LeaseLost(
        f"run {run_id} lost the {env} lock lease (now held by {taker}); this write was refused",
        fix="nothing more was written by this run: re-run once the other run has finished",
    )


class RunLock:
    """The env/tenant run lock: `with RunLock(...) as lock:` holds, renews and releases it."""

    def __init__(
        self,
        url: str,
        *,
        env: str,
        tenant: str,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        holder: str = "seedbank",
        wait_seconds: float = 0.0,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self._url = url
        self.env, self.tenant, self.tenant_id, self.run_id = env, tenant, tenant_id, run_id
        self.holder, self.wait_seconds, self._heartbeat_s = holder, wait_seconds, heartbeat_s
        self.epoch: int | None = None
        self.abandoned: list[uuid.UUID] = []
        self._conn: psycopg.Connection | None = None
        self._held = False
        self._lost: LeaseLost | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    @property
    def backend_pid(self) -> int | None:
        """The lock session's server process (what an operator would terminate)."""
        return self._conn.info.backend_pid if self._conn is not None else None

    def acquire(self, *, wait_seconds: float | None = None, holder: str | None = None) -> None:
        """Take the lock or raise `LockHeld` (after up to `wait_seconds`); start renewing."""
        self.holder = holder or self.holder
        wait = self.wait_seconds if wait_seconds is None else wait_seconds
        conn = connect(self._url, autocommit=True)
        key = lock_key(self.env, self.tenant)
        deadline = time.monotonic() + wait
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
            try:
                interrupts.check()  # Ctrl-C while waiting for the lock
            except BaseException:
                conn.close()
                raise
            time.sleep(POLL_SECONDS)
        self._conn = conn
        self._take_lease()
        self._held = True
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._renew, name=f"lease-{self.env}-{self.tenant}", daemon=True
        )
        self._thread.start()

    def check(self) -> None:
        """Raise `LeaseLost` once the renewal thread has found the lease gone."""
        if self._lost is not None:
            raise self._lost

    def fence(self, conn: psycopg.Connection) -> None:
        """`check_fence` for this lock's run and current epoch, in the caller's transaction."""
        self.check()
        check_fence(
            conn, tenant_id=self.tenant_id, env=self.env, run_id=self.run_id, epoch=self.epoch
        )

    def heartbeat(self) -> None:
        """Renew the lease once; on a dead session, re-acquire or record the loss."""
        if not self._held or self._lost is not None:
            return
        if self._conn is None:
            self._reacquire()
            return
        try:
            now = datetime.now(UTC)
            with self._conn.transaction():
                bind_tenant(self._conn, self.tenant_id)
                cur = self._conn.execute(
                    "UPDATE seed_lease SET heartbeat_at = %s, expires_at = %s"
                    " WHERE tenant_id = %s AND env = %s AND run_id = %s AND epoch = %s",
                    (now, now + LEASE_TTL, self.tenant_id, self.env, self.run_id, self.epoch),
                )
            if cur.rowcount != 1:
                self._lose("its lease row was replaced")
        except psycopg.OperationalError:
            self._reacquire()

    def release(self) -> None:
        """Stop renewing, drop the lease row and the lock; never raises (cleanup in `finally`).

        On a dead session PostgreSQL already freed the advisory lock; the next taker
        clears the lease row.
        """
        self._stop.set()
        self._held = False
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._heartbeat_s + 10)
        self._thread = None
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
        except psycopg.Error as exc:
            log.warning("run lock released by its dead session", error=type(exc).__name__)
        finally:
            conn.close()

    def _renew(self) -> None:
        while not self._stop.wait(self._heartbeat_s):
            self.heartbeat()
            if self._lost is not None:
                return

    def _lose(self, why: str) -> None:
        self._lost = LeaseLost(
            f"run {self.run_id} lost the {self.env}/{self.tenant} lock ({why}) and stopped",
            fix="batches written before are kept; re-run once the other run has finished",
        )
        log.error("run lock lost", run_id=str(self.run_id), why=why)
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def _reacquire(self) -> None:
        """The lock session died: take the lock again if the lease is still ours."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        try:
            conn = connect(self._url, autocommit=True)
        except DependencyUnavailable:
            # The database is down: no one else can write either; retry at the next beat.
            log.warning("run lock session lost; database unreachable, retrying")
            return
        key = lock_key(self.env, self.tenant)
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if row is None or not row[0]:
                conn.close()
                self._lose("its session died and another run took the lock")
                return
            with conn.transaction():
                bind_tenant(conn, self.tenant_id)
                cur = conn.execute(
                    "UPDATE seed_lease SET epoch = nextval('seed_lease_epoch'), heartbeat_at = %s,"
                    " expires_at = %s WHERE tenant_id = %s AND env = %s AND run_id = %s"
                    " AND epoch = %s RETURNING epoch",
                    (
                        datetime.now(UTC),
                        datetime.now(UTC) + LEASE_TTL,
                        self.tenant_id,
                        self.env,
                        self.run_id,
                        self.epoch,
                    ),
                )
                renewed = cur.fetchone()
        except psycopg.OperationalError:
            conn.close()
            return  # the next beat tries again
        if renewed is None:
            conn.close()  # frees the advisory lock with the session
            self._lose("its session died and the lease was taken over meanwhile")
            return
        self.epoch = int(renewed[0])
        self._conn = conn
        log.warning("run lock session lost and re-acquired", epoch=self.epoch)

    def _take_lease(self) -> None:
        """We hold the advisory lock: any lease row or `running` run left is from a dead run."""
        assert self._conn is not None
        now = datetime.now(UTC)
        with self._conn.transaction():
            bind_tenant(self._conn, self.tenant_id)
            # DELETE (not an upsert) so that a dead run's writers still inside a fenced
            # transaction finish first: their FOR KEY SHARE blocks a DELETE, not an UPDATE.
            self._conn.execute(
                "DELETE FROM seed_lease WHERE tenant_id = %s AND env = %s",
                (self.tenant_id, self.env),
            )
            row = self._conn.execute(
                "INSERT INTO seed_lease (tenant_id, env, run_id, holder, acquired_at,"
                " heartbeat_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING epoch",
                (self.tenant_id, self.env, self.run_id, self.holder, now, now, now + LEASE_TTL),
            ).fetchone()
            assert row is not None
            self.epoch = int(row[0])
            abandoned = self._conn.execute(
                "UPDATE seed_run SET status = 'abandoned', finished_at = %s"
                " WHERE tenant_id = %s AND env = %s AND status = 'running' RETURNING id",
                (now, self.tenant_id, self.env),
            ).fetchall()
        self.abandoned = [r[0] for r in abandoned]
        if self.abandoned:
            log.warning(
                "runs found running without a lock marked abandoned",
                runs=[str(r) for r in self.abandoned],
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

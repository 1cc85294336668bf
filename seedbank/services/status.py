"""What is going on per env/tenant, from the control tables (the query side of `seed_data
status` and of the status metrics): who holds the lock, the last runs, the datasets
present with their TTL, and what `expurge` would remove now.

Read-only, as the RLS-bound application role: every control table is bound to one
tenant per transaction, so the tenants are the versioned profiles (or the one asked for).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from factories.spec import tenant_uuid
from seedbank.adapters.lock import lock_key
from seedbank.adapters.postgres import connect, tenant_transaction
from seedbank.adapters.profiles import all_profiles
from seedbank.domain.errors import ProfileNotFound, UsageError
from seedbank.domain.manifest import ENVS, SLUG

RUNS_SHOWN = 5


@dataclass(frozen=True)
class LockStatus:
    run_id: str
    holder: str
    acquired_at: datetime
    heartbeat_at: datetime
    lease_expires_at: datetime
    #: PostgreSQL still holds the advisory lock: False means a dead run left its lease row.
    held: bool
    heartbeat_age_s: float
    #: Seconds past the lease's expiry (0 while the heartbeat keeps it alive).
    overdue_s: float


@dataclass(frozen=True)
class RunStatus:
    run_id: str
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None


@dataclass(frozen=True)
class DatasetStatus:
    mode: str
    rows: int
    batches: int
    seeded_at: datetime
    expires_at: datetime | None
    expired: bool
    #: Seconds past expiry plus the grace period: a new run of the tenant is refused.
    overdue_s: float


@dataclass(frozen=True)
class Refusal:
    event: str
    reason: str
    at: datetime


@dataclass
class TenantStatus:
    env: str
    tenant: str
    lock: LockStatus | None = None
    runs: list[RunStatus] = field(default_factory=list)
    datasets: list[DatasetStatus] = field(default_factory=list)
    last_refusal: Refusal | None = None

    @property
    def expurge_would_remove(self) -> list[DatasetStatus]:
        return [d for d in self.datasets if d.expired]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["expurge_would_remove"] = [
            {"mode": d.mode, "rows": d.rows} for d in self.expurge_would_remove
        ]
        return out


def targets(profiles_dir: Path, *, env: str | None, tenant: str | None) -> list[tuple[str, str]]:
    """The env/tenant pairs to show: every versioned profile, filtered; bad input raises."""
    if env is not None and env not in ENVS:
        raise UsageError(f"unknown env {env!r}", fix=f"use one of {', '.join(ENVS)}")
    if tenant is not None and not SLUG.match(tenant):
        raise UsageError(
            f"tenant id {tenant!r} is not a valid slug",
            fix="use lowercase letters, digits and '-', 2-63 characters",
        )
    found = [(p.parent.name, p.stem) for p in all_profiles(profiles_dir)]
    chosen = [
        (e, t) for e, t in found if (env is None or e == env) and (tenant is None or t == tenant)
    ]
    if not chosen and (env or tenant):
        where = "/".join(x for x in (env, tenant) if x)
        raise ProfileNotFound(
            f"no versioned profile for {where} under {profiles_dir}",
            fix="check --env/--tenant, or point SEEDBANK_PROFILES_DIR at the profiles",
        )
    return chosen


def collect(
    url: str,
    pairs: list[tuple[str, str]],
    *,
    now: datetime,
    grace: timedelta,
    runs_shown: int = RUNS_SHOWN,
) -> list[TenantStatus]:
    """The status of every env/tenant pair, on one connection."""
    with connect(url) as conn:
        return [
            _tenant(conn, env, tenant, now=now, grace=grace, runs_shown=runs_shown)
            for env, tenant in pairs
        ]


def _tenant(
    conn: psycopg.Connection,
    env: str,
    tenant: str,
    *,
    now: datetime,
    grace: timedelta,
    runs_shown: int,
) -> TenantStatus:
    tenant_id = tenant_uuid(env, tenant)
    status = TenantStatus(env=env, tenant=tenant)
    with tenant_transaction(conn, tenant_id):
        status.lock = _lock(conn, env, tenant, tenant_id, now)
        status.runs = _runs(conn, env, tenant_id, runs_shown)
        status.datasets = _datasets(conn, env, tenant_id, now, grace)
        status.last_refusal = _refusal(conn, env, tenant_id)
    return status


def _lock(
    conn: psycopg.Connection, env: str, tenant: str, tenant_id: uuid.UUID, now: datetime
) -> LockStatus | None:
    row = conn.execute(
        "SELECT run_id, holder, acquired_at, heartbeat_at, expires_at FROM seed_lease"
        " WHERE tenant_id = %s AND env = %s",
        (tenant_id, env),
    ).fetchone()
    if row is None:
        return None
    key = lock_key(env, tenant) & 0xFFFFFFFFFFFFFFFF  # pg_locks shows the key as two oids
    held = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 1",
        (key >> 32, key & 0xFFFFFFFF),
    ).fetchone()
    run_id, holder, acquired, heartbeat, expires = row
    return LockStatus(
        run_id=str(run_id),
        holder=str(holder),
        acquired_at=acquired,
        heartbeat_at=heartbeat,
        lease_expires_at=expires,
        held=bool(held and held[0]),
        heartbeat_age_s=round(max(0.0, (now - heartbeat).total_seconds()), 1),
        overdue_s=round(max(0.0, (now - expires).total_seconds()), 1),
    )


def _runs(conn: psycopg.Connection, env: str, tenant_id: uuid.UUID, limit: int) -> list[RunStatus]:
    rows = conn.execute(
        "SELECT id, mode, status, started_at, finished_at FROM seed_run"
        " WHERE tenant_id = %s AND env = %s ORDER BY started_at DESC LIMIT %s",
        (tenant_id, env, limit),
    ).fetchall()
    return [
        RunStatus(
            run_id=str(run_id),
            mode=str(mode),
            status=str(status),
            started_at=started,
            finished_at=finished,
            duration_s=round((finished - started).total_seconds(), 1) if finished else None,
        )
        for run_id, mode, status, started, finished in rows
    ]


def _datasets(
    conn: psycopg.Connection, env: str, tenant_id: uuid.UUID, now: datetime, grace: timedelta
) -> list[DatasetStatus]:
    # The expurge purges a mode as soon as any of its checkpoints has expired.
    rows = conn.execute(
        "SELECT mode, coalesce(sum(row_count), 0), count(*), max(created_at), min(expires_at)"
        " FROM seed_checkpoint WHERE tenant_id = %s AND env = %s GROUP BY mode ORDER BY mode",
        (tenant_id, env),
    ).fetchall()
    out = []
    for mode, rows_total, batches, seeded, expires in rows:
        expired = expires is not None and expires <= now
        overdue = (now - (expires + grace)).total_seconds() if expired else 0.0
        out.append(
            DatasetStatus(
                mode=str(mode),
                rows=int(rows_total),
                batches=int(batches),
                seeded_at=seeded,
                expires_at=expires,
                expired=expired,
                overdue_s=round(max(0.0, overdue), 1),
            )
        )
    return out


def _refusal(conn: psycopg.Connection, env: str, tenant_id: uuid.UUID) -> Refusal | None:
    # The RLS probe's refused write is the gate passing, not a run refused.
    row = conn.execute(
        "SELECT event, reason, at FROM seed_audit WHERE tenant_id = %s AND env = %s"
        " AND outcome = 'refused' AND event <> 'rls_probe_refused' ORDER BY at DESC LIMIT 1",
        (tenant_id, env),
    ).fetchone()
    return Refusal(event=str(row[0]), reason=str(row[1]), at=row[2]) if row else None

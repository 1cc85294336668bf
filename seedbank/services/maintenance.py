"""Expurge of expired load/DR datasets (FR-016) and the right to be forgotten.

Both run under the env/tenant lock, leave an audit row, and seal a PII-free report
in the WORM store; the evidence of earlier runs stays where it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from factories.spec import tenant_uuid
from seedbank.adapters import audit
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect, tenant_transaction
from seedbank.adapters.purge import expired_datasets, purge_dataset
from seedbank.bootstrap import Wiring
from seedbank.domain.errors import LockHeld
from seedbank.domain.manifest import MODES
from seedbank.services import evidence


@dataclass
class TenantOutcome:
    env: str
    tenant: str
    purged: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: str | None = None
    evidence: dict[str, Any] | None = None


def expired_modes(w: Wiring, *, env: str, tenant: str, now: datetime) -> list[str]:
    with connect(w.settings.database_url) as conn:
        expired = expired_datasets(conn, tenant_id=tenant_uuid(env, tenant), env=env, at=now)
    return [mode for mode, _ in expired]


def expurge_tenant(w: Wiring, *, env: str, tenant: str, actor: str) -> TenantOutcome:
    """Purge every expired dataset of env/tenant; a no-op when none is expired."""
    outcome = TenantOutcome(env=env, tenant=tenant)
    now = datetime.now(UTC)
    modes = expired_modes(w, env=env, tenant=tenant, now=now)
    if not modes:
        return outcome
    tenant_id, run_id = tenant_uuid(env, tenant), uuid.uuid4()
    lock = RunLock(
        w.settings.database_url,
        env=env,
        tenant=tenant,
        tenant_id=tenant_id,
        run_id=run_id,
        holder=f"{actor} (expurge)",
    )
    try:
        lock.acquire()
    except LockHeld as exc:
        outcome.skipped = exc.sentence()  # a seed is running: the next schedule retries
        return outcome
    try:  # not `with lock`: entering would take the lock a second time, on a new session
        with connect(w.settings.database_url) as conn:
            for mode in modes:
                outcome.purged[mode] = purge_dataset(
                    conn, tenant_id=tenant_id, env=env, mode=mode, fence=lock.fence
                )
        _seal_and_audit(
            w, "expurge", env, tenant, run_id, actor, f"expurged {', '.join(modes)}", outcome, lock
        )
    finally:
        lock.release()
    return outcome


def forget_tenant(
    w: Wiring, *, env: str, tenant: str, actor: str, wait_seconds: float
) -> TenantOutcome:
    """Remove every synthetic row and checkpoint of env/tenant in every mode."""
    outcome = TenantOutcome(env=env, tenant=tenant)
    tenant_id, run_id = tenant_uuid(env, tenant), uuid.uuid4()
    with RunLock(
        w.settings.database_url,
        env=env,
        tenant=tenant,
        tenant_id=tenant_id,
        run_id=run_id,
        holder=f"{actor} (forget)",
        wait_seconds=wait_seconds,
    ) as lock:
        with connect(w.settings.database_url) as conn:
            for mode in MODES:
                outcome.purged[mode] = purge_dataset(
                    conn, tenant_id=tenant_id, env=env, mode=mode, fence=lock.fence
                )
            with tenant_transaction(conn, tenant_id):
                lock.fence(conn)
                cur = conn.execute("DELETE FROM tenant WHERE tenant_id = %s", (tenant_id,))
                outcome.purged["tenant"] = {"tenant": cur.rowcount}
                conn.execute("DELETE FROM seed_checkpoint WHERE tenant_id = %s", (tenant_id,))
        _seal_and_audit(
            w, "forget", env, tenant, run_id, actor, "removed every synthetic row", outcome, lock
        )
    return outcome


def _report(
    kind: str, env: str, tenant: str, run_id: uuid.UUID, actor: str, purged: dict[str, Any]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "run_id": str(run_id),
        "env": env,
        "tenant": tenant,
        "tenant_id": str(tenant_uuid(env, tenant)),
        "actor": actor,
        "at": datetime.now(UTC).isoformat(),
        "deleted_rows": purged,
        "deleted_total": sum(n for per_mode in purged.values() for n in per_mode.values()),
    }


def _seal_and_audit(
    w: Wiring,
    kind: str,
    env: str,
    tenant: str,
    run_id: uuid.UUID,
    actor: str,
    reason: str,
    outcome: TenantOutcome,
    lock: RunLock,
) -> None:
    """Seal the `kind` report of what was deleted in WORM, then audit it with its evidence."""
    outcome.evidence = evidence.seal(
        w,
        tenant_id=tenant_uuid(env, tenant),
        run_id=run_id,
        kind=kind,
        key=f"{kind}/{env}/{tenant}/{run_id}.json",
        document=_report(kind, env, tenant, run_id, actor, outcome.purged),
        fence=lock.fence,
    )
    audit.note(
        w.settings.database_url,
        audit.Subject(tenant_uuid(env, tenant), env, tenant, actor, run_id),
        event=kind,
        outcome="done",
        reason=reason,
        detail={"deleted": outcome.purged, "evidence": outcome.evidence},
    )

"""`seed_data purge`: the purge under the env/tenant lock, audited."""

from __future__ import annotations

import uuid

from factories.spec import tenant_uuid
from seedbank.adapters import audit
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect
from seedbank.purge import purge_dataset
from seedbank.settings import Settings


def run_purge(
    settings: Settings, *, env: str, tenant: str, mode: str, wait_seconds: float, actor: str
) -> dict[str, int]:
    tenant_id = tenant_uuid(env, tenant)
    run_id = uuid.uuid4()
    with RunLock(
        settings.database_url,
        env=env,
        tenant=tenant,
        tenant_id=tenant_id,
        run_id=run_id,
        holder=f"{actor} (purge)",
        wait_seconds=wait_seconds,
    ) as lock:
        with connect(settings.database_url) as conn:
            deleted = purge_dataset(conn, tenant_id=tenant_id, env=env, mode=mode, fence=lock.fence)
        audit.record(
            settings.database_url,
            audit.AuditEvent(
                tenant_id=tenant_id,
                env=env,
                tenant=tenant,
                event="purge",
                outcome="done",
                reason=f"purged the {mode} dataset",
                actor=actor,
                run_id=run_id,
                detail={"mode": mode, "deleted": deleted},
            ),
        )
    return deleted

"""`seed_data purge`: the purge under the env/tenant lock, audited, interruptible."""

from __future__ import annotations

import uuid

from factories.spec import tenant_uuid
from seedbank.adapters import audit
from seedbank.adapters.interrupts import stop_at_boundary
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect
from seedbank.adapters.purge import CHILDREN_FIRST, purge_dataset
from seedbank.domain.errors import Interrupted, SeedbankError
from seedbank.services.seeding.outcomes import cleanup
from seedbank.settings import Settings


def run_purge(
    settings: Settings, *, env: str, tenant: str, mode: str, wait_seconds: float, actor: str
) -> dict[str, int]:
    tenant_id = tenant_uuid(env, tenant)
    run_id = uuid.uuid4()
    deleted: dict[str, int] = {}

    who = audit.Subject(tenant_id, env, tenant, actor, run_id)

    def record(outcome: str, reason: str) -> None:
        detail = {"mode": mode, "deleted": deleted}
        audit.note(
            settings.database_url, who, event="purge", outcome=outcome, reason=reason, detail=detail
        )

    with (
        RunLock(
            settings.database_url,
            env=env,
            tenant=tenant,
            tenant_id=tenant_id,
            run_id=run_id,
            holder=f"{actor} (purge)",
            wait_seconds=wait_seconds,
        ) as lock,
        stop_at_boundary() as stop,
    ):
        try:
            with connect(settings.database_url) as conn:
                purge_dataset(
                    conn,
                    tenant_id=tenant_id,
                    env=env,
                    mode=mode,
                    fence=lock.fence,
                    deleted=deleted,
                    stop=stop.check,
                )
        except SeedbankError as exc:
            if deleted or isinstance(exc, Interrupted):
                exc.fix = _what_is_left(mode, deleted)
                exc.args = (exc.sentence(),)
            with cleanup("auditing the interrupted purge"):
                record("interrupted" if isinstance(exc, Interrupted) else "failed", exc.sentence())
            raise
        record("done", f"purged the {mode} dataset")
    return deleted


def _what_is_left(mode: str, deleted: dict[str, int]) -> str:
    left = [e for e in CHILDREN_FIRST if e not in deleted and e != "tenant"]
    done = sum(deleted.values())
    if not left:
        return f"every entity of the {mode} dataset was purged ({done} rows)"
    return (
        f"{done} rows of {len(deleted)} entities were deleted with their checkpoints; left:"
        f" {', '.join(left)}: re-run the purge to finish it (a seed re-run regenerates"
        " what is missing)"
    )

"""Prefect flow `expurge` (deployment `expurge/ttl`, cron): purge expired load/DR datasets.

Walks every versioned profile (or one env/tenant) and purges the datasets whose TTL
has passed; idempotent — a second run finds nothing expired and does nothing.
"""

from __future__ import annotations

from typing import Any

import structlog
from prefect import flow

from seedbank.adapters.profiles import all_profiles, check_target
from seedbank.bootstrap import wire
from seedbank.observability.logs import configure_logging, stage
from tasks.maintenance import expurge_tenant

log = structlog.get_logger()


@flow(name="expurge", log_prints=False, persist_result=False)
def expurge(
    env: str | None = None, tenant: str | None = None, actor: str = "prefect-deployment"
) -> dict[str, Any]:
    if not structlog.is_configured():
        configure_logging()
    w = wire()
    targets = [(p.parent.name, p.stem) for p in all_profiles(w.settings.profiles_dir)]
    if env or tenant:
        env, tenant = check_target(env=env, tenant=tenant)
        targets = [(env, tenant)]
    results: list[dict[str, Any]] = []
    with stage("expurge"):
        for target_env, target_tenant in targets:
            outcome = expurge_tenant(w, env=target_env, tenant=target_tenant, actor=actor)
            if outcome.purged or outcome.skipped:
                log.info(
                    "expurge",
                    env=target_env,
                    tenant=target_tenant,
                    purged_modes=sorted(outcome.purged),
                    skipped=outcome.skipped,
                )
            results.append(
                {
                    "env": target_env,
                    "tenant": target_tenant,
                    "purged": outcome.purged,
                    "skipped": outcome.skipped,
                    "evidence": outcome.evidence,
                }
            )
    return {"targets": len(targets), "results": [r for r in results if r["purged"] or r["skipped"]]}

"""Prefect flow `verify` (deployment `verify/tenant`): the post-deploy verification.

The Argo CD PostSync hook runs it through the Prefect API and waits: a failed gate
fails the flow run, and the hook then requests the rollback (FR-006). The outcome is
in the audit trail either way.
"""

from __future__ import annotations

from typing import Any

import structlog
from prefect import flow

from seedbank.observability.logs import configure_logging
from seedbank.services import conformance
from seedbank.settings import Settings
from tasks.maintenance import verify_database

log = structlog.get_logger()


@flow(name="verify", log_prints=False, persist_result=False)
def verify(
    tenant: str,
    env: str,
    mode: str = "baseline",
    wait_seconds: float = 60.0,
    actor: str = "prefect-deployment",
) -> dict[str, Any]:
    """Every gate over the env/tenant/mode dataset; raises `VerificationFailed` on failure."""
    if not structlog.is_configured():
        configure_logging()
    outcome = verify_database(
        Settings(), env=env, tenant=tenant, mode=mode, actor=actor, wait_seconds=wait_seconds
    )
    for gate in outcome.gates:
        log.info(
            "gate",
            gate=gate.name,
            status=gate.status,
            duration_s=gate.figures.get("duration_s"),
            failures=gate.figures.get("failures_total", 0),
        )
    outcome.raise_if_failed()
    return conformance.document(outcome.report)

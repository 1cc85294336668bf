"""Prefect flow `dr_drill` (deployment `dr-drill`, cron): rehearse a tenant's DR restore.

Under the env/tenant lock, finds the digest a faithful restore must reproduce (the
last sealed dr dataset's, or else the restore's own generator digest:
`seedbank.services.drill`) and simulates the loss of the tenant's DR dataset; then
regenerates it through the normal `seed` flow in `dr` mode (every guard and gate on),
checks digest equality, measures the restore time against the RTO budget (SC-005:
40 min target, 1 h RTO) and seals the drill report (a failed restore's too).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import structlog
from prefect import flow
from prefect.settings import temporary_settings

from flows.seed import seed
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect
from seedbank.adapters.profiles import check_target, load_profile
from seedbank.adapters.purge import purge_dataset
from seedbank.bootstrap import Wiring, wire
from seedbank.domain.errors import VerificationFailed
from seedbank.observability.logs import configure_logging, stage
from seedbank.services import artifacts, drill, evidence
from seedbank.services.seeding import outcomes
from seedbank.services.seeding.dataset import dataset_spec
from tasks.artifacts import publish

log = structlog.get_logger()
RTO_SECONDS = 3600.0
TARGET_SECONDS = 2400.0


@contextmanager
def _dr_target() -> Iterator[None]:
    """Point this process at SEEDBANK_DR_DATABASE_URL, when a separate DR target is given."""
    from seedbank.settings import Settings  # noqa: PLC0415  lazy: only when used

    target = Settings().dr_database_url
    previous = os.environ.get("SEEDBANK_DATABASE_URL")
    if target:
        os.environ["SEEDBANK_DATABASE_URL"] = target
    try:
        yield
    finally:
        if target and previous is not None:
            os.environ["SEEDBANK_DATABASE_URL"] = previous
        elif target:  # it was unset: leave it unset, not pointing at the DR target
            os.environ.pop("SEEDBANK_DATABASE_URL", None)


@flow(name="dr_drill", log_prints=False, persist_result=False)
def dr_drill(
    tenant: str,
    env: str,
    profile: str | None = None,
    rto_seconds: float = RTO_SECONDS,
    target_seconds: float = TARGET_SECONDS,
    actor: str = "prefect-deployment",
    breakglass: str | None = None,
) -> dict[str, Any]:
    if not structlog.is_configured():
        configure_logging()
    report: dict[str, Any] = {"kind": "dr_drill", "env": env, "tenant": tenant, "mode": "dr"}
    try:
        env, tenant = check_target(env=env, tenant=tenant)
        report = _drill(
            tenant=tenant,
            env=env,
            profile=profile,
            rto_seconds=rto_seconds,
            target_seconds=target_seconds,
            actor=actor,
            breakglass=breakglass,
            report=report,
        )
    except Exception as exc:
        failure = artifacts.failure_of(exc)
        publish(partial(artifacts.drill_artifacts, report, failure=failure))
        raise
    publish(partial(artifacts.drill_artifacts, report))
    return report


def _drill(
    *,
    tenant: str,
    env: str,
    profile: str | None,
    rto_seconds: float,
    target_seconds: float,
    actor: str,
    breakglass: str | None,
    report: dict[str, Any],
) -> dict[str, Any]:
    """The drill; fills `report` as it goes, so a failure's artifact shows how far it got."""
    with _dr_target():
        w = wire()
        loaded = load_profile(
            w.settings.profiles_dir,
            env=env,
            tenant=tenant,
            explicit=Path(profile) if profile else None,
        )
        manifest = loaded.manifest.model_copy(update={"mode": "dr"})
        spec = dataset_spec(manifest)
        drill_id = uuid.uuid4()
        at = datetime.now(UTC).isoformat()
        report.update({"drill_id": str(drill_id), "env": env, "tenant": tenant, "at": at})
        with (
            RunLock(
                w.settings.database_url,
                env=env,
                tenant=tenant,
                tenant_id=spec.tenant_id,
                run_id=drill_id,
                holder=f"{actor} (dr-drill)",
            ) as lock,
            connect(w.settings.database_url) as conn,
        ):
            with stage("drill-expected-digest"):
                sealed = drill.sealed_dataset(
                    w, conn, spec=spec, env=env, salt_version=manifest.pii.salt_version
                )
            with stage("drill-simulate-loss"):
                lost = purge_dataset(
                    conn, tenant_id=spec.tenant_id, env=env, mode="dr", fence=lock.fence
                )
        report["rows_lost"] = sum(lost.values())
        started = time.monotonic()
        try:
            with _no_own_heartbeat():
                restored = seed(
                    tenant=tenant,
                    env=env,
                    profile=str(loaded.path),
                    mode="dr",
                    actor=actor,
                    breakglass=breakglass,
                )
        except VerificationFailed as exc:  # a failed restore is a drill's evidence too
            report.update(drill.judge(sealed, {}).as_report())
            report.update(restore_error=exc.sentence(), restore_seconds=_since(started))
            with outcomes.cleanup("sealing the failed drill's report"):
                report["evidence"] = _seal(w, spec.tenant_id, drill_id, report)
            raise
        restore_s = _since(started)
        verdict = drill.judge(sealed, restored)
        report.update(
            {
                **verdict.as_report(),
                "restore_seconds": restore_s,
                "target_seconds": target_seconds,
                "rto_seconds": rto_seconds,
                "within_target": restore_s <= target_seconds,
                "within_rto": restore_s <= rto_seconds,
                "restore_run_id": restored["run_id"],
                "restore_run_evidence": restored["evidence"],
                "counts": restored["counts"],
                "gates": restored.get("gates"),
            }
        )
        with stage("drill-evidence"):
            report["evidence"] = _seal(w, spec.tenant_id, drill_id, report)
        log.info(
            "dr drill finished",
            expected_source=verdict.source,
            digest_equal=verdict.equal,
            restore_seconds=restore_s,
            within_rto=report["within_rto"],
        )
        if not verdict.equal:
            raise verdict.failure(drill_id)
        if not report["within_rto"]:
            raise VerificationFailed(
                f"DR drill {drill_id}: the restore took {restore_s} s,"
                f" over the RTO of {rto_seconds} s",
                fix="tune batch sizes/workers (see docs/performance.md); the report is sealed",
            )
        return report


@contextmanager
def _no_own_heartbeat() -> Iterator[None]:
    """The restore subflow runs in this process, whose flow run (the drill's) heartbeats;
    a heartbeat thread of its own would only add its join at the subflow's end (Prefect
    sleeps it in 1 s steps: ~0.7 s a flow run, measured; a plain seed pays it once)."""
    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


def _since(started: float) -> float:
    return round(time.monotonic() - started, 2)


def _seal(w: Wiring, tenant_id: uuid.UUID, drill_id: uuid.UUID, report: dict[str, Any]) -> Any:
    env, tenant = report["env"], report["tenant"]
    return evidence.seal(
        w,
        tenant_id=tenant_id,
        run_id=drill_id,
        kind="dr_drill",
        key=f"dr-drills/{env}/{tenant}/{drill_id}.json",
        document=report,
    )

"""Prefect flow `dr_drill` (deployment `dr-drill`, cron): rehearse a tenant's DR restore.

Records the digest a faithful restore must reproduce, simulates the loss of the
tenant's DR dataset, regenerates it through the normal `seed` flow in `dr` mode
(every guard and gate on), checks digest equality, measures the restore time
against the RTO budget (SC-005: 40 min target, 1 h RTO) and seals the drill report.
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

from flows.seed import seed
from seedbank.adapters.lock import RunLock
from seedbank.adapters.postgres import connect
from seedbank.adapters.profiles import check_target, load_profile
from seedbank.adapters.purge import purge_dataset
from seedbank.bootstrap import wire
from seedbank.domain.errors import VerificationFailed
from seedbank.observability.logs import configure_logging, stage
from seedbank.services import artifacts, evidence
from seedbank.services.drill import expected_dataset_digest
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
        with stage("drill-expected-digest"):
            salt = w.vault.read_salt(env, tenant, version=manifest.pii.salt_version)
            expected = expected_dataset_digest(spec, salt.value, manifest.generation.batch_size)
        with (
            stage("drill-simulate-loss"),
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
            lost = purge_dataset(
                conn, tenant_id=spec.tenant_id, env=env, mode="dr", fence=lock.fence
            )
        started = time.monotonic()
        restored = seed(
            tenant=tenant,
            env=env,
            profile=str(loaded.path),
            mode="dr",
            actor=actor,
            breakglass=breakglass,
        )
        restore_s = round(time.monotonic() - started, 2)
        report.update(
            {
                "kind": "dr_drill",
                "drill_id": str(drill_id),
                "env": env,
                "tenant": tenant,
                "at": datetime.now(UTC).isoformat(),
                "rows_lost": sum(lost.values()),
                "expected_dataset_digest": expected,
                "restored_dataset_digest": restored["dataset_digest"],
                "digest_equal": restored["dataset_digest"] == expected,
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
            report["evidence"] = evidence.seal(
                w,
                tenant_id=spec.tenant_id,
                run_id=drill_id,
                kind="dr_drill",
                key=f"dr-drills/{env}/{tenant}/{drill_id}.json",
                document=report,
            )
        log.info(
            "dr drill finished",
            digest_equal=report["digest_equal"],
            restore_seconds=restore_s,
            within_rto=report["within_rto"],
        )
        if not report["digest_equal"]:
            raise VerificationFailed(
                f"DR drill {drill_id}: the restored dataset digest differs from the expected one",
                fix="investigate the generator/salt versions; the drill report is sealed in WORM",
            )
        if not report["within_rto"]:
            raise VerificationFailed(
                f"DR drill {drill_id}: the restore took {restore_s} s,"
                f" over the RTO of {rto_seconds} s",
                fix="tune batch sizes/workers (see docs/performance.md); the report is sealed",
            )
        return report

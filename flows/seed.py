"""Prefect flow `seed` (deployment `seed/tenant`): one tenant, one env, one manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from prefect import flow
from prefect.runtime import deployment

from seedbank.adapters import audit
from seedbank.adapters.profiles import check_target, load_profile
from seedbank.bootstrap import Wiring, wire
from seedbank.domain.errors import SeedbankError, VerificationFailed
from seedbank.observability.logs import stage
from seedbank.services import artifacts, conformance, evidence
from seedbank.services.seeding import outcomes, stages
from seedbank.services.seeding import telemetry as run_telemetry
from seedbank.services.seeding.dry_run import dry_run_body
from seedbank.services.seeding.policy import execution_context
from tasks import stages as t
from tasks.artifacts import publish

log = structlog.get_logger()
CURRENT: list[stages.RunState] = []
"""The run this process started last (the CLI runs one flow per process)."""


@flow(name="seed", log_prints=False, persist_result=False)
def seed(
    tenant: str,
    env: str,
    profile: str | None = None,
    dry_run: bool = False,
    wait_seconds: float = 0.0,
    actor: str = "prefect-deployment",
    mode: str | None = None,
    breakglass: str | None = None,
    report: str | None = None,
) -> dict[str, Any]:
    """Provision the dataset the env/tenant manifest describes; returns the run summary."""
    run_telemetry.start("seed-flow")
    w = wire()
    try:
        env, tenant = check_target(env=env, tenant=tenant)
        loaded = load_profile(
            w.settings.profiles_dir,
            env=env,
            tenant=tenant,
            explicit=Path(profile) if profile else None,
        )
        run = stages.new_run(
            loaded.manifest, dry_run=dry_run, actor=actor, mode=mode, breakglass=breakglass
        )
    except Exception as refused:  # refused before a run existed: still in the tenant's history
        known = {"kind": "seed_run", "env": env, "tenant": tenant, "mode": mode}
        failure = artifacts.failure_of(refused)
        publish(lambda: artifacts.run_artifacts(known, failure=failure))
        raise
    CURRENT[:] = [run]  # for the CLI, should Prefect itself fail after the stages
    context = execution_context(actor, in_deployment=deployment.id is not None)
    structlog.contextvars.bind_contextvars(
        run_id=str(run.ctx.run_id), tenant=tenant, env=env, mode=run.ctx.mode, dry_run=dry_run
    )
    try:
        with run_telemetry.run_span(run):
            _stages(w, run, context=context, wait_seconds=wait_seconds)
    except Exception as raw:
        exc = outcomes.as_error(raw)  # an outage is exit 6 whatever the stage
        if exc is None:
            _publish_artifacts(run, raw)
            raise
        _fail(w, run, exc)
        _write_report(report, run, exc)
        run_telemetry.record_outcome(run, exc)
        _publish_artifacts(run, exc)
        if exc is raw:
            raise
        raise exc from None
    finally:
        with outcomes.cleanup("releasing the run lock"):
            t.release(run)
        structlog.contextvars.clear_contextvars()
    _write_report(report, run, None)
    run_telemetry.record_outcome(run, None)
    _publish_artifacts(run, None)
    return summary(run, report)


def _stages(w: Wiring, run: stages.RunState, *, context: str, wait_seconds: float) -> None:
    """guards → lock → salt → WORM preflight → [purge] → seed → verify → evidence."""
    t.guards(w, run, context)
    t.lock(w, run, wait_seconds)
    t.salt_check(w, run)
    t.worm_preflight(w, run)
    t.purge_previous(w, run)
    if run.dry_run:
        with stage("dry-run"):
            dry_run_body(w, run)
    else:
        t.seed_entities(w, run)
        t.verify(w, run)
        t.publish_evidence(w, run)
        evidence.finish_run(w, run, status="succeeded")


def _fail(w: Wiring, run: stages.RunState, exc: SeedbankError) -> None:
    """Seal, record and audit a failure; none of it may replace `exc` (issue 16)."""
    ctx = run.ctx
    status = outcomes.tell_truth(run, exc)  # after the first write: say what the database holds
    if isinstance(exc, VerificationFailed) and not run.dry_run:
        # A failed verification is evidence too (FR-022): seal it if the store takes it.
        with outcomes.cleanup("sealing the failed run's evidence"):
            evidence.publish(w, run, evidence.report(run, outcome="failed", error=exc.sentence()))
    with outcomes.cleanup("recording the run's status"):  # the audit row still records it
        evidence.finish_run(w, run, status=status)
    with outcomes.cleanup("writing the audit row"):
        audit.note(
            w.settings.database_url,
            ctx.subject(run.actor),
            event=exc.event,
            outcome="refused" if not run.batches else "failed",
            reason=exc.sentence(),
            detail={
                "mode": ctx.mode,
                "dry_run": run.dry_run,
                "exit_code": exc.exit_code,
                "status": status,
            },
        )


def _write_report(path: str | None, run: stages.RunState, exc: SeedbankError | None) -> None:
    """The conformance report (FR-005), for a passed run and a failed one alike."""
    if not path:
        return
    document = evidence.report(
        run, outcome="failed" if exc else "succeeded", error=exc.sentence() if exc else None
    )
    try:
        conformance.write(Path(path), document)
    except SeedbankError as write_exc:
        if exc is None:
            raise
        log.error("conformance report not written", error=write_exc.sentence())


def _publish_artifacts(run: stages.RunState, exc: BaseException | None) -> None:
    """The run's report and per-entity table in the Prefect UI, under the env/tenant key."""
    failure = artifacts.failure_of(exc)

    def build() -> artifacts.RunArtifacts:
        document = evidence.report(
            run, outcome="failed" if exc else "succeeded", error=failure.reason if failure else None
        )
        return artifacts.run_artifacts(document, evidence=run.evidence, failure=failure)

    publish(build)


def summary(run: stages.RunState, report: str | None = None) -> dict[str, Any]:
    ctx = run.ctx
    return {
        "run_id": str(ctx.run_id),
        "env": ctx.env,
        "tenant": ctx.tenant,
        "mode": ctx.mode,
        "dry_run": run.dry_run,
        "counts": run.counts,
        "dataset_digest": run.dataset_digest,
        "timings_s": run.timings,
        "evidence": run.evidence,
        "batches_written": sum(1 for b in run.batches if not b["skipped"]),
        "batches_skipped": sum(1 for b in run.batches if b["skipped"]),
        "purged_before_seeding": run.purged,
        "policy": run.policy.as_report() if run.policy else None,
        "verification": "failed" if any(g.failed for g in run.gates) else "passed",
        "gates": [g.as_dict() for g in run.gates],
        "report": report,
    }

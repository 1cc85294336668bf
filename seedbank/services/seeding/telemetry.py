"""Observability of one run: its root span, its outcome metrics, its Sentry alerts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import structlog
from prometheus_client import REGISTRY, push_to_gateway

from seedbank.domain import guards
from seedbank.domain.errors import (
    DependencyUnavailable,
    GuardRefused,
    SaltMismatch,
    SeedbankError,
    WormMisconfigured,
)
from seedbank.observability import metrics
from seedbank.observability.alerts import alert, init_sentry
from seedbank.observability.logs import configure_logging
from seedbank.observability.tracing import configure_tracing, safe_attributes, tracer
from seedbank.services.seeding.policy import slo_override
from seedbank.services.seeding.stages import RunState

log = structlog.get_logger()
#: Failures where a guard could not be satisfied and the run failed closed (Sentry).
FAIL_CLOSED = (DependencyUnavailable, SaltMismatch, WormMisconfigured)


def start(component: str) -> None:
    """Logging, tracing and Sentry, once per process (a no-op when already done)."""
    if not structlog.is_configured():
        configure_logging()
    configure_tracing(component)
    init_sentry(component)


@contextmanager
def run_span(run: RunState) -> Iterator[None]:
    ctx = run.ctx
    attributes = safe_attributes(
        {
            "seedbank.run_id": str(ctx.run_id),
            "seedbank.tenant": ctx.tenant,
            "seedbank.env": ctx.env,
            "seedbank.mode": ctx.mode,
            "seedbank.dry_run": run.dry_run,
        }
    )
    with tracer().start_as_current_span("seed run", attributes=attributes):
        yield


def record_outcome(run: RunState, exc: SeedbankError | None) -> None:
    ctx = run.ctx
    labels = {"tenant": ctx.tenant, "env": ctx.env, "mode": ctx.mode}
    outcome = "succeeded" if exc is None else ("refused" if not run.batches else "failed")
    metrics.RUNS.labels(**labels, outcome=outcome).inc()
    metrics.RUN_SECONDS.labels(**labels).set((datetime.now(UTC) - ctx.started_at).total_seconds())
    # From the manifest, not the policy outcome: a run the budget guard refused has none.
    slo = run.policy.slo_seconds if run.policy else guards.slo_seconds(ctx.env, slo_override())
    metrics.RUN_SLO_SECONDS.labels(**labels).set(slo)
    budget = guards.budget_verdict(ctx.manifest, guards.estimate(ctx.manifest))
    metrics.BUDGET_USED_RATIO.labels(**labels).set(float(budget.figures["ratio"]))
    if isinstance(exc, (GuardRefused, *FAIL_CLOSED)):
        metrics.GUARD_REFUSALS.labels(**labels, event=exc.event).inc()
    if isinstance(exc, FAIL_CLOSED):
        alert(
            f"seedbank run failed closed: {exc.event}",
            level="error",
            tenant=ctx.tenant,
            env=ctx.env,
            mode=ctx.mode,
            run_id=str(ctx.run_id),
        )
    _push(ctx.env, ctx.tenant)


def _push(env: str, tenant: str) -> None:
    """A flow run is short-lived: push its figures when a Pushgateway is configured."""
    from seedbank.settings import Settings  # noqa: PLC0415  lazy: only when used

    gateway = Settings().pushgateway_url
    if not gateway:
        return
    try:
        push_to_gateway(
            gateway,
            job="seedbank-flow",
            grouping_key={"env": env, "tenant": tenant},
            registry=REGISTRY,
        )
    except OSError as exc:
        log.warning("metrics push failed", error=type(exc).__name__)

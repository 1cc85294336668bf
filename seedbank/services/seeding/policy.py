"""Evaluating the run-policy guards against the clock and the database (before the lock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from seedbank.adapters import audit
from seedbank.adapters import purge as store
from seedbank.adapters.postgres import connect
from seedbank.domain import guards
from seedbank.domain.errors import DatabaseUnavailable, GuardRefused
from seedbank.domain.guards import Estimate, Verdict
from seedbank.observability.alerts import alert
from seedbank.services.seeding.batches import RunContext
from seedbank.settings import Settings

log = structlog.get_logger()


@dataclass(frozen=True)
class PolicyOutcome:
    estimate: Estimate
    verdicts: list[Verdict]
    slo_seconds: float

    def as_report(self) -> dict[str, object]:
        return {
            "estimate": {
                "rows": self.estimate.rows,
                "bytes": self.estimate.bytes,
                "batches": self.estimate.batches,
                "seconds": self.estimate.seconds,
                "usd": str(self.estimate.usd),
            },
            "slo_seconds": self.slo_seconds,
            "verdicts": [
                {"guard": v.guard, "outcome": v.outcome, "reason": v.reason, "figures": v.figures}
                for v in self.verdicts
            ],
        }


def execution_context(actor: str, *, in_deployment: bool) -> str:
    """ci, argo or deployment for pipeline runs; manual for a person at a terminal."""
    if in_deployment:
        return "deployment"
    for kind in ("ci", "argo"):
        if actor.startswith(f"{kind}:"):
            return kind
    return "manual"


def expired_datasets(url: str, ctx: RunContext) -> list[tuple[str, datetime]]:
    with connect(url) as conn:
        return store.expired_datasets(conn, tenant_id=ctx.tenant_id, env=ctx.env)


def slo_override() -> float | None:
    return Settings().slo_seconds  # SEEDBANK_SLO_SECONDS, bounded there


def grace_period() -> timedelta:
    return timedelta(hours=Settings().expurge_grace_hours)  # SEEDBANK_EXPURGE_GRACE_HOURS


def judge(
    url: str,
    ctx: RunContext,
    *,
    context: str,
    breakglass: str | None,
    now: datetime,
    est: Estimate,
    unchecked_ttl_warns: bool = False,
) -> list[Verdict]:
    """Every guard's verdict, in order: the one list a run and `seed_data plan` judge.

    With `unchecked_ttl_warns` (the plan), an unreachable database turns the TTL-debt
    verdict into a warning instead of failing the whole answer.
    """
    manifest = ctx.manifest
    try:
        ttl = guards.expiry_verdict(expired_datasets(url, ctx), now=now, grace=grace_period())
    except DatabaseUnavailable as exc:
        if not unchecked_ttl_warns:
            raise
        ttl = Verdict("ttl-debt", "warn", f"not checked: {exc.sentence()}")
    return [
        guards.policy_verdict(env=ctx.env, context=context, breakglass=breakglass),
        guards.window_verdict(manifest, env=ctx.env, mode=ctx.mode, now=now),
        guards.budget_verdict(manifest, est),
        ttl,
    ]


def evaluate(
    url: str,
    ctx: RunContext,
    *,
    context: str,
    breakglass: str | None,
    actor: str,
    now: datetime | None = None,
) -> PolicyOutcome:
    """Judge every guard; audit and raise `GuardRefused` on the first refusal."""
    moment = now or datetime.now(UTC)
    est = guards.estimate(ctx.manifest)
    verdicts = judge(url, ctx, context=context, breakglass=breakglass, now=moment, est=est)
    for verdict in verdicts:
        if verdict.outcome == "warn":
            log.warning("guard warning", guard=verdict.guard, reason=verdict.reason)
            alert(
                f"seedbank guard warning: {verdict.guard}",
                level="warning",
                tenant=ctx.tenant,
                env=ctx.env,
                mode=ctx.mode,
            )
            _audit(url, ctx, verdict, actor=actor, outcome="warned")
    refused = [v for v in verdicts if v.outcome == "refuse"]
    if refused:
        first = refused[0]
        error = GuardRefused(first.reason, fix=first.fix)
        error.event = f"guard_{first.guard}".replace("-", "_")[:32]
        raise error
    return PolicyOutcome(
        estimate=est,
        verdicts=verdicts,
        slo_seconds=guards.slo_seconds(ctx.env, slo_override()),
    )


def _audit(url: str, ctx: RunContext, verdict: Verdict, *, actor: str, outcome: str) -> None:
    audit.note(
        url,
        ctx.subject(actor),
        event=f"guard_{verdict.guard}".replace("-", "_")[:32],
        outcome=outcome,
        reason=verdict.reason,
        detail={"figures": verdict.figures},
    )


def slo_deadline(started: datetime, slo_seconds: float) -> datetime:
    return started + timedelta(seconds=slo_seconds * guards.SLO_TOLERANCE)

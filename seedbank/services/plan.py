"""`seed_data plan`: what a run would write and what the guards would say, before any lock."""

from __future__ import annotations

from datetime import UTC, datetime

from seedbank.domain import guards
from seedbank.domain.manifest import ENTITIES, Manifest
from seedbank.services.seeding.policy import execution_context, judge, slo_override
from seedbank.services.seeding.stages import new_run  # the run context the policy reads expiry with
from seedbank.settings import Settings


def render_plan(
    settings: Settings, manifest: Manifest, *, mode: str | None, actor: str, breakglass: str | None
) -> str:
    if mode is not None:
        manifest = manifest.model_copy(update={"mode": mode})
    meta, now = manifest.metadata, datetime.now(UTC)
    est = guards.estimate(manifest)
    lines = [
        f"plan for {meta.env}/{meta.tenant} ({manifest.mode}), manifest v{meta.version}"
        f" {manifest.digest()[:12]}",
        f"{'entity':<22} {'rows':>10} {'batches':>8} {'est. bytes':>12}",
    ]
    for entity in ("tenant", *ENTITIES):
        lines.append(
            f"{entity:<22} {est.rows[entity]:>10,} {est.batches[entity]:>8,}"
            f" {est.bytes.get(entity, 0):>12,}"
        )
    lines.append(
        f"{'total':<22} {est.total_rows:>10,} {sum(est.batches.values()):>8,}"
        f" {est.total_bytes:>12,}"
    )
    slo = guards.slo_seconds(meta.env, slo_override())
    lines.append(f"estimated duration {est.seconds} s (SLO {slo:g} s, abort at +20 %)")
    lines.append(f"estimated cost US${est.usd} of a US${manifest.budget.max_usd} budget")
    verdicts = judge(
        settings.database_url,
        new_run(manifest, dry_run=True, actor="plan").ctx,
        context=execution_context(actor, in_deployment=False),
        breakglass=breakglass,
        now=now,
        est=est,
        unchecked_ttl_warns=True,
    )
    lines.append("guards:")
    lines += [f"  {v.guard:<17} {v.outcome:<7} {v.reason}" for v in verdicts]
    return "\n".join(lines)

"""Run-policy guards, judged before anything is locked or written (pure: `now` is given).

Off-peak window for load/DR outside dev, FinOps budget (NFR-005, SC-006), SLO
duration budget (NFR-001), execution policy (FR-017) and TTL debt (FR-016). Each
guard returns a `Verdict`; the caller audits and raises on the first refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from seedbank.domain.manifest import ENTITIES, Manifest

Outcome = Literal["pass", "warn", "refuse"]

#: Duration budget per env (spec NFR-001); exceeding it by 20 % aborts the run.
SLO_SECONDS: dict[str, int] = {
    "dev": 300,
    "homolog": 600,
    "staging": 1200,
    "prod": 1200,
    "bench": 3600,
}
SLO_TOLERANCE = 1.2

#: Approximate stored bytes per row (heap tuple + item header + index entries),
#: measured on the dev baseline with `pg_column_size` plus the B-tree entries.
ROW_BYTES: dict[str, int] = {
    "app_user": 270,
    "advisor": 250,
    "account_category": 190,
    "supplier": 215,
    "customer": 285,
    "address": 230,
    "bank_account": 285,
    "credit_limit": 185,
    "contract": 270,
    "loan": 215,
    "installment": 205,
    "financial_transaction": 210,
}
#: Sustained rows/s of the seeding path on the reference machine (docs/performance.md).
ROWS_PER_SECOND = 20_000
EXECUTION_CONTEXTS = ("ci", "argo", "deployment")


@dataclass(frozen=True)
class Verdict:
    guard: str
    outcome: Outcome
    reason: str
    fix: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Estimate:
    rows: dict[str, int]
    bytes: dict[str, int]
    batches: dict[str, int]
    seconds: float
    usd: Decimal

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())


def estimate(manifest: Manifest) -> Estimate:
    counts = {"tenant": 1, **manifest.volumetry.counts()}
    size = manifest.generation.batch_size
    rows_bytes = {e: counts[e] * ROW_BYTES.get(e, 200) for e in ENTITIES}
    seconds = sum(counts.values()) / ROWS_PER_SECOND
    cost = manifest.budget
    usd = (
        Decimal(sum(counts.values())) / Decimal(1_000_000) * cost.usd_per_million_rows
        + Decimal(sum(rows_bytes.values())) / Decimal(2**30) * cost.usd_per_gib
        + Decimal(str(seconds)) / Decimal(3600) * cost.usd_per_cpu_hour
    ).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return Estimate(
        rows=counts,
        bytes=rows_bytes,
        batches={e: -(-counts[e] // size) for e in counts},
        seconds=round(seconds, 1),
        usd=usd,
    )


def budget_verdict(manifest: Manifest, est: Estimate) -> Verdict:
    limit = manifest.budget.max_usd
    ratio = est.usd / limit
    figures = {"estimated_usd": str(est.usd), "max_usd": str(limit), "ratio": f"{ratio:.3f}"}
    if ratio > 1:
        return Verdict(
            "budget",
            "refuse",
            f"the estimated cost US${est.usd} is above the budget of US${limit}",
            "reduce the volumetry or raise budget.max_usd in the manifest by pull request",
            figures,
        )
    if ratio >= manifest.budget.alert_ratio:
        return Verdict(
            "budget", "warn", f"the estimated cost is {ratio:.0%} of the budget", None, figures
        )
    return Verdict("budget", "pass", "within budget", None, figures)


def in_window(now: datetime, start: time, end: time) -> bool:
    moment = now.timetz().replace(tzinfo=None)
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # the window crosses midnight


def window_verdict(manifest: Manifest, *, env: str, mode: str, now: datetime) -> Verdict:
    window = manifest.window
    local = now.astimezone(ZoneInfo(window.timezone))
    figures = {"local_time": local.strftime("%H:%M"), "window": f"{window.start}-{window.end}"}
    if mode == "baseline" or env == "dev":
        return Verdict("window", "pass", "no off-peak window applies", None, figures)
    if in_window(local, window.start, window.end):
        return Verdict("window", "pass", "inside the off-peak window", None, figures)
    return Verdict(
        "window",
        "refuse",
        f"{mode} runs in {env} must start inside the off-peak window"
        f" {window.start:%H:%M}-{window.end:%H:%M} {window.timezone}"
        f" (it is {local:%H:%M} there)",
        "start it inside the window (the scheduled deployment does)",
        figures,
    )


def policy_verdict(*, env: str, context: str, breakglass: str | None) -> Verdict:
    figures = {"context": context, "breakglass": bool(breakglass)}
    if env == "dev" or context in EXECUTION_CONTEXTS:
        return Verdict("execution-policy", "pass", f"{context} run in {env}", None, figures)
    if breakglass and breakglass.strip():
        return Verdict(
            "execution-policy",
            "warn",
            f"breakglass run in {env}: {breakglass.strip()}",
            None,
            figures,
        )
    return Verdict(
        "execution-policy",
        "refuse",
        f"manual runs in {env} are not allowed: seeds there run from CI, Argo CD or a"
        " Prefect deployment under a service identity (FR-017)",
        'run it through the pipeline, or pass --breakglass "<approved reason>" (audited)',
        figures,
    )


def expiry_verdict(
    expired: list[tuple[str, datetime]], *, now: datetime, grace: timedelta
) -> Verdict:
    overdue = [(mode, at) for mode, at in expired if at + grace <= now]
    if not overdue:
        return Verdict("ttl-debt", "pass", "no expired dataset is overdue", None)
    mode, at = min(overdue, key=lambda item: item[1])
    return Verdict(
        "ttl-debt",
        "refuse",
        f"the {mode} dataset expired at {at:%Y-%m-%dT%H:%MZ} and is still present past the"
        f" {grace.total_seconds() / 3600:g} h grace period (FR-016)",
        "run the expurge (`seed_data expurge --tenant --env` or the expurge/ttl deployment)",
        {"overdue": [{"mode": m, "expired_at": a.isoformat()} for m, a in overdue]},
    )


def slo_seconds(env: str, override: float | None = None) -> float:
    return override if override is not None else float(SLO_SECONDS.get(env, 1200))

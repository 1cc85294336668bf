"""Run-policy guards: each refuses with the reason and the fix (issue 6)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from seedbank.adapters.profiles import default_profiles_dir, load_profile
from seedbank.domain import guards

DEV = load_profile(default_profiles_dir(), env="dev", tenant="acme").manifest
HOMOLOG = load_profile(default_profiles_dir(), env="homolog", tenant="acme").manifest
# 22:00-06:00 America/Sao_Paulo (UTC-3): 02:00 UTC is 23:00 there, 15:00 UTC is noon.
NIGHT = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
NOON = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)


def test_window_crossing_midnight() -> None:
    # Wall-clock times in the window's own zone: tz-aware like every caller's.
    assert guards.in_window(datetime(2026, 1, 1, 23, 30, tzinfo=UTC), time(22), time(6))
    assert guards.in_window(datetime(2026, 1, 1, 5, 59, tzinfo=UTC), time(22), time(6))
    assert not guards.in_window(datetime(2026, 1, 1, 6, 0, tzinfo=UTC), time(22), time(6))
    assert guards.in_window(datetime(2026, 1, 1, 10, 0, tzinfo=UTC), time(9), time(17))


def test_load_outside_dev_runs_only_off_peak() -> None:
    refused = guards.window_verdict(HOMOLOG, env="homolog", mode="load", now=NOON)
    assert refused.outcome == "refuse"
    assert "off-peak window 22:00-06:00 America/Sao_Paulo (it is 12:00 there)" in refused.reason
    assert guards.window_verdict(HOMOLOG, env="homolog", mode="load", now=NIGHT).outcome == "pass"
    assert (
        guards.window_verdict(HOMOLOG, env="homolog", mode="baseline", now=NOON).outcome == "pass"
    )
    assert guards.window_verdict(DEV, env="dev", mode="dr", now=NOON).outcome == "pass"


def test_budget_warns_at_the_alert_ratio_and_refuses_above() -> None:
    est = guards.estimate(DEV)
    assert est.total_rows == sum(DEV.volumetry.counts().values()) + 1
    assert guards.budget_verdict(DEV, est).outcome == "pass"
    near = DEV.model_copy(
        update={"budget": DEV.budget.model_copy(update={"max_usd": est.usd / Decimal("0.9")})}
    )
    assert guards.budget_verdict(near, est).outcome == "warn"
    over = DEV.model_copy(update={"budget": DEV.budget.model_copy(update={"max_usd": est.usd / 2})})
    verdict = guards.budget_verdict(over, est)
    assert verdict.outcome == "refuse"
    assert "above the budget" in verdict.reason
    assert verdict.fix


def test_manual_runs_outside_dev_need_breakglass() -> None:
    assert guards.policy_verdict(env="dev", context="manual", breakglass=None).outcome == "pass"
    refused = guards.policy_verdict(env="homolog", context="manual", breakglass=None)
    assert refused.outcome == "refuse"
    assert "--breakglass" in (refused.fix or "")
    assert (
        guards.policy_verdict(env="homolog", context="manual", breakglass="INC-42").outcome
        == "warn"
    )
    assert (
        guards.policy_verdict(env="homolog", context="manual", breakglass="  ").outcome == "refuse"
    )
    for context in ("ci", "argo", "deployment"):
        assert guards.policy_verdict(env="prod", context=context, breakglass=None).outcome == "pass"


def test_ttl_debt_refuses_only_past_the_grace_period() -> None:
    expired_at = NOON - timedelta(hours=30)
    overdue = guards.expiry_verdict([("load", expired_at)], now=NOON, grace=timedelta(hours=24))
    assert overdue.outcome == "refuse"
    assert "load dataset expired" in overdue.reason
    assert "expurge" in (overdue.fix or "")
    recent = guards.expiry_verdict([("load", expired_at)], now=NOON, grace=timedelta(hours=48))
    assert recent.outcome == "pass"


def test_slo_budgets_follow_the_spec() -> None:
    assert guards.slo_seconds("dev") == 300
    assert guards.slo_seconds("homolog") == 600
    assert guards.slo_seconds("prod") == 1200
    assert guards.slo_seconds("dev", override=1.5) == 1.5

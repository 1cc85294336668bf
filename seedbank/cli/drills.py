"""`seed_data dr-drill` and `load-test`: rehearsals against a seeded env/tenant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from seedbank.adapters.profiles import check_target, load_profile
from seedbank.cli.common import actor_identity, importing_flow
from seedbank.domain.inputs import check_mode, check_seconds
from seedbank.settings import Settings


def dr_drill_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    breakglass: Annotated[str | None, typer.Option(help="Reason for a manual drill.")] = None,
) -> None:
    """Rehearse the DR restore of env/tenant now (what the dr-drill schedule runs)."""
    with importing_flow():
        from flows.dr_drill import dr_drill  # noqa: PLC0415  lazy: +5 s (Prefect)

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    report = dr_drill(tenant=tenant_id, env=env_name, actor=actor_identity(), breakglass=breakglass)
    typer.echo(json.dumps(report, sort_keys=True, default=str))


def load_test_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    duration: Annotated[float, typer.Option(help="Seconds of load (1 to 3600).")] = 60.0,
    mode: Annotated[str, typer.Option(help="Dataset whose ids are requested.")] = "baseline",
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here too.")] = None,
) -> None:
    """Drive /api/v1 with seeded ids at the manifest's rate (<= 80 % of its cap)."""
    from seedbank.services.loadtest_setup import run_load_test  # noqa: PLC0415  lazy: +0.8 s

    check_seconds("--duration", duration, low=1, high=3600, example="60")
    env_name, tenant_id = check_target(env=env, tenant=tenant)
    check_mode(mode)
    settings = Settings()
    loaded = load_profile(settings.profiles_dir, env=env_name, tenant=tenant_id)
    result = run_load_test(settings, loaded.manifest, duration_s=duration, mode=mode)
    text = json.dumps(result.as_dict(), sort_keys=True, indent=2)
    if report is not None:
        report.write_text(text + "\n", encoding="utf-8")
    typer.echo(text)

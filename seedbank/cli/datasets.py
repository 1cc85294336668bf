"""`seed_data purge`, `expurge` and `forget`: removing datasets, under the lock, audited."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from seedbank.adapters.profiles import check_target
from seedbank.cli.common import actor_identity, importing_flow
from seedbank.domain.inputs import check_mode, check_wait
from seedbank.settings import Settings


def purge(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    mode: Annotated[str, typer.Option(help="baseline, load or dr.")] = "baseline",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the lock.")] = 0.0,
) -> None:
    """Delete one mode's dataset (rows and checkpoints) of an env/tenant, under the lock."""
    from seedbank.services.purge import run_purge  # noqa: PLC0415  lazy: +0.7 s

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    check_mode(mode)
    check_wait(wait)
    deleted = run_purge(
        Settings(),
        env=env_name,
        tenant=tenant_id,
        mode=mode,
        wait_seconds=wait,
        actor=actor_identity(),
    )
    total = sum(deleted.values())
    typer.echo(f"purged {total} rows of the {mode} dataset of {env_name}/{tenant_id}")


def expurge_cmd(
    tenant: Annotated[str | None, typer.Option(help="Tenant id (default: every profile).")] = None,
    env: Annotated[str | None, typer.Option(help="Env (with --tenant).")] = None,
) -> None:
    """Purge the load/DR datasets whose TTL has passed (what the expurge/ttl schedule runs)."""
    with importing_flow():
        from flows.expurge import expurge  # noqa: PLC0415  lazy: +5 s (Prefect)

    result = expurge(env=env, tenant=tenant, actor=actor_identity())
    typer.echo(json.dumps(result, sort_keys=True, default=str))


def forget_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    wait: Annotated[float, typer.Option(help="Seconds to wait for the lock.")] = 0.0,
) -> None:
    """Right to be forgotten: remove every synthetic row of env/tenant, keep the evidence."""
    from seedbank.bootstrap import wire  # noqa: PLC0415  lazy: +1 s (Celery, boto3)
    from seedbank.services.maintenance import forget_tenant  # noqa: PLC0415  lazy: +2 s (gates)

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    check_wait(wait)
    outcome = forget_tenant(
        wire(), env=env_name, tenant=tenant_id, actor=actor_identity(), wait_seconds=wait
    )
    total = sum(n for per_mode in outcome.purged.values() for n in per_mode.values())
    where = outcome.evidence["key"] if outcome.evidence else "-"
    typer.echo(f"forgot {env_name}/{tenant_id}: {total} rows removed; sealed report {where}")

"""`seed_data salt init|rotate`: the env/tenant anonymisation salt in Vault (dev/CI)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from seedbank.adapters.profiles import check_target
from seedbank.adapters.vault import VaultClient
from seedbank.domain.errors import GuardRefused
from seedbank.settings import Settings

salt_app = typer.Typer(help="Manage the env/tenant anonymisation salt in Vault (dev/CI).")


def _vault() -> VaultClient:
    from seedbank.bootstrap import vault_client  # noqa: PLC0415  lazy: +1 s (Celery, boto3)

    return vault_client(Settings())


@salt_app.command("init")
def salt_init(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
) -> None:
    """Create salt version 1 when the env/tenant has none (no-op otherwise)."""
    env_name, tenant_id = check_target(env=env, tenant=tenant)
    vault = _vault()
    current = vault.current_salt_version(env_name, tenant_id)
    if current is None:
        current = vault.write_new_salt(env_name, tenant_id)
        typer.echo(f"created salt version {current} for {env_name}/{tenant_id}")
    else:
        typer.echo(f"salt for {env_name}/{tenant_id} exists at version {current}")


@salt_app.command("rotate")
def salt_rotate(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
) -> None:
    """Write a new salt version; seeds then fail closed until purge + reseed (FR-024)."""
    env_name, tenant_id = check_target(env=env, tenant=tenant)
    if env_name not in {"dev", "bench"} and not os.environ.get("CI"):
        raise GuardRefused(
            f"salt rotation in {env_name} runs only in the Vault pipeline",
            fix="rotate it from CI (CI=true) or in dev",
        )
    version = _vault().write_new_salt(env_name, tenant_id)
    typer.echo(
        f"salt for {env_name}/{tenant_id} is now version {version}; set pii.salt_version: {version}"
        " in the manifest and purge + reseed the dataset"
    )

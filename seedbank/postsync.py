"""`seed_data post-sync`: the Argo CD PostSync gate (FR-006); the run is postsync_run.py.

Runs the verification deployment through the Prefect API and waits for it, up to
`--timeout`. Completed: audited as `post_sync_passed`, exit 0, no rollback. Anything
else (Failed, Crashed, Cancelled, a timeout, after which the run is cancelled, a missing
deployment, an unreachable API) requests ONE rollback of the Argo CD application to its
previous revision, is audited as `post_sync_failed` and exits non-zero (10 verification
failed or cancelled, 6 the Prefect API is unreachable), so the sync fails and promotion
stays blocked until the verification passes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from seedbank.adapters.profiles import check_target
from seedbank.domain.errors import UsageError


@dataclass(frozen=True)
class PostSyncRequest:
    tenant: str
    env: str
    deployment: str
    timeout_s: float
    params: dict[str, str]
    job_env: dict[str, str]
    actor: str


def post_sync(
    tenant: Annotated[str, typer.Option(help="Tenant id (slug) to verify.")],
    env: Annotated[str, typer.Option(help="Env to verify.")],
    deployment: Annotated[
        str, typer.Option(help="Verification deployment, flow/name.")
    ] = "verify/tenant",
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the verification; then it is cancelled.")
    ] = 600.0,
    param: Annotated[
        list[str] | None,
        typer.Option(help="Extra flow parameter key=value (repeatable), typed by the schema."),
    ] = None,
    job_env: Annotated[
        list[str] | None,
        typer.Option(help="Env var KEY=VALUE for the flow run's job (repeatable; tests, dev)."),
    ] = None,
) -> None:
    """Argo CD PostSync gate: run the verification deployment; on failure roll back, exit 1+."""
    # Imported late: the CLI imports this module, and `--help` must stay fast.
    from seedbank.cli import actor_identity
    from seedbank.observability.logs import configure_logging
    from seedbank.services.postsync import run_post_sync
    from seedbank.settings import Settings

    if timeout <= 0:
        raise UsageError("--timeout must be more than zero seconds", fix="pass e.g. --timeout=600")
    if deployment.count("/") != 1 or not all(deployment.split("/")):
        raise UsageError(f"--deployment {deployment!r} is not flow/name", fix="e.g. verify/tenant")
    env_name, tenant_id = check_target(env=env, tenant=tenant)
    request = PostSyncRequest(
        tenant=tenant_id,
        env=env_name,
        deployment=deployment,
        timeout_s=timeout,
        params=parse_pairs(param or [], "--param"),
        job_env=parse_pairs(job_env or [], "--job-env"),
        actor=actor_identity(),
    )
    configure_logging()
    run_post_sync(request, database_url=Settings().database_url)


def parse_pairs(values: list[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"{option} {value!r} is not key=value", fix=f"e.g. {option} name=value"
            )
        pairs[key.strip()] = text
    return pairs


def _types(prop: dict[str, Any]) -> set[str]:
    found = prop.get("type")
    types = set(found) if isinstance(found, list) else {found} if found else set()
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        types |= _types(option)
    return types


def coerce_params(raw: dict[str, str], schema: dict[str, Any]) -> dict[str, Any]:
    """Type `key=value` strings by the deployment's parameter schema: a string parameter
    stays a string (`tenant=123` is the tenant "123"), anything else is read as JSON."""
    properties: dict[str, Any] = schema.get("properties") or {}
    typed: dict[str, Any] = {}
    for key, text in raw.items():
        if key not in properties:
            raise UsageError(
                f"{key!r} is not a parameter of the verification deployment",
                fix=f"use one of {', '.join(sorted(properties)) or '(none)'}",
            )
        if "string" in _types(properties[key]):
            typed[key] = text
            continue
        try:
            typed[key] = json.loads(text)
        except ValueError:
            typed[key] = text  # the server's schema check names the problem
    return typed

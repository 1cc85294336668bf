"""`seed_data post-sync`: the Argo CD PostSync gate (FR-006); the run is services/postsync.py.

Runs the verification deployment through the Prefect API and waits for it, up to
`--timeout`. Completed: audited as `post_sync_passed`, exit 0, no rollback. Anything
else (Failed, Crashed, Cancelled, a timeout, after which the run is cancelled, a missing
deployment, an unreachable API) requests ONE rollback of the Argo CD application to its
previous revision, is audited as `post_sync_failed` and exits non-zero (10 verification
failed or cancelled, 6 the Prefect API is unreachable), so the sync fails and promotion
stays blocked until the verification passes.
"""

from __future__ import annotations

from typing import Annotated

import typer

from seedbank.adapters.profiles import check_target
from seedbank.cli.common import actor_identity
from seedbank.domain.errors import UsageError
from seedbank.domain.inputs import MAX_WAIT_SECONDS, check_seconds
from seedbank.settings import Settings


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
    from seedbank.services.postsync import (  # noqa: PLC0415  lazy: +1.5 s (Argo, Prefect API)
        PostSyncRequest,
        parse_pairs,
        run_post_sync,
    )

    check_seconds("--timeout", timeout, low=1, high=MAX_WAIT_SECONDS, example="600")
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
    from seedbank.observability.logs import configure_logging  # noqa: PLC0415  lazy: +0.7 s

    configure_logging()
    run_post_sync(request, database_url=Settings().database_url, echo=_echo)


def _echo(line: str, to_stderr: bool) -> None:
    typer.echo(line, err=to_stderr)

"""`seed_data --tenant --env` (the root command) and `seed_data plan`.

The seed runs the `seed` flow in this process and summarises it; `plan` shows what a run
would write and what the guards would say, writing nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from seedbank.adapters.interrupts import stop_at_boundary
from seedbank.adapters.profiles import LoadedProfile, check_target, load_profile
from seedbank.cli.common import actor_identity, importing_flow
from seedbank.domain.errors import DependencyUnavailable, SeedbankError, one_line
from seedbank.domain.inputs import check_mode, check_wait
from seedbank.services.seeding.outcomes import as_error, tell_truth
from seedbank.settings import Settings


def seed(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option(help="Tenant id (slug), e.g. acme.")] = None,
    env: Annotated[str | None, typer.Option(help="dev, homolog, staging, prod or bench.")] = None,
    profile: Annotated[
        Path | None,
        typer.Option(help="Manifest path (default profiles/<env>/<tenant>.yaml)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Run everything, then roll back; publish nothing."),
    ] = False,
    wait: Annotated[
        float,
        typer.Option(help="Seconds to wait for a running seed of the same env/tenant."),
    ] = 0.0,
    mode: Annotated[
        str | None,
        typer.Option(help="baseline, load or dr (default: the manifest's mode)."),
    ] = None,
    breakglass: Annotated[
        str | None,
        typer.Option(help="Approved reason for a manual run outside dev (audited, FR-017)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Write the conformance report: PATH (JSON) and PATH.md (FR-005)."),
    ] = None,
) -> None:
    """Seed one tenant in one env from its versioned manifest."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings()
    actor = actor_identity()
    try:
        check_wait(wait)
        check_mode(mode)
        env_name, tenant_id = check_target(env=env, tenant=tenant)
        loaded = load_profile(
            settings.profiles_dir, env=env_name, tenant=tenant_id, explicit=profile
        )
    except SeedbankError as exc:
        audit_refusal(settings, exc, env=env, tenant=tenant, actor=actor)
        raise
    run_seed(
        loaded,
        settings=settings,
        dry_run=dry_run,
        wait_seconds=wait,
        actor=actor,
        mode=mode,
        breakglass=breakglass,
        report=report,
    )


def run_seed(
    loaded: LoadedProfile,
    *,
    settings: Settings,
    dry_run: bool,
    wait_seconds: float,
    actor: str,
    mode: str | None = None,
    breakglass: str | None = None,
    report: Path | None = None,
) -> dict[str, Any]:
    with importing_flow():
        from flows.seed import CURRENT, seed  # noqa: PLC0415  lazy: +5 s (Prefect)
        from seedbank.observability import progress  # noqa: PLC0415  lazy: +0.5 s
        from seedbank.observability.logs import configure_logging  # noqa: PLC0415  lazy: +0.8 s

    meta = loaded.manifest.metadata
    configure_logging()
    reporter: progress.Reporter = (
        progress.RichReporter() if sys.stdout.isatty() else progress.LogReporter()
    )
    progress.use(reporter)
    started = time.monotonic()
    try:
        # SIGINT/SIGTERM stop dispatching at the next batch boundary; the flow then
        # records and says what is written (issue 16).
        with stop_at_boundary():
            result = seed(
                tenant=meta.tenant,
                env=meta.env,
                profile=str(loaded.path),
                dry_run=dry_run,
                wait_seconds=wait_seconds,
                actor=actor,
                mode=mode,
                breakglass=breakglass,
                report=str(report) if report else None,
            )
    except SeedbankError:
        raise
    except Exception as exc:
        mapped = as_error(exc)  # Prefect itself failing after (or between) the stages
        if mapped is not None and CURRENT:
            tell_truth(CURRENT[-1], mapped)
            raise mapped from None
        if "Failed to reach API" in str(exc):
            raise DependencyUnavailable(
                f"the Prefect API at {os.environ.get('PREFECT_API_URL', '(unset)')} is unreachable",
                fix="start it with `make up` or correct PREFECT_API_URL; nothing was written",
            ) from None
        raise
    finally:
        reporter.close()
    result["duration_s"] = round(time.monotonic() - started, 2)
    _print_summary(result)
    return result


def _print_summary(result: dict[str, Any]) -> None:
    if not sys.stdout.isatty():
        typer.echo(json.dumps({"event": "seed finished", **result}, sort_keys=True, default=str))
        return
    label = "DRY RUN (rolled back)" if result["dry_run"] else "seeded"
    typer.echo(
        f"{label} {result['env']}/{result['tenant']} ({result['mode']}) run {result['run_id']}"
    )
    for entity, count in result["counts"].items():
        typer.echo(f"  {entity:<22} {count:>10,}")
    typer.echo(f"  dataset digest  {result['dataset_digest']}")
    for gate in result.get("gates", []):
        typer.echo(f"  gate {gate['name']:<11} {gate['status']}")
    if result.get("report"):
        typer.echo(f"  report          {result['report']} (+ .md)")
    typer.echo(f"  duration        {result['duration_s']} s")
    if result.get("evidence"):
        ev = result["evidence"]
        typer.echo(
            f"  evidence        s3://{ev['bucket']}/{ev['key']} (version {ev['version_id']})"
        )


def audit_refusal(
    settings: Settings, exc: SeedbankError, *, env: str | None, tenant: str | None, actor: str
) -> None:
    """Record a refusal that happened before a run existed (bad tenant, missing profile)."""
    from factories.spec import tenant_uuid  # noqa: PLC0415  lazy: +0.5 s (models)
    from seedbank.adapters import audit  # noqa: PLC0415  lazy: +0.2 s

    # The refused values themselves may be the problem (a lone surrogate from a non-UTF-8
    # argv, a control character): recorded escaped and cut, as the sentence shows them.
    env_name = one_line(env, 16) if env else "unknown"
    tenant_name = one_line(tenant, 64) if tenant else "unknown"
    actor = one_line(actor, 128)
    try:
        tenant_id = tenant_uuid(env_name[:16], tenant_name[:64] if tenant else "unknown")
    except ValueError:
        tenant_id = tenant_uuid("unknown", "unknown")
    try:
        audit.note(
            settings.database_url,
            audit.Subject(tenant_id, env_name[:16], tenant_name[:64], actor),
            event=exc.event,
            outcome="refused",
            reason=exc.sentence(),
        )
    except SeedbankError:
        typer.echo(
            "seed_data: warning: the refusal could not be audited (database unreachable)", err=True
        )


def plan_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    mode: Annotated[str | None, typer.Option(help="baseline, load or dr.")] = None,
    breakglass: Annotated[str | None, typer.Option(help="Reason for a manual run.")] = None,
) -> None:
    """Show rows, batches, bytes, duration, cost and the guards' verdicts; writes nothing."""
    from seedbank.services.plan import render_plan  # noqa: PLC0415  lazy: +0.9 s

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    check_mode(mode)
    settings = Settings()
    loaded = load_profile(settings.profiles_dir, env=env_name, tenant=tenant_id)
    typer.echo(
        render_plan(
            settings, loaded.manifest, mode=mode, actor=actor_identity(), breakglass=breakglass
        )
    )

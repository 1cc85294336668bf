"""`seed_data --tenant --env`: run the `seed` flow in this process and summarise it."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import typer

from seedbank.adapters import audit
from seedbank.adapters.profiles import LoadedProfile
from seedbank.domain.errors import DependencyUnavailable, SeedbankError
from seedbank.observability import progress
from seedbank.observability.logs import configure_logging
from seedbank.services.seeding.interrupts import stop_at_boundary
from seedbank.settings import Settings


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
    # Prefect's own console lines (with tracebacks) would bury our one-line errors;
    # its logs still reach the Prefect API and UI.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    from flows.seed import seed  # Prefect is heavy to import: only when a run starts

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
        from flows.seed import CURRENT
        from seedbank.services.seeding.outcomes import as_error, tell_truth

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
    from factories.spec import tenant_uuid

    env_name = env or "unknown"
    tenant_name = tenant or "unknown"
    try:
        tenant_id = tenant_uuid(env_name[:16], tenant_name[:64] if tenant else "unknown")
    except ValueError:
        tenant_id = tenant_uuid("unknown", "unknown")
    try:
        audit.record(
            settings.database_url,
            audit.AuditEvent(
                tenant_id=tenant_id,
                env=env_name[:16],
                tenant=tenant_name[:64],
                event=exc.event,
                outcome="refused",
                reason=exc.sentence(),
                actor=actor,
            ),
        )
    except SeedbankError:
        typer.echo(
            "seed_data: warning: the refusal could not be audited (database unreachable)", err=True
        )

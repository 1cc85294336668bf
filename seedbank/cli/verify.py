"""`seed_data verify` and `seed_data verify-evidence`: re-checking after the fact.

The checks live in `seedbank.services.verify`; here they are printed, exit 10 on failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seedbank.cli.common import actor_identity
from seedbank.domain.inputs import check_mode, check_wait
from seedbank.settings import Settings


def verify(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    mode: Annotated[str, typer.Option(help="baseline, load or dr.")] = "baseline",
    report: Annotated[
        Path | None, typer.Option(help="Write the conformance report: PATH (JSON) and PATH.md.")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the lock.")] = 0.0,
) -> None:
    """Re-run every verification gate over what the database holds now (exit 10 on failure)."""
    check_mode(mode)
    check_wait(wait)
    verify_command(
        Settings(),
        env=env,
        tenant=tenant,
        mode=mode,
        report=report,
        wait=wait,
        actor=actor_identity(),
    )


def verify_evidence(
    run_id: Annotated[str, typer.Argument(help="The run id the seed printed.")],
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
) -> None:
    """Re-check a sealed run report in WORM: checksum, signature, retention (exit 10)."""
    verify_evidence_command(Settings(), run_id=run_id, env=env, tenant=tenant)


def verify_command(
    settings: Settings,
    *,
    env: str,
    tenant: str,
    mode: str,
    report: Path | None,
    wait: float,
    actor: str,
) -> None:
    """`seed_data verify`: the per-gate table, the report if asked, exit 10 on failure."""
    from seedbank.services import conformance  # noqa: PLC0415  lazy: +0.9 s
    from seedbank.services.verify import verify_database  # noqa: PLC0415  lazy: +2 s (gates)

    outcome = verify_database(
        settings, env=env, tenant=tenant, mode=mode, actor=actor, wait_seconds=wait
    )
    typer.echo(f"verify {env}/{tenant} ({mode}): {'FAILED' if outcome.failed else 'passed'}")
    for line in conformance.gate_table(outcome.gates):
        typer.echo(line)
    sealed, run_id = outcome.report["evidence"], outcome.report["run_id"]
    typer.echo(f"  sealed: s3://{sealed['bucket']}/{sealed['key']} (verification {run_id})")
    if report is not None:
        conformance.write(report, outcome.report)
        typer.echo(f"  report: {report} (+ .md)")
    outcome.raise_if_failed()


def verify_evidence_command(settings: Settings, *, run_id: str, env: str, tenant: str) -> None:
    """`seed_data verify-evidence`: one line per check, exit 10 when one fails."""
    from seedbank.services.verify import (  # noqa: PLC0415  lazy: +2 s (gates)
        raise_if_evidence_failed,
        verify_evidence,
    )

    checks = verify_evidence(settings, run_id=run_id, env=env, tenant=tenant)
    for c in checks:
        typer.echo(f"  {'ok' if c.ok else 'FAILED':<6} {c.check:<10} {c.object_key}: {c.detail}")
    raise_if_evidence_failed(run_id, checks)
    typer.echo(f"evidence of run {run_id} verified")

"""`seed_data`: the command-line entry point.

Errors are turned into one sentence and an exit code here, in one place
(see `seedbank.domain.errors` for the codes); a user never sees a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from seedbank.adapters.profiles import check_target, load_profile, validate_all
from seedbank.adapters.vault import VaultClient
from seedbank.domain.errors import GuardRefused, ManifestError, SeedbankError, UsageError
from seedbank.domain.manifest import MODES
from seedbank.observability.redaction import scrub_text
from seedbank.services.postsync import post_sync
from seedbank.settings import Settings

app = typer.Typer(
    name="seed_data",
    help="Provision deterministic, PII-safe synthetic banking data per tenant and env.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
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
        if wait < 0:
            raise UsageError("--wait must be zero or more seconds", fix="pass e.g. --wait=60")
        if mode is not None and mode not in MODES:
            raise UsageError(f"unknown mode {mode!r}", fix=f"use one of {', '.join(MODES)}")
        env_name, tenant_id = check_target(env=env, tenant=tenant)
        loaded = load_profile(
            settings.profiles_dir, env=env_name, tenant=tenant_id, explicit=profile
        )
    except SeedbankError as exc:
        # Imported late: keeps `--help` and input validation fast.
        from seedbank.cli.seed import audit_refusal

        audit_refusal(settings, exc, env=env, tenant=tenant, actor=actor)
        raise
    from seedbank.cli.seed import run_seed

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


def actor_identity() -> str:
    """Who started the run, for the audit trail: CI, Argo, or a person at a terminal."""
    import getpass
    import os

    for variable, label in (
        ("SEEDBANK_ACTOR", ""),
        ("GITHUB_ACTOR", "ci:"),
        ("ARGOCD_APP_NAME", "argo:"),
    ):
        value = os.environ.get(variable)
        if value:
            return f"{label}{value}"
    return f"manual:{getpass.getuser()}"


@app.command("purge")
def purge(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    mode: Annotated[str, typer.Option(help="baseline, load or dr.")] = "baseline",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the lock.")] = 0.0,
) -> None:
    """Delete one mode's dataset (rows and checkpoints) of an env/tenant, under the lock."""
    from seedbank.services.purge import run_purge

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}", fix=f"use one of {', '.join(MODES)}")
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


@app.command("expurge")
def expurge_cmd(
    tenant: Annotated[str | None, typer.Option(help="Tenant id (default: every profile).")] = None,
    env: Annotated[str | None, typer.Option(help="Env (with --tenant).")] = None,
) -> None:
    """Purge the load/DR datasets whose TTL has passed (what the expurge/ttl schedule runs)."""
    import json

    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    from flows.expurge import expurge

    result = expurge(env=env, tenant=tenant, actor=actor_identity())
    typer.echo(json.dumps(result, sort_keys=True, default=str))


@app.command("forget")
def forget_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    wait: Annotated[float, typer.Option(help="Seconds to wait for the lock.")] = 0.0,
) -> None:
    """Right to be forgotten: remove every synthetic row of env/tenant, keep the evidence."""
    from seedbank.bootstrap import wire
    from seedbank.services.maintenance import forget_tenant

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    outcome = forget_tenant(
        wire(), env=env_name, tenant=tenant_id, actor=actor_identity(), wait_seconds=wait
    )
    total = sum(n for per_mode in outcome.purged.values() for n in per_mode.values())
    where = outcome.evidence["key"] if outcome.evidence else "-"
    typer.echo(f"forgot {env_name}/{tenant_id}: {total} rows removed; sealed report {where}")


@app.command("dr-drill")
def dr_drill_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    breakglass: Annotated[str | None, typer.Option(help="Reason for a manual drill.")] = None,
) -> None:
    """Rehearse the DR restore of env/tenant now (what the dr-drill schedule runs)."""
    import json

    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    from flows.dr_drill import dr_drill

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    report = dr_drill(tenant=tenant_id, env=env_name, actor=actor_identity(), breakglass=breakglass)
    typer.echo(json.dumps(report, sort_keys=True, default=str))


@app.command("plan")
def plan_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    mode: Annotated[str | None, typer.Option(help="baseline, load or dr.")] = None,
    breakglass: Annotated[str | None, typer.Option(help="Reason for a manual run.")] = None,
) -> None:
    """Show rows, batches, bytes, duration, cost and the guards' verdicts; writes nothing."""
    from seedbank.services.plan import render_plan

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    settings = Settings()
    loaded = load_profile(settings.profiles_dir, env=env_name, tenant=tenant_id)
    typer.echo(
        render_plan(
            settings, loaded.manifest, mode=mode, actor=actor_identity(), breakglass=breakglass
        )
    )


@app.command("verify")
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
    from seedbank.services.verify import verify_command

    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}", fix=f"use one of {', '.join(MODES)}")
    verify_command(
        Settings(),
        env=env,
        tenant=tenant,
        mode=mode,
        report=report,
        wait=wait,
        actor=actor_identity(),
    )


@app.command("verify-evidence")
def verify_evidence(
    run_id: Annotated[str, typer.Argument(help="The run id the seed printed.")],
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
) -> None:
    """Re-check a sealed run report in WORM: checksum, signature, retention (exit 10)."""
    from seedbank.services.verify import verify_evidence_command

    verify_evidence_command(Settings(), run_id=run_id, env=env, tenant=tenant)


@app.command("load-test")
def load_test_cmd(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    env: Annotated[str, typer.Option(help="Env.")],
    duration: Annotated[float, typer.Option(help="Seconds of load.", min=1, max=3600)] = 60.0,
    mode: Annotated[str, typer.Option(help="Dataset whose ids are requested.")] = "baseline",
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here too.")] = None,
) -> None:
    """Drive /api/v1 with seeded ids at the manifest's rate (<= 80 % of its cap)."""
    from seedbank.services.loadtest_setup import run_load_test

    env_name, tenant_id = check_target(env=env, tenant=tenant)
    settings = Settings()
    loaded = load_profile(settings.profiles_dir, env=env_name, tenant=tenant_id)
    result = run_load_test(settings, loaded.manifest, duration_s=duration, mode=mode)
    text = json.dumps(result.as_dict(), sort_keys=True, indent=2)
    if report is not None:
        report.write_text(text + "\n", encoding="utf-8")
    typer.echo(text)


salt_app = typer.Typer(help="Manage the env/tenant anonymisation salt in Vault (dev/CI).")
app.add_typer(salt_app, name="salt")


def _vault() -> VaultClient:
    settings = Settings()
    token = settings.vault_token.get_secret_value() if settings.vault_token else None
    return VaultClient(settings.vault_addr, token, kv_mount=settings.vault_kv_mount)


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


@app.command("validate-profiles")
def validate_profiles(
    root: Annotated[Path | None, typer.Option(help="Profiles directory.")] = None,
) -> None:
    """Validate every profile under profiles/<env>/<tenant>.yaml."""
    directory = root or Settings().profiles_dir
    results = validate_all(directory)
    if not results:
        raise UsageError(f"no profiles found under {directory}", fix="pass --root=<profiles dir>")
    failed = 0
    for path, error in results:
        if error is None:
            typer.echo(f"ok      {path}")
        else:
            failed += 1
            typer.echo(f"invalid {error.sentence()}")
    typer.echo(f"{len(results) - failed} valid, {failed} invalid")
    if failed:
        raise ManifestError(
            f"{failed} of {len(results)} profiles are invalid",
            fix="correct them as listed above",
        )


@app.command("migrate")
def migrate() -> None:
    """Create or upgrade the schema, roles and RLS policies (owner/admin connection)."""
    from seedbank.adapters.migrations import upgrade

    settings = Settings()
    upgrade(settings.admin_database_url)
    typer.echo("schema is at the latest revision")


# Argo CD PostSync gate (FR-006); its options and logic live in seedbank/services/postsync.py.
app.command("post-sync")(post_sync)


def _fail(sentence: str) -> None:
    typer.echo(f"seed_data: error: {sentence}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the documented exit code instead of raising."""
    try:
        return _main(argv)
    except Exception as exc:  # a bug, not a user error: one line, traceback on request
        if os.environ.get("SEEDBANK_DEBUG"):
            raise
        from seedbank.services.seeding.outcomes import (
            as_error,  # an outage is exit 6, not a bug (issue 16)
        )

        if (mapped := as_error(exc)) is not None:
            _fail(mapped.sentence())
            return mapped.exit_code
        _fail(
            f"internal error ({type(exc).__name__}: {scrub_text(str(exc))[:200]}); re-run with"
            " SEEDBANK_DEBUG=1 for the traceback and report it."
        )
        return 1


def _main(argv: list[str] | None) -> int:
    try:
        app(args=argv, prog_name="seed_data", standalone_mode=False)
    except SeedbankError as exc:
        _fail(exc.sentence())
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _fail("aborted.")
        return 130
    except typer.TyperException as exc:  # Typer's vendored click usage errors
        text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(f"{text.rstrip('.')}; see `seed_data --help`.")
        return UsageError.exit_code
    return 0

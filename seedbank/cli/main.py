"""`seed_data`: the command-line entry point: the commands, registered in one place.

Errors are turned into one sentence and an exit code here, in one place
(see `seedbank.domain.errors` for the codes); a user never sees a traceback.
One module per command group beside this one: parse, call a service, print.
"""

from __future__ import annotations

import os

import typer

from seedbank.cli import admin, collector, datasets, drills, salt, seed, status, verify
from seedbank.cli.postsync import post_sync
from seedbank.domain.errors import SeedbankError, UsageError, one_line
from seedbank.observability.redaction import scrub_text

app = typer.Typer(
    name="seed_data",
    help="Provision deterministic, PII-safe synthetic banking data per tenant and env.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)


app.callback(invoke_without_command=True)(seed.seed)
app.command("purge")(datasets.purge)
app.command("expurge")(datasets.expurge_cmd)
app.command("forget")(datasets.forget_cmd)
app.command("dr-drill")(drills.dr_drill_cmd)
app.command("plan")(seed.plan_cmd)
app.command("verify")(verify.verify)
app.command("verify-evidence")(verify.verify_evidence)
app.command("load-test")(drills.load_test_cmd)
app.add_typer(salt.salt_app, name="salt")
app.command("validate-profiles")(admin.validate_profiles)
app.command("migrate")(admin.migrate)
# Argo CD PostSync gate (FR-006); its options live in seedbank/cli/postsync.py.
app.command("post-sync")(post_sync)
# Operators' view (locks, runs, datasets and TTL).
app.command("status")(status.status_command)


def _fail(sentence: str) -> None:
    typer.echo(f"seed_data: error: {one_line(sentence, 480)}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the documented exit code instead of raising. Without `argv`
    (the console script) this process is the command: `collector` spares it the garbage
    collector's passes over its imports and its teardown."""
    if argv is None:
        collector.own_process()
    try:
        return _main(argv)
    except Exception as exc:  # a bug, not a user error: one line, traceback on request
        if os.environ.get("SEEDBANK_DEBUG"):
            raise
        # An outage is exit 6, not a bug (issue 16); imported on this error path only.
        from seedbank.services.seeding.outcomes import as_error  # noqa: PLC0415

        if (mapped := as_error(exc)) is not None:
            _fail(mapped.sentence())
            return mapped.exit_code
        _fail(
            f"internal error ({type(exc).__name__}: {scrub_text(str(exc), 200)}); re-run with"
            " SEEDBANK_DEBUG=1 for the traceback and report it."
        )
        return 1
    finally:
        collector.before_exit()


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

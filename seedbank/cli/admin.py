"""`seed_data validate-profiles` and `migrate`: the profiles and the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from seedbank.adapters.profiles import validate_all
from seedbank.domain.errors import ManifestError, UsageError
from seedbank.settings import Settings


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


def migrate() -> None:
    """Create or upgrade the schema, roles and RLS policies (owner/admin connection)."""
    from seedbank.adapters.migrations import upgrade  # noqa: PLC0415  lazy: +0.7 s (alembic)

    settings = Settings()
    upgrade(settings.admin_database_url)
    typer.echo("schema is at the latest revision")

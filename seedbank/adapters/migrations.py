"""Schema migrations (Alembic), run with the owner/admin connection."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool
from sqlalchemy.exc import OperationalError

from seedbank.adapters.postgres import describe, sqlalchemy_url
from seedbank.errors import DatabaseUnavailable

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"


def upgrade(admin_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; a no-op when it is already there."""
    engine = create_engine(sqlalchemy_url(admin_url), poolclass=pool.NullPool)
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[-1] if exc.orig else "connection failed"
        raise DatabaseUnavailable(
            f"cannot migrate PostgreSQL at {describe(admin_url)} ({reason})",
            fix="start it with `make up` or correct SEEDBANK_ADMIN_DATABASE_URL",
        ) from None
    finally:
        engine.dispose()

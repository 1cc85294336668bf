"""Schema migrations (Alembic), run with the owner/admin connection."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import create_engine, pool
from sqlalchemy.exc import OperationalError

from seedbank.adapters.postgres import describe, sqlalchemy_url, with_database
from seedbank.domain.errors import DatabaseUnavailable

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


@dataclass(frozen=True)
class ScratchDatabase:
    """A throw-away database and its owner, application and read-only role URLs."""

    name: str
    admin_url: str
    app_url: str
    ro_url: str


@contextmanager
def scratch_database(
    server_url: str, *, prefix: str, migrate: bool = True
) -> Iterator[ScratchDatabase]:
    """`<prefix>_<hex>`, migrated to head unless `migrate` is False, dropped on exit
    (tests and `make bench`: never the demo database)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = ScratchDatabase(
        name=name,
        admin_url=with_database(server_url, dbname=name),
        app_url=with_database(server_url, dbname=name, user="seedbank_app"),
        ro_url=with_database(server_url, dbname=name, user="seedbank_ro"),
    )
    try:
        if migrate:
            upgrade(db.admin_url)
        yield db
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

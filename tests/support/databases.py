"""Throw-away databases: each test module gets its own, migrated, then dropped."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from seedbank.adapters.migrations import upgrade


@dataclass(frozen=True)
class ScratchDatabase:
    name: str
    admin_url: str
    app_url: str
    ro_url: str


def _with_db(url: str, *, dbname: str, user: str | None = None) -> str:
    """The same server URL with another database (and user, without password)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}@{netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{dbname}"))


@contextmanager
def temporary_database(server_url: str, *, migrate: bool = True) -> Iterator[ScratchDatabase]:
    name = f"seedbank_test_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = ScratchDatabase(
        name=name,
        admin_url=_with_db(server_url, dbname=name),
        app_url=_with_db(server_url, dbname=name, user="seedbank_app"),
        ro_url=_with_db(server_url, dbname=name, user="seedbank_ro"),
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

"""Throw-away databases: each test module gets its own, migrated, then dropped."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from seedbank.adapters.migrations import upgrade
from seedbank.adapters.postgres import with_database


@dataclass(frozen=True)
class ScratchDatabase:
    name: str
    admin_url: str
    app_url: str
    ro_url: str


@contextmanager
def temporary_database(server_url: str, *, migrate: bool = True) -> Iterator[ScratchDatabase]:
    name = f"seedbank_test_{secrets.token_hex(6)}"
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

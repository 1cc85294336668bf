"""PostgreSQL connections: the RLS-bound application role and the owner/admin role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from seedbank.domain.errors import DatabaseUnavailable

CONNECT_TIMEOUT_S = 5


def describe(url: str) -> str:
    """host:port/db of a connection URL, never its password."""
    info = conninfo_to_dict(url)
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"{info.get('user', '?')}@{host}:{port}/{info.get('dbname', '?')}"


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe(url)} ({reason})",
            fix="start it with `make up` or correct SEEDBANK_DATABASE_URL",
        ) from None


def bind_tenant(conn: psycopg.Connection, tenant_id: uuid.UUID) -> None:
    """Bind the current transaction to one tenant: RLS policies read this setting."""
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(tenant_id),))


@contextmanager
def tenant_transaction(conn: psycopg.Connection, tenant_id: uuid.UUID) -> Iterator[None]:
    """One transaction whose every statement is bound to `tenant_id` by RLS."""
    with conn.transaction():
        bind_tenant(conn, tenant_id)
        yield


def with_database(url: str, *, dbname: str, user: str | None = None) -> str:
    """The same server URL with another database (and user, without password)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}@{netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{dbname}"))


def sqlalchemy_url(url: str) -> str:
    """The psycopg 3 dialect URL SQLAlchemy/Alembic need for a libpq URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url

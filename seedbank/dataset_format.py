"""The dataset format (``GENERATOR_VERSION``) of what a tenant's dataset already holds.

A change of generated output is a new format; batches of two formats must never mix in
one dataset (their keys and digests differ, and business keys could collide). Each
checkpoint records the format it was written with (migration 0005; older rows are
2025.1), and a run refuses, before its first write, to extend a dataset of another.
"""

from __future__ import annotations

import uuid

import psycopg

from factories.spec import GENERATOR_VERSION
from seedbank.domain.errors import DatasetFormatMismatch


def other_formats(
    conn: psycopg.Connection, *, tenant_id: uuid.UUID, env: str, mode: str
) -> list[str]:
    """Formats other than this seedbank's among the dataset's checkpoints (caller binds RLS)."""
    rows = conn.execute(
        "SELECT DISTINCT generator_version FROM seed_checkpoint WHERE tenant_id = %s"
        " AND env = %s AND mode = %s AND generator_version <> %s",
        (tenant_id, env, mode, GENERATOR_VERSION),
    ).fetchall()
    return sorted(str(r[0]) for r in rows)


def refusal(env: str, tenant: str, mode: str, found: str) -> DatasetFormatMismatch:
    return DatasetFormatMismatch(
        f"the {mode} dataset of {env}/{tenant} was written by dataset format {found} and this"
        f" seedbank generates format {GENERATOR_VERSION}; nothing was written",
        fix=f"purge it (`seed_data purge --env={env} --tenant={tenant} --mode={mode}`) and reseed",
    )


def refuse_other_format(
    conn: psycopg.Connection, *, tenant_id: uuid.UUID, env: str, tenant: str, mode: str
) -> None:
    found = other_formats(conn, tenant_id=tenant_id, env=env, mode=mode)
    if found:
        raise refusal(env, tenant, mode, found[0])

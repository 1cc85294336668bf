"""The audit trail (`seed_audit`): every refusal and failure, without PII.

Written on its own short connection and committed at once, so a refusal is
recorded even when the run's own transaction is rolled back or never opened.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from seedbank.adapters.postgres import bind_tenant, connect


@dataclass(frozen=True)
class AuditEvent:
    tenant_id: uuid.UUID
    env: str
    tenant: str
    event: str
    outcome: str
    reason: str
    actor: str
    run_id: uuid.UUID | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Subject:
    """Who acted on which env/tenant (and run): what every audit row of one operation shares."""

    tenant_id: uuid.UUID
    env: str
    tenant: str
    actor: str
    run_id: uuid.UUID | None = None


def note(
    url: str,
    who: Subject,
    *,
    event: str,
    outcome: str,
    reason: str,
    detail: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Append one audit row about `who` (`record` on its own committed connection)."""
    return record(
        url,
        AuditEvent(
            tenant_id=who.tenant_id,
            env=who.env,
            tenant=who.tenant,
            event=event,
            outcome=outcome,
            reason=reason,
            actor=who.actor,
            run_id=who.run_id,
            detail=detail or {},
        ),
    )


def record(url: str, event: AuditEvent) -> uuid.UUID:
    """Append one audit row; returns its id."""
    audit_id = uuid.uuid4()  # an audit row is an event, not seeded data: no determinism needed
    with connect(url) as conn, conn.transaction():
        write(conn, event, audit_id=audit_id)
    return audit_id


def write(conn: psycopg.Connection, event: AuditEvent, *, audit_id: uuid.UUID) -> None:
    bind_tenant(conn, event.tenant_id)
    conn.execute(
        "INSERT INTO seed_audit (tenant_id, id, run_id, env, tenant, event, outcome, reason,"
        " actor, detail, at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            event.tenant_id,
            audit_id,
            event.run_id,
            event.env,
            event.tenant,
            event.event,
            event.outcome,
            event.reason,
            event.actor,
            json.dumps(event.detail, sort_keys=True, default=str),
            datetime.now(UTC),
        ),
    )

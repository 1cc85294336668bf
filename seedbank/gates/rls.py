"""Gate `rls-probe`: as the application role bound to the run's tenant, another tenant's
row is invisible and every write carrying another tenant's id is refused (US1-AC2).

The probe plants one row for a probe tenant (bound to that tenant, as RLS allows),
re-binds to the run's tenant, then reads and writes across: all inside a savepoint
that is rolled back, so nothing of it survives. The refusal is audited on its own
connection, so it is on record even inside a dry run.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql

from seedbank.adapters import audit
from seedbank.adapters.postgres import bind_tenant
from seedbank.domain.errors import SeedbankError
from seedbank.domain.models import CONTROL_TABLES, DOMAIN_TABLES, table_name
from seedbank.gates.model import Failures, GateContext, GateResult

RLS_REFUSED = "42501"  # insufficient_privilege: "new row violates row-level security policy"


def probe_tenant(tenant_id: uuid.UUID) -> uuid.UUID:
    """A tenant id no real tenant has, stable per tenant (ids of seeded tenants are uuid5
    of env/tenant under the project namespace; this one is under the tenant's own id)."""
    return uuid.uuid5(tenant_id, "rls-probe")


def rls_probe_gate(ctx: GateContext) -> GateResult:
    conn, target = ctx.conn, ctx.target
    failures = Failures()
    other = probe_tenant(target.tenant_id)
    role = conn.execute(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if role is None or role[1] or role[2]:
        failures.add(
            "role",
            None,
            None,
            "the verification connection bypasses row-level security (superuser or BYPASSRLS):"
            " connect as the application role",
        )
        return failures.result("rls-probe", {"role": role[0] if role else None})
    tables = [table_name(m) for m in (*DOMAIN_TABLES, *CONTROL_TABLES)]
    refused: list[str] = []
    visible = True
    try:
        with conn.transaction():  # savepoint: everything below is rolled back
            bind_tenant(conn, other)
            conn.execute(
                "INSERT INTO tenant (tenant_id, slug, env, name, created_at)"
                " VALUES (%s, 'rls-probe', %s, 'RLS probe', %s)",
                (other, target.env, datetime.now(UTC)),
            )
            bind_tenant(conn, target.tenant_id)
            seen = conn.execute(
                "SELECT count(*) FROM tenant WHERE tenant_id = %s", (other,)
            ).fetchone()
            visible = seen is None or seen[0] != 0
            if visible:
                failures.add("tenant", str(other), "tenant_id", "another tenant's row is visible")
            for table in tables:
                outcome = _write_across(conn, table, other)
                if outcome == RLS_REFUSED:
                    refused.append(table)
                else:
                    failures.add(
                        table,
                        None,
                        "tenant_id",
                        f"a write with another tenant's id was not refused by RLS ({outcome})",
                    )
            raise _Rollback
    except _Rollback:
        pass
    bind_tenant(conn, target.tenant_id)  # a rolled-back savepoint restores it; be explicit
    figures: dict[str, Any] = {
        "probe_tenant_id": str(other),
        "tables_probed": len(tables),
        "writes_refused": len(refused),
        "probe_row_visible": visible,
    }
    figures["audit_id"] = _audit(ctx, refused, other, failures)
    return failures.result("rls-probe", figures)


class _Rollback(Exception):
    """Leaves the probe's savepoint through a rollback."""


def _write_across(conn: psycopg.Connection, table: str, other: uuid.UUID) -> str:
    """SQLSTATE of an INSERT carrying `other`'s tenant id while bound to the run's tenant.

    RLS's WITH CHECK runs before NOT NULL and foreign keys, so a one-column insert is
    refused by RLS or, if RLS let it through, fails on another constraint (or lands).
    """
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("INSERT INTO {} (tenant_id) VALUES (%s)").format(sql.Identifier(table)),
                (other,),
            )
    except psycopg.Error as exc:
        return str(exc.sqlstate or type(exc).__name__)
    return "accepted"


def _audit(
    ctx: GateContext, refused: list[str], other: uuid.UUID, failures: Failures
) -> str | None:
    """Record the refusal (US1-AC2): ids and table names only, never a row's values."""
    target = ctx.target
    if target.audit_url is None:
        failures.add("seed_audit", None, None, "no audit connection: the refusal is not on record")
        return None
    try:
        audit_id = audit.note(
            target.audit_url,
            audit.Subject(target.tenant_id, target.env, target.tenant, target.actor, target.run_id),
            event="rls_probe_refused",
            outcome="refused" if refused else "failed",
            reason=(
                f"verification probe: PostgreSQL refused {len(refused)} cross-tenant writes"
                " as the application role"
            ),
            detail={
                "probe_tenant_id": str(other),
                "tables": refused,
                "sqlstate": RLS_REFUSED,
                "dry_run": target.dry_run,
            },
        )
    except SeedbankError as exc:
        failures.add("seed_audit", None, None, f"the refusal could not be audited ({exc.message})")
        return None
    return str(audit_id)

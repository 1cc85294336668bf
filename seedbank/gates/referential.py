"""Gate `referential`: every child's parent exists for the same tenant and dataset, the
ownership chains the generator guarantees hold, and no other tenant's row is visible.

The composite foreign keys make a cross-tenant reference impossible while they are
enforced; this gate proves it held for the rows as stored (a restore, a replica-mode
session or a disabled trigger could have let one through).
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from seedbank.domain.models import CONTROL_TABLES, DOMAIN_TABLES, table_name
from seedbank.gates.model import Failures, GateContext, GateResult

LIMIT = 50  # rows listed per broken rule: enough to act on, bounded on a broken dataset


@dataclass(frozen=True)
class ForeignKey:
    child: str
    column: str  # the child's column that holds the parent's id
    parent: str
    parent_column: str


def foreign_keys() -> list[ForeignKey]:
    """Each foreign key of the schema as (child column -> parent column), tenant_id aside."""
    keys: list[ForeignKey] = []
    for model in DOMAIN_TABLES:
        for fk in model.__table__.foreign_key_constraints:  # type: ignore[attr-defined]
            pairs = [(e.parent.name, e.column.table.name, e.column.name) for e in fk.elements]
            own = [p for p in pairs if p[0] != "tenant_id"] or pairs
            for column, parent, parent_column in own:
                keys.append(ForeignKey(table_name(model), column, parent, parent_column))
    return keys


# The ownership chains the generator guarantees, as plain joins (hash joins: linear):
# (child, its column, query of the child rows that break it, what the rule is).
OWNERSHIP: tuple[tuple[str, str, sql.SQL, str], ...] = (
    (
        "contract",
        "customer_id",
        sql.SQL(
            "SELECT c.id FROM contract c JOIN credit_limit l ON l.tenant_id = c.tenant_id"
            " AND l.id = c.credit_limit_id JOIN bank_account a ON a.tenant_id = l.tenant_id"
            " AND a.id = l.account_id WHERE c.tenant_id = %s AND c.dataset = %s"
            " AND c.customer_id IS DISTINCT FROM a.customer_id"
        ),
        "is not the customer who owns the contract's credit-limit account",
    ),
    (
        "loan",
        "account_id",
        sql.SQL(
            "SELECT c.id FROM loan c JOIN contract k ON k.tenant_id = c.tenant_id"
            " AND k.id = c.contract_id JOIN credit_limit l ON l.tenant_id = k.tenant_id"
            " AND l.id = k.credit_limit_id WHERE c.tenant_id = %s AND c.dataset = %s"
            " AND c.account_id IS DISTINCT FROM l.account_id"
        ),
        "is not the account of the loan contract's credit limit",
    ),
)


def referential_gate(ctx: GateContext) -> GateResult:
    target, conn = ctx.target, ctx.conn
    failures = Failures()
    keys = foreign_keys()
    for fk in keys:
        is_tenant = fk.parent == "tenant"
        scope = sql.SQL("" if fk.child == "tenant" else " AND c.dataset = %s")
        args = (target.tenant_id,) if fk.child == "tenant" else (target.tenant_id, target.mode)
        same_dataset = sql.SQL(
            "" if is_tenant else " AND p.dataset = c.dataset"
        )  # the tenant row is shared by every dataset
        query = sql.SQL(
            "SELECT c.id, EXISTS (SELECT 1 FROM {parent} p WHERE p.tenant_id = c.tenant_id"
            " AND p.{pcol} = c.{col}) FROM {child} c WHERE c.tenant_id = %s{scope}"
            " AND c.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} p"
            " WHERE p.tenant_id = c.tenant_id AND p.{pcol} = c.{col}{same}) LIMIT {limit}"
        ).format(
            parent=sql.Identifier(fk.parent),
            pcol=sql.Identifier(fk.parent_column),
            col=sql.Identifier(fk.column),
            child=sql.Identifier(fk.child),
            scope=scope,
            same=same_dataset,
            limit=sql.Literal(LIMIT),
        )
        for row_id, parent_elsewhere in conn.execute(query, args).fetchall():
            failures.add(
                fk.child,
                row_id,
                fk.column,
                f"references a {fk.parent} row of another dataset"
                if parent_elsewhere
                else f"references no {fk.parent} row of this tenant (dangling or cross-tenant)",
            )
    for child, column, broken, rule in OWNERSHIP:
        limited = broken + sql.SQL(" LIMIT {}").format(sql.Literal(LIMIT))
        for (row_id,) in conn.execute(limited, (target.tenant_id, target.mode)).fetchall():
            failures.add(child, row_id, column, rule)
    tables = [table_name(m) for m in (*DOMAIN_TABLES, *CONTROL_TABLES)]
    for table in tables:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE tenant_id IS DISTINCT FROM %s").format(
                sql.Identifier(table)
            ),
            (target.tenant_id,),
        ).fetchone()
        if row and row[0]:
            failures.add(
                table, None, "tenant_id", f"{row[0]} rows of another tenant are visible (RLS)"
            )
    return failures.result(
        "referential",
        {
            "foreign_keys": len(keys),
            "ownership_rules": len(OWNERSHIP),
            "tables_checked_for_foreign_rows": len(tables),
        },
    )

"""roles, grants and row-level security on every table

Three roles: `seedbank_owner` owns the tables (migrations), `seedbank_app` is the
application role (subject to RLS: no BYPASSRLS, not owner), `seedbank_ro` reads.
RLS is enabled and forced on every table; the policy binds reads (USING) and writes
(WITH CHECK) to `current_setting('app.tenant_id')`. Unset → no row is visible and
no row can be written (NULL never equals a tenant id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "tenant",
    "app_user",
    "advisor",
    "account_category",
    "supplier",
    "customer",
    "address",
    "bank_account",
    "credit_limit",
    "contract",
    "loan",
    "installment",
    "financial_transaction",
    "seed_run",
    "seed_checkpoint",
    "seed_lease",
    "seed_evidence",
    "seed_audit",
)
# '' after a RESET would fail the uuid cast: NULLIF turns it into "no tenant".
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

ROLES = {
    "seedbank_owner": "NOLOGIN NOBYPASSRLS",
    "seedbank_app": "LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE",
    "seedbank_ro": "LOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE",
}


def upgrade() -> None:
    # Roles are cluster-wide: create them once, tolerate a concurrent creator.
    op.execute("SELECT pg_advisory_xact_lock(hashtext('seedbank.roles'))")
    for role, options in ROLES.items():
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} {options}; END IF; END $$"
        )
    op.execute("GRANT USAGE ON SCHEMA public TO seedbank_app, seedbank_ro")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} OWNER TO seedbank_owner")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO seedbank_app")
        op.execute(f"GRANT SELECT ON {table} TO seedbank_ro")
    # The audit trail is append-only for the application role.
    op.execute("REVOKE UPDATE, DELETE ON seed_audit FROM seedbank_app")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM seedbank_app, seedbank_ro")

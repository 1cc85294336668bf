"""The application role may silence per-row foreign-key triggers for its own batches

`GRANT SET ON PARAMETER session_replication_role TO seedbank_app` (PostgreSQL 15+):
the batch sink then checks each batch's foreign keys set-based in the same transaction,
locking the parents as the triggers would (seedbank.adapters.references) — ~20 µs of
server CPU less per transaction row. Granting it needs a superuser; where the migrating
role is not one (or the server is older), nothing is granted and the sink keeps
PostgreSQL's per-row checks: same guarantee, slower. docs/operations.md has the DBA step.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_WHEN_ABLE = """
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 150000
     AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE '{statement}';
  ELSE
    RAISE NOTICE 'seedbank: session_replication_role not granted (needs PostgreSQL 15+ and a'
      ' superuser); the batch sink keeps per-row foreign-key checks';
  END IF;
END
$$
"""


def upgrade() -> None:
    op.execute(
        _WHEN_ABLE.format(
            statement="GRANT SET ON PARAMETER session_replication_role TO seedbank_app"
        )
    )


def downgrade() -> None:
    # Parameter grants are cluster-wide (pg_parameter_acl), like the roles: other
    # databases of the cluster may rely on it, so a downgrade of one leaves it. A DBA
    # revokes it with REVOKE SET ON PARAMETER session_replication_role FROM seedbank_app.
    pass

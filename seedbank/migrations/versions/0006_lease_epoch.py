"""seed_lease.epoch: the fencing token's monotonic half

Every lease taken (and every re-acquisition after a lost lock session) draws a new
epoch from one sequence, so epochs only grow; writers check (run id, epoch) in their
own transaction (seedbank.adapters.lock.check_fence).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE seed_lease_epoch AS bigint")
    op.execute("ALTER SEQUENCE seed_lease_epoch OWNER TO seedbank_owner")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE seed_lease_epoch TO seedbank_app")
    op.add_column(
        "seed_lease",
        sa.Column(
            "epoch",
            sa.BigInteger(),
            server_default=sa.text("nextval('seed_lease_epoch')"),
            nullable=False,
        ),
    )
    op.execute("ALTER SEQUENCE seed_lease_epoch OWNED BY seed_lease.epoch")


def downgrade() -> None:
    op.drop_column("seed_lease", "epoch")
    op.execute("DROP SEQUENCE IF EXISTS seed_lease_epoch")

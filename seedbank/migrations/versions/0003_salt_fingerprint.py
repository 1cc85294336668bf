"""seed_run.salt_fingerprint: detect a salt whose value changed under the same version

A Vault that lost its data (a restarted dev server, a botched restore) can serve a
different salt under the same KV version; the fingerprint — an HMAC of a constant
under the salt, which reveals nothing of it — lets the salt check refuse that.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seed_run", sa.Column("salt_fingerprint", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("seed_run", "salt_fingerprint")

"""business keys unique per tenant; checkpoints record their dataset format

Dataset format 2026.1 makes every business key (CPF, e-mail, phone, CNPJ) a keyed
permutation of the row index, so the database can now prove what the generator
guarantees: ``UNIQUE (tenant_id, key)``. Rows of the older format (2025.1, drawn
values) may hold duplicates: the upgrade then stops with one sentence naming the
table and what to purge, and changes nothing.

``seed_checkpoint.generator_version`` records the format a batch was written with;
rows that exist before this revision are of format 2025.1. A run refuses to add
batches to a dataset of another format (purge it and reseed).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seedbank.domain.errors import DatasetFormatMismatch

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PREVIOUS_FORMAT = "2025.1"
# (table, column): frozen here, so the revision means the same whatever the models become.
BUSINESS_KEYS: tuple[tuple[str, str], ...] = (
    ("app_user", "email"),
    ("advisor", "email"),
    ("advisor", "phone"),
    ("supplier", "cnpj"),
    ("customer", "cpf"),
    ("customer", "email"),
    ("customer", "phone"),
)


def constraint_name(table: str, column: str) -> str:
    return f"uq_{table}_{column}"


def _refuse_duplicates() -> None:
    bind = op.get_bind()
    for table, column in BUSINESS_KEYS:
        dupes = bind.execute(
            sa.text(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} GROUP BY tenant_id, {column}"  # noqa: S608 - constants above
                " HAVING count(*) > 1) d"
            )
        ).scalar_one()
        if dupes:
            raise DatasetFormatMismatch(
                f"{table}.{column} holds {dupes} duplicate value(s) within a tenant, written by"
                f" dataset format {PREVIOUS_FORMAT}; nothing was changed",
                fix="purge those tenants' datasets (`seed_data purge` or `forget`),"
                " then run `seed_data migrate` again",
            )


def upgrade() -> None:
    op.add_column(
        "seed_checkpoint",
        sa.Column(
            "generator_version",
            sa.String(length=16),
            nullable=False,
            server_default=PREVIOUS_FORMAT,
        ),
    )
    # Existing rows are of the previous format; new ones must say theirs.
    op.alter_column("seed_checkpoint", "generator_version", server_default=None)
    _refuse_duplicates()
    for table, column in BUSINESS_KEYS:
        op.create_unique_constraint(constraint_name(table, column), table, ["tenant_id", column])


def downgrade() -> None:
    for table, column in reversed(BUSINESS_KEYS):
        op.drop_constraint(constraint_name(table, column), table, type_="unique")
    op.drop_column("seed_checkpoint", "generator_version")

"""index the referencing columns of every composite foreign key

PostgreSQL does not index referencing columns by itself: without these, deleting a
parent row makes the FK trigger scan the whole child table, so a purge, expurge,
forget or DR re-run costs rows x rows (a ~900 k-row dataset had not finished after
740 s). With them each deleted parent costs one index probe per child table.
``tests/integration/test_schema_indexes.py`` fails for any future FK left uncovered.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (child table, referencing column after tenant_id): frozen here, not read from the
# models, so this revision means the same thing whatever the models become.
FOREIGN_KEYS: tuple[tuple[str, str], ...] = (
    ("supplier", "category_id"),
    ("customer", "advisor_id"),
    ("address", "customer_id"),
    ("bank_account", "customer_id"),
    ("bank_account", "category_id"),
    ("credit_limit", "account_id"),
    ("contract", "customer_id"),
    ("contract", "credit_limit_id"),
    ("loan", "contract_id"),
    ("loan", "account_id"),
    ("installment", "loan_id"),
    ("financial_transaction", "account_id"),
    ("financial_transaction", "supplier_id"),
)


def index_name(table: str, column: str) -> str:
    return f"ix_{table}_{column}"


def upgrade() -> None:
    for table, column in FOREIGN_KEYS:
        op.create_index(index_name(table, column), table, ["tenant_id", column])


def downgrade() -> None:
    for table, column in reversed(FOREIGN_KEYS):
        op.drop_index(index_name(table, column), table_name=table)

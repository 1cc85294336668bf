"""The banking core and seedbank's control tables (pure: no I/O).

Every table carries ``tenant_id``; tenant-scoped tables use the composite primary
key ``(tenant_id, id)`` and every foreign key between them includes ``tenant_id``,
so a row can never reference another tenant's row (the database refuses it).
Money is ``numeric(18,2)``, instants are ``timestamptz``.

``dataset`` records which seeding mode (baseline, load, dr) produced a row, so a
load or DR re-run can purge exactly its own dataset (FR-028) and the TTL expurge
can find it (FR-016).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

MONEY = Numeric(18, 2)


def _money() -> Decimal:
    return Field(sa_column=Column(MONEY, nullable=False))  # type: ignore[no-any-return]


def _instant() -> datetime:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=False))  # type: ignore[no-any-return]


def _fk(
    table: str, columns: str, parent: str, *, nullable: bool = False
) -> tuple[ForeignKeyConstraint, Index]:
    """Composite foreign key ``(tenant_id, <columns>) -> parent(tenant_id, id)`` and the
    index of its referencing columns (PostgreSQL makes none: without it, deleting a
    parent row scans the child table; migration 0004). A nullable reference indexes its
    non-NULL rows only: the delete check never looks for NULL, and the NULLs of every
    row that references nothing would pile up on one key that all writers append to
    (migration 0008)."""
    return (
        ForeignKeyConstraint(
            ["tenant_id", columns],
            [f"{parent}.tenant_id", f"{parent}.id"],
            name=f"fk_{columns}_{parent}",
        ),
        Index(
            f"ix_{table}_{columns}",
            "tenant_id",
            columns,
            postgresql_where=text(f"{columns} IS NOT NULL") if nullable else None,
        ),
    )


def _unique(table: str, *columns: str) -> tuple[UniqueConstraint, ...]:
    """``UNIQUE (tenant_id, column)`` per business key (unique by construction; 0005)."""
    return tuple(UniqueConstraint("tenant_id", c, name=f"uq_{table}_{c}") for c in columns)


class TenantScoped(SQLModel):
    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(primary_key=True)
    # sa_type, not sa_column: a Column object cannot be shared by subclasses' tables.
    dataset: str = Field(sa_type=String(8), nullable=False)


class Tenant(SQLModel, table=True):
    __tablename__ = "tenant"
    tenant_id: uuid.UUID = Field(primary_key=True)
    slug: str = Field(sa_column=Column(String(64), nullable=False))
    env: str = Field(sa_column=Column(String(16), nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _instant()


class AppUser(TenantScoped, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.tenant_id"], name="fk_app_user_tenant"),
        UniqueConstraint("tenant_id", "username", name="uq_app_user_username"),
        *_unique("app_user", "email"),
    )
    username: str = Field(sa_column=Column(String(64), nullable=False))
    full_name: str = Field(sa_column=Column(Text, nullable=False))
    email: str = Field(sa_column=Column(Text, nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    created_at: datetime = _instant()


class Advisor(TenantScoped, table=True):
    __tablename__ = "advisor"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.tenant_id"], name="fk_advisor_tenant"),
        *_unique("advisor", "email", "phone"),
    )
    full_name: str = Field(sa_column=Column(Text, nullable=False))
    email: str = Field(sa_column=Column(Text, nullable=False))
    phone: str = Field(sa_column=Column(String(20), nullable=False))
    branch_code: str = Field(sa_column=Column(String(8), nullable=False))
    created_at: datetime = _instant()


class AccountCategory(TenantScoped, table=True):
    __tablename__ = "account_category"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenant.tenant_id"], name="fk_category_tenant"),
        UniqueConstraint("tenant_id", "dataset", "code", name="uq_account_category_code"),
    )
    code: str = Field(sa_column=Column(String(16), nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    default_limit: Decimal = _money()


class Supplier(TenantScoped, table=True):
    __tablename__ = "supplier"
    __table_args__ = (
        *_fk("supplier", "category_id", "account_category"),
        *_unique("supplier", "cnpj"),
    )
    category_id: uuid.UUID
    legal_name: str = Field(sa_column=Column(Text, nullable=False))
    cnpj: str = Field(sa_column=Column(String(14), nullable=False))
    created_at: datetime = _instant()


class Customer(TenantScoped, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        *_fk("customer", "advisor_id", "advisor"),
        *_unique("customer", "cpf", "email", "phone"),
    )
    advisor_id: uuid.UUID
    full_name: str = Field(sa_column=Column(Text, nullable=False))
    cpf: str = Field(sa_column=Column(String(11), nullable=False))
    email: str = Field(sa_column=Column(Text, nullable=False))
    phone: str = Field(sa_column=Column(String(20), nullable=False))
    birth_date: date = Field(sa_column=Column(Date, nullable=False))
    segment: str = Field(sa_column=Column(String(16), nullable=False))
    created_at: datetime = _instant()


class Address(TenantScoped, table=True):
    __tablename__ = "address"
    __table_args__ = _fk("address", "customer_id", "customer")
    customer_id: uuid.UUID
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    street: str = Field(sa_column=Column(Text, nullable=False))
    number: str = Field(sa_column=Column(String(8), nullable=False))
    city: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(sa_column=Column(String(2), nullable=False))
    zip_code: str = Field(sa_column=Column(String(8), nullable=False))


class BankAccount(TenantScoped, table=True):
    __tablename__ = "bank_account"
    __table_args__ = (
        *_fk("bank_account", "customer_id", "customer"),
        *_fk("bank_account", "category_id", "account_category"),
        UniqueConstraint("tenant_id", "account_number", name="uq_bank_account_number"),
    )
    customer_id: uuid.UUID
    category_id: uuid.UUID
    account_number: str = Field(sa_column=Column(String(16), nullable=False))
    branch: str = Field(sa_column=Column(String(4), nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    balance: Decimal = _money()
    opened_at: datetime = _instant()


class CreditLimit(TenantScoped, table=True):
    __tablename__ = "credit_limit"
    __table_args__ = _fk("credit_limit", "account_id", "bank_account")
    account_id: uuid.UUID
    amount: Decimal = _money()
    used: Decimal = _money()
    status: str = Field(sa_column=Column(String(16), nullable=False))
    valid_from: date = Field(sa_column=Column(Date, nullable=False))


class Contract(TenantScoped, table=True):
    __tablename__ = "contract"
    __table_args__ = (
        *_fk("contract", "customer_id", "customer"),
        *_fk("contract", "credit_limit_id", "credit_limit"),
        UniqueConstraint("tenant_id", "contract_number", name="uq_contract_number"),
    )
    customer_id: uuid.UUID
    credit_limit_id: uuid.UUID
    contract_number: str = Field(sa_column=Column(String(20), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    signed_at: datetime = _instant()


class Loan(TenantScoped, table=True):
    __tablename__ = "loan"
    __table_args__ = (
        *_fk("loan", "contract_id", "contract"),
        *_fk("loan", "account_id", "bank_account"),
    )
    contract_id: uuid.UUID
    account_id: uuid.UUID
    principal: Decimal = _money()
    monthly_rate: Decimal = Field(sa_column=Column(Numeric(9, 6), nullable=False))
    term_months: int = Field(sa_column=Column(Integer, nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    disbursed_at: datetime = _instant()


class Installment(TenantScoped, table=True):
    __tablename__ = "installment"
    __table_args__ = _fk("installment", "loan_id", "loan")
    loan_id: uuid.UUID
    number: int = Field(sa_column=Column(Integer, nullable=False))
    due_date: date = Field(sa_column=Column(Date, nullable=False))
    amount: Decimal = _money()
    principal_part: Decimal = _money()
    interest_part: Decimal = _money()
    balance_after: Decimal = _money()
    status: str = Field(sa_column=Column(String(16), nullable=False))


class FinancialTransaction(TenantScoped, table=True):
    __tablename__ = "financial_transaction"
    __table_args__ = (
        *_fk("financial_transaction", "account_id", "bank_account"),
        *_fk("financial_transaction", "supplier_id", "supplier", nullable=True),
    )
    account_id: uuid.UUID
    supplier_id: uuid.UUID | None = None
    kind: str = Field(sa_column=Column(String(8), nullable=False))
    amount: Decimal = _money()
    description: str = Field(sa_column=Column(Text, nullable=False))
    booked_at: datetime = _instant()


# --- control tables (FR-012, FR-014, FR-022) -------------------------------------
# No foreign key to `tenant`: a refusal for an unknown tenant must still be audited.


class SeedRun(SQLModel, table=True):
    __tablename__ = "seed_run"
    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(primary_key=True)
    env: str = Field(sa_column=Column(String(16), nullable=False))
    tenant: str = Field(sa_column=Column(String(64), nullable=False))
    mode: str = Field(sa_column=Column(String(8), nullable=False))
    status: str = Field(sa_column=Column(String(16), nullable=False))
    dry_run: bool = False
    manifest_digest: str = Field(sa_column=Column(String(64), nullable=False))
    salt_version: int
    manifest: dict = Field(sa_column=Column(JSONB, nullable=False))  # type: ignore[type-arg]
    dataset_digest: str | None = Field(default=None, sa_column=Column(String(64)))
    salt_fingerprint: str | None = Field(default=None, sa_column=Column(String(16)))
    generator_version: str | None = Field(default=None, sa_column=Column(String(16)))
    """The run's dataset format (``GENERATOR_VERSION``); 2025.1 for runs before it was kept."""
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    started_at: datetime = _instant()
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class SeedCheckpoint(SQLModel, table=True):
    __tablename__ = "seed_checkpoint"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "env",
            "mode",
            "entity",
            "batch_start",
            name="uq_seed_checkpoint_batch",
        ),
    )
    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(primary_key=True)
    run_id: uuid.UUID
    env: str = Field(sa_column=Column(String(16), nullable=False))
    mode: str = Field(sa_column=Column(String(8), nullable=False))
    entity: str = Field(sa_column=Column(String(32), nullable=False))
    batch_start: int
    batch_stop: int
    row_count: int
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    salt_version: int
    manifest_digest: str = Field(sa_column=Column(String(64), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = _instant()
    generator_version: str = Field(sa_column=Column(String(16), nullable=False))
    """The dataset format the batch was written with (``GENERATOR_VERSION``)."""


class SeedLease(SQLModel, table=True):
    __tablename__ = "seed_lease"
    tenant_id: uuid.UUID = Field(primary_key=True)
    env: str = Field(primary_key=True, max_length=16)
    run_id: uuid.UUID
    #: Fencing epoch from the `seed_lease_epoch` sequence (migration 0006).
    epoch: int = Field(
        sa_column=Column(
            BigInteger, nullable=False, server_default=text("nextval('seed_lease_epoch')")
        )
    )
    holder: str = Field(sa_column=Column(Text, nullable=False))
    acquired_at: datetime = _instant()
    heartbeat_at: datetime = _instant()
    expires_at: datetime = _instant()


class SeedEvidence(SQLModel, table=True):
    __tablename__ = "seed_evidence"
    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(primary_key=True)
    run_id: uuid.UUID
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    bucket: str = Field(sa_column=Column(Text, nullable=False))
    object_key: str = Field(sa_column=Column(Text, nullable=False))
    version_id: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    signature: str = Field(sa_column=Column(Text, nullable=False))
    retain_until: datetime = _instant()
    created_at: datetime = _instant()


class SeedAudit(SQLModel, table=True):
    __tablename__ = "seed_audit"
    __table_args__ = (Index("ix_seed_audit_tenant_at", "tenant_id", "at"),)
    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(primary_key=True)
    run_id: uuid.UUID | None = None
    env: str = Field(sa_column=Column(String(16), nullable=False))
    tenant: str = Field(sa_column=Column(String(64), nullable=False))
    event: str = Field(sa_column=Column(String(32), nullable=False))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(sa_column=Column(Text, nullable=False))
    detail: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))  # type: ignore[type-arg]
    at: datetime = _instant()


DOMAIN_TABLES: tuple[type[SQLModel], ...] = (
    Tenant,
    AppUser,
    Advisor,
    AccountCategory,
    Supplier,
    Customer,
    Address,
    BankAccount,
    CreditLimit,
    Contract,
    Loan,
    Installment,
    FinancialTransaction,
)
"""Domain tables in foreign-key order: parents before children."""

CONTROL_TABLES: tuple[type[SQLModel], ...] = (
    SeedRun,
    SeedCheckpoint,
    SeedLease,
    SeedEvidence,
    SeedAudit,
)


def table_name(model: type[SQLModel]) -> str:
    return str(model.__tablename__)


def column_names(model: type[SQLModel]) -> tuple[str, ...]:
    """Column order of a table: the order a factory row and COPY must follow."""
    return tuple(c.name for c in model.__table__.columns)  # type: ignore[attr-defined]


def referenced_tables(model: type[SQLModel]) -> frozenset[str]:
    """Tables this one's foreign keys point at; every domain row also needs its tenant."""
    table = model.__table__  # type: ignore[attr-defined]
    targets = {fk.column.table.name for fk in table.foreign_keys}
    if table.name != "tenant":
        targets.add("tenant")
    return frozenset(targets - {table.name})


ENTITY_PARENTS: dict[str, frozenset[str]] = {
    table_name(m): referenced_tables(m) for m in DOMAIN_TABLES
}
"""Each domain table and the tables whose rows must exist before its own are written."""

"""factory-boy factories for every banking entity (BUILD only: the sink persists).

Each factory wraps the same per-row function as the bulk path: ``build(index=i,
ctx=...)`` equals row ``i`` of ``generate_batch`` for the same spec and salt. Every
catalogued PII field is masked after overrides are applied, so
``CustomerFactory.build(email="maria@gmail.com")`` still yields a masked email.

Without ``ctx`` a factory uses ``default_context()``: a small dev dataset and
``TEST_ONLY_SALT`` (not a secret; ``generate_batch`` refuses it). Without ``index``,
factory-boy's per-factory sequence numbers rows (reset it for order-free tests).
Traits are named sad paths; they describe one row, so e.g. an overdrawn account no
longer equals the ledger of the dataset it would sit in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from factory import base, declarations, enums
from sqlmodel import SQLModel

from factories.context import RowContext
from factories.planner import TEST_ONLY_SALT
from factories.rows import COLUMNS, ROWS, SCENARIOS
from factories.spec import DatasetSpec
from seedbank.domain import models as m

DEV_COUNTS = {
    "app_user": 5,
    "advisor": 5,
    "account_category": 5,
    "supplier": 10,
    "customer": 100,
    "address": 120,
    "bank_account": 120,
    "credit_limit": 80,
    "contract": 100,
    "loan": 50,
    "installment": 50 * 12,
    "financial_transaction": 2_400,
}
DEV_AS_OF = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FactoryContext:
    """Which dataset a factory builds rows of, and the salt that masks its PII."""

    spec: DatasetSpec
    salt: bytes = TEST_ONLY_SALT

    def rows(self) -> RowContext:
        return RowContext(self.spec, self.salt)


def default_context(**spec_fields: Any) -> FactoryContext:
    """A developer's context: tenant "acme", env "dev", baseline, ``DEV_COUNTS``.

    Pass ``salt=`` to mask with your own salt, or any ``DatasetSpec`` field to change it.
    """
    salt = spec_fields.pop("salt", TEST_ONLY_SALT)
    fields: dict[str, Any] = {
        "tenant": "acme",
        "env": "dev",
        "mode": "baseline",
        "as_of": DEV_AS_OF,
        "counts": DEV_COUNTS,
        "loan_term_months": 12,
        "manifest_digest": "0" * 64,
    }
    fields.update(spec_fields)
    return FactoryContext(DatasetSpec(**fields), salt)


def build_row(
    ctx: FactoryContext,
    entity: str,
    index: int,
    scenario: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Row ``index`` of ``entity`` as a mapping: scenario, then overrides, then masking."""
    if scenario is not None and scenario not in SCENARIOS.get(entity, ()):
        raise ValueError(f"{entity} has no scenario {scenario!r}")
    overrides = overrides or {}
    unknown = set(overrides) - set(COLUMNS[entity])
    if unknown:
        raise TypeError(f"{entity} has no column(s) {sorted(unknown)}")
    rc = ctx.rows()
    row = dict(zip(COLUMNS[entity], ROWS[entity](rc, index, scenario), strict=True))
    row.update(overrides)
    return rc.masker.mask_mapping(entity, row)


def _trait(scenario: str) -> Any:
    """A trait selecting one named scenario of the row function."""
    return declarations.Trait(scenario=scenario)  # type: ignore[no-untyped-call]


_M = TypeVar("_M", bound=SQLModel)


class RowFactory(base.Factory[_M], Generic[_M]):
    """Base: resolves ``ctx``/``index``/``scenario`` and builds through ``build_row``."""

    class Meta:
        abstract = True
        strategy = enums.BUILD_STRATEGY

    ctx = declarations.LazyFunction(default_context)  # type: ignore[no-untyped-call]
    index = declarations.Sequence(lambda n: n)  # type: ignore[no-untyped-call]
    scenario = None

    @classmethod
    def _build(cls, model_class: type[_M], *args: Any, **kwargs: Any) -> _M:
        ctx, index, scenario = kwargs.pop("ctx"), kwargs.pop("index"), kwargs.pop("scenario")
        entity = m.table_name(model_class)
        return model_class(**build_row(ctx, entity, index, scenario, kwargs))

    @classmethod
    def _create(cls, model_class: type[_M], *args: Any, **kwargs: Any) -> _M:
        raise TypeError("factories only build; the seed sink persists rows in bulk")


class TenantFactory(RowFactory[m.Tenant]):
    class Meta:
        model = m.Tenant


class AppUserFactory(RowFactory[m.AppUser]):
    class Meta:
        model = m.AppUser


class AdvisorFactory(RowFactory[m.Advisor]):
    class Meta:
        model = m.Advisor


class AccountCategoryFactory(RowFactory[m.AccountCategory]):
    class Meta:
        model = m.AccountCategory


class SupplierFactory(RowFactory[m.Supplier]):
    class Meta:
        model = m.Supplier


class CustomerFactory(RowFactory[m.Customer]):
    class Meta:
        model = m.Customer


class AddressFactory(RowFactory[m.Address]):
    class Meta:
        model = m.Address


class BankAccountFactory(RowFactory[m.BankAccount]):
    class Meta:
        model = m.BankAccount

    class Params:
        overdrawn = _trait("overdrawn")
        blocked = _trait("blocked")
        dormant = _trait("dormant")


class CreditLimitFactory(RowFactory[m.CreditLimit]):
    class Meta:
        model = m.CreditLimit

    class Params:
        exceeded = _trait("exceeded")
        suspended = _trait("suspended")


class ContractFactory(RowFactory[m.Contract]):
    class Meta:
        model = m.Contract

    class Params:
        blocked = _trait("blocked")
        cancelled = _trait("cancelled")


class LoanFactory(RowFactory[m.Loan]):
    class Meta:
        model = m.Loan

    class Params:
        defaulted = _trait("defaulted")
        delinquent = _trait("delinquent")
        paid_off = _trait("paid_off")


class InstallmentFactory(RowFactory[m.Installment]):
    class Meta:
        model = m.Installment

    class Params:
        overdue = _trait("overdue")


class FinancialTransactionFactory(RowFactory[m.FinancialTransaction]):
    class Meta:
        model = m.FinancialTransaction


FACTORIES: dict[str, type[RowFactory[Any]]] = {
    m.table_name(f._meta.model): f
    for f in (
        TenantFactory,
        AppUserFactory,
        AdvisorFactory,
        AccountCategoryFactory,
        SupplierFactory,
        CustomerFactory,
        AddressFactory,
        BankAccountFactory,
        CreditLimitFactory,
        ContractFactory,
        LoanFactory,
        InstallmentFactory,
        FinancialTransactionFactory,
    )
}

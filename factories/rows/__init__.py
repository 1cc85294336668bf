"""Per-row functions of every entity: the one source of truth for bulk and factories.

``ROWS[entity](rc, i, scenario)`` returns the raw row ``i`` in ``COLUMNS[entity]``
order; ``masked_row`` is what may leave the core. A scenario (``SCENARIOS``) is a named
sad path for factories' traits; the bulk path never uses one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from factories.context import RowContext
from factories.pii.catalog import PII_CATALOG
from factories.rows import credit, ledger, parties
from factories.rows.parties import Row
from factories.spec import ENTITIES
from seedbank.domain.models import DOMAIN_TABLES, column_names, table_name

RowFn = Callable[[RowContext, int, "str | None"], Row]

ROWS: Mapping[str, RowFn] = MappingProxyType(
    {
        "tenant": parties.tenant,
        "app_user": parties.app_user,
        "advisor": parties.advisor,
        "account_category": parties.account_category,
        "supplier": parties.supplier,
        "customer": parties.customer,
        "address": parties.address,
        "bank_account": ledger.bank_account,
        "credit_limit": ledger.credit_limit,
        "contract": credit.contract,
        "loan": credit.loan,
        "installment": credit.installment,
        "financial_transaction": ledger.financial_transaction,
    }
)
assert tuple(sorted(ROWS)) == tuple(sorted(ENTITIES)), "every entity needs a row function"

COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {table_name(m): column_names(m) for m in DOMAIN_TABLES}
)

SCENARIOS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "bank_account": frozenset({"overdrawn", "blocked", "dormant"}),
        "credit_limit": frozenset({"exceeded", "suspended"}),
        "contract": frozenset({"blocked", "cancelled"}),
        "loan": frozenset({"defaulted", "delinquent", "paid_off"}),
        "installment": frozenset({"overdue"}),
    }
)


def masked_row(rc: RowContext, entity: str, i: int, scenario: str | None = None) -> Row:
    """Row ``i`` of ``entity`` with every catalogued PII field masked."""
    if scenario is not None and scenario not in SCENARIOS.get(entity, ()):
        raise ValueError(f"{entity} has no scenario {scenario!r}")
    raw = ROWS[entity](rc, i, scenario)
    return rc.masker.mask_values(entity, COLUMNS[entity], raw)


def masked_rows(rc: RowContext, entity: str, start: int, stop: int) -> list[Row]:
    """Rows ``[start, stop)`` as ``masked_row`` gives them (the bulk path, no scenario).

    Lookups are hoisted out of the loop, and entities without a catalogued field
    (transactions, installments: most rows) skip the masker, which had nothing to do.
    """
    make = ROWS[entity]
    if entity not in PII_CATALOG:
        return [make(rc, i, None) for i in range(start, stop)]
    mask, columns = rc.masker.mask_values, COLUMNS[entity]
    return [mask(entity, columns, make(rc, i, None)) for i in range(start, stop)]

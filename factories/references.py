"""Which parent rows a batch of child rows references, as spans of parent indices.

The dispatch schedule sends a child batch as soon as the parent batches holding these
rows are written, instead of after the parent's whole entity: the level boundaries of
the foreign-key chain stop idling workers (customer -> address, bank_account, ...).

Each span mirrors a row function's reference arithmetic (``factories.rows``);
``tests/unit/factories/test_references.py`` holds every reference of generated rows
inside its span. A pair not listed here waits for the whole parent, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from factories.rows.ledger import account_of
from factories.spec import DatasetSpec

Span = tuple[int, int]
"""Parent indices [start, stop)."""


def modulo(spans: Iterable[Span], n: int) -> list[Span]:
    """The spans of ``i % n`` for i in ``spans`` (one or two spans each, or all of [0, n))."""
    out: list[Span] = []
    for start, stop in spans:
        if stop - start >= n:
            return [(0, n)]
        first, last = start % n, (stop - 1) % n
        out += [(first, last + 1)] if first <= last else [(first, n), (0, last + 1)]
    return out


def _modulo_parent(parent: str) -> _Map:
    return lambda spec, rows: modulo(rows, spec.count(parent))


def _limits(spec: DatasetSpec, rows: list[Span]) -> list[Span]:
    return modulo(rows, spec.count("credit_limit"))  # credit_limit l belongs to account l


def _loans(spec: DatasetSpec, rows: list[Span]) -> list[Span]:
    term = spec.loan_term_months  # installment k is loan k // term's
    return [(start // term, (stop - 1) // term + 1) for start, stop in rows]


def _accounts(spec: DatasetSpec, rows: list[Span]) -> list[Span]:
    n_account, n_tx = spec.count("bank_account"), spec.count("financial_transaction")
    return [
        (account_of(start, n_account, n_tx), account_of(stop - 1, n_account, n_tx) + 1)
        for start, stop in rows
    ]


_Map = Callable[[DatasetSpec, list[Span]], list[Span]]
_MAPS: Mapping[tuple[str, str], _Map] = MappingProxyType(
    {
        ("supplier", "account_category"): _modulo_parent("account_category"),
        ("customer", "advisor"): _modulo_parent("advisor"),
        ("address", "customer"): _modulo_parent("customer"),
        ("bank_account", "customer"): _modulo_parent("customer"),
        ("bank_account", "account_category"): _modulo_parent("account_category"),
        ("credit_limit", "bank_account"): lambda spec, rows: rows,
        ("contract", "credit_limit"): _limits,
        ("contract", "customer"): lambda spec, rows: modulo(
            _limits(spec, rows), spec.count("customer")
        ),
        ("loan", "contract"): lambda spec, rows: rows,
        ("loan", "bank_account"): _limits,
        ("installment", "loan"): _loans,
        ("financial_transaction", "bank_account"): _accounts,
        ("financial_transaction", "supplier"): _modulo_parent("supplier"),
    }
)


def parent_spans(spec: DatasetSpec, child: str, parent: str, start: int, stop: int) -> list[Span]:
    """The parent rows that child rows [start, stop) reference (a superset is safe)."""
    n_parent = spec.count(parent)
    if n_parent == 0 or start >= stop:
        return []
    spans = _MAPS.get((child, parent))
    return [(0, n_parent)] if spans is None else spans(spec, [(start, stop)])

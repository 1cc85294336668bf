"""Accounts, their ledger and their credit limits.

An account's balance is the signed sum of its transactions, and the account knows
them by arithmetic, so the balance is computed from the same keyed amounts the
transaction rows use: equal by construction, whatever the batching.

Account-major layout (dataset format 2026.2): account a owns the contiguous
transactions [first_tx(a), first_tx(a + 1)), the first of them its opening deposit.
A batch of transactions then references a few hundred accounts, not one account per
row, so the write path locks each account about once a run instead of once per batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from factories.context import TX_WINDOW, RowContext, cents
from factories.keys import lane, luhn_digit
from factories.rows.parties import DAY, YEAR, Row, advisor_branch
from factories.spec import MODES

if TYPE_CHECKING:  # the columnar path passes numpy columns; this module imports no numpy
    import numpy as np
    from numpy.typing import NDArray

# (kind, description, min cents, max cents, pays a supplier); 16 slots = weights.
_P = tuple[str, str, int, int, bool]
_SALARY: _P = ("credit", "Salário", 150_000, 1_500_000, False)
_PIX_IN: _P = ("credit", "PIX recebido", 1_000, 200_000, False)
_TED_IN: _P = ("credit", "TED recebida", 10_000, 500_000, False)
_PIX_OUT: _P = ("debit", "PIX enviado", 1_000, 150_000, False)
_CARD: _P = ("debit", "Compra no débito", 500, 80_000, True)
_BOLETO: _P = ("debit", "Pagamento de boleto", 5_000, 300_000, True)
_FEE: _P = ("debit", "Tarifa bancária", 500, 6_000, False)
_CASH: _P = ("debit", "Saque", 2_000, 100_000, False)
PURPOSES: tuple[_P, ...] = (
    _SALARY,
    _SALARY,
    _PIX_IN,
    _PIX_IN,
    _PIX_IN,
    _TED_IN,
    _PIX_OUT,
    _PIX_OUT,
    _PIX_OUT,
    _CARD,
    _CARD,
    _CARD,
    _BOLETO,
    _BOLETO,
    _FEE,
    _CASH,
)
OPENING: _P = ("credit", "Depósito inicial", 100_000, 2_000_000, False)
_TX_SPAN_S = int(TX_WINDOW.total_seconds() - 1)
_N = TypeVar("_N", int, "NDArray[np.int64]")


def account_of(t: _N, n_account: int, n_tx: int) -> _N:
    """The account of transaction ``t`` (< ``n_tx``): ``floor(t * n_account / n_tx)``;
    an int, or a numpy column of them (the columnar path: the same integers)."""
    return t * n_account // n_tx


def first_tx(a: _N, n_account: int, n_tx: int) -> _N:
    """Account ``a``'s first transaction, ``ceil(a * n_tx / n_account)``; a + 1's bounds it.

    The inverse of ``account_of``: ``first_tx(a) <= t < first_tx(a + 1)`` exactly when
    ``account_of(t) == a``. With fewer transactions than accounts some own none.
    """
    return (a * n_tx + n_account - 1) // n_account


def is_opening(rc: RowContext, t: int) -> bool:
    n_account, n_tx = rc.n["bank_account"], rc.n["financial_transaction"]
    return t == first_tx(account_of(t, n_account, n_tx), n_account, n_tx)


def tx_entry(rc: RowContext, t: int) -> tuple[_P, int, int]:
    """(purpose, amount in cents > 0, draw) of transaction ``t``: the one source of amounts.

    Each account's first transaction is its opening deposit.
    """
    r = rc.draw["financial_transaction"](t)
    purpose = OPENING if is_opening(rc, t) else PURPOSES[lane(r, 1) % len(PURPOSES)]
    low, high = purpose[2], purpose[3]
    return purpose, low + lane(r, 2) % (high - low), r


def ledger_cents(rc: RowContext, account: int) -> int:
    """Signed sum of account ``account``'s transactions, in cents.

    The bulk path fills ``rc.memo`` with a batch's balances first (computed column-wise
    by ``factories.columnar``: the same sums); a lone row computes its own.
    """
    known = rc.memo.get(("ledger", account))
    if known is not None:
        return int(known)
    total = 0
    n_account, n_tx = rc.n["bank_account"], rc.n["financial_transaction"]
    for t in range(first_tx(account, n_account, n_tx), first_tx(account + 1, n_account, n_tx)):
        purpose, amount, _ = tx_entry(rc, t)
        total += amount if purpose[0] == "credit" else -amount
    return total


def account_opened(rc: RowContext, a: int) -> datetime:
    """Opened before the transaction window, so every transaction follows the opening."""
    r = rc.draw["bank_account"](a)
    return rc.before(int(TX_WINDOW.total_seconds()) + DAY + lane(r, 0) % (3 * YEAR))


def account_number(rc: RowContext, a: int) -> str:
    """Mode digit + 12 permuted digits + Luhn digit: unique per tenant across modes."""
    digits = f"{MODES[rc.mode]}{rc.account_numbers(a):012d}"
    return digits + luhn_digit(digits)


def bank_account(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["bank_account"](i)
    c = i % rc.n["customer"]
    balance = ledger_cents(rc, i)
    roll = lane(r, 3) % 100
    status = (
        "overdrawn"
        if balance < 0
        else "blocked"
        if roll < 2
        else "dormant"
        if roll < 6
        else "active"
    )
    if scenario == "overdrawn":  # standalone sad path: the row no longer matches a ledger
        balance, status = -(1_000 + lane(r, 4) % 500_000), "overdrawn"
    elif scenario in ("blocked", "dormant"):
        status = scenario
    return (
        rc.tenant_id,
        rc.ids["bank_account"](i),
        rc.mode,
        rc.refs["customer"](c),
        rc.refs["account_category"](i % rc.n["account_category"]),
        account_number(rc, i),
        advisor_branch(rc, c % rc.n["advisor"]),
        "BRL",
        status,
        cents(balance),
        account_opened(rc, i),
    )


def financial_transaction(rc: RowContext, t: int, scenario: str | None = None) -> Row:
    purpose, amount, r = tx_entry(rc, t)
    n_supplier = rc.n["supplier"]
    supplier_id = rc.refs["supplier"](t % n_supplier) if purpose[4] and n_supplier else None
    opening = purpose is OPENING  # the account's first entry, at the start of the window
    booked = rc.as_of - TX_WINDOW if opening else rc.before(1 + lane(r, 3) % _TX_SPAN_S)
    return (
        rc.tenant_id,
        rc.ids["financial_transaction"](t),
        rc.mode,
        rc.refs["bank_account"](account_of(t, rc.n["bank_account"], rc.n["financial_transaction"])),
        supplier_id,
        purpose[0],
        cents(amount),
        purpose[1],
        booked,
    )


def credit_limit(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["credit_limit"](i)
    amount = 100 * 100 * (5 + lane(r, 1) % 496)  # R$ 500 .. R$ 50,000
    used = amount * (lane(r, 2) % 10_001) // 10_000  # floor: never above the limit
    status = "suspended" if lane(r, 3) % 100 < 7 else "active"
    if scenario == "exceeded":
        used, status = amount + amount * (1 + lane(r, 4) % 20) // 100, "exceeded"
    elif scenario == "suspended":
        status = "suspended"
    valid_from = account_opened(rc, i) + timedelta(days=lane(r, 0) % 90)
    return (
        rc.tenant_id,
        rc.ids["credit_limit"](i),
        rc.mode,
        rc.refs["bank_account"](i),
        cents(amount),
        cents(used),
        status,
        valid_from.date(),
    )

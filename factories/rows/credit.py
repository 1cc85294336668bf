"""Contracts, loans and installments (Price table: fixed payment).

Loan ``L``'s terms (principal, rate, timing, delinquency) come from its own draw, and
every installment recomputes them, so installment statuses agree with the loan's.
The schedule uses rounded balances B_k = round(P q^k - A (q^k - 1) / r), q = 1 + r, A
the rounded payment: principal parts telescope to exactly P, the last installment
absorbs the rounding and leaves balance 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

from factories.context import RowContext, cents
from factories.keys import lane
from factories.rows.ledger import account_opened
from factories.rows.parties import DAY, Row
from factories.spec import MODES

# Explicit context: the caller's (thread-local) decimal context must not change output.
_PRICE = Context(prec=40, rounding=ROUND_HALF_EVEN)
_CENT = Decimal("0.01")
LOAN_KINDS = ("personal_loan", "payroll_loan", "vehicle_loan")
REVOLVING_KINDS = ("overdraft", "credit_card")
_MEMO_LIMIT = 4096


@dataclass(frozen=True)
class LoanTerms:
    principal: int  # cents
    rate: Decimal  # monthly, 6 places
    disbursed_at: datetime
    due_count: int  # installments whose due date is before as_of
    overdue_count: int  # of those, the last ones left unpaid
    status: str
    balances: tuple[int, ...]  # cents after installment k = 0..term (B_0 = principal)
    payment: int  # cents, every installment but possibly the last


def _add_months(d: date, months: int) -> date:
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(year, month0 + 1, d.day)  # day <= 28 by construction


def price_schedule(principal: int, rate: Decimal, term: int) -> tuple[int, tuple[int, ...]]:
    """(payment, balances B_0..B_term) in cents: the one source of a loan's schedule."""
    with localcontext(_PRICE):
        p, q = Decimal(principal).scaleb(-2), 1 + rate
        growth = q**term
        payment = (p * rate * growth / (growth - 1)).quantize(_CENT, ROUND_HALF_UP)
        balances = [principal]
        qk = Decimal(1)
        for _ in range(1, term):
            qk *= q
            b = (p * qk - payment * (qk - 1) / rate).quantize(_CENT, ROUND_HALF_UP)
            balances.append(int(b.scaleb(2)))
        balances.append(0)
    return int(payment.scaleb(2)), tuple(balances)


def loan_terms(rc: RowContext, loan: int) -> LoanTerms:
    """The terms of loan ``loan``: a pure function of its index (memoised per context)."""
    hit = rc.memo.get(("loan", loan))
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    r = rc.draw["loan"](loan)
    term = rc.spec.loan_term_months
    principal = 100 * (1_000 + lane(r, 1) % 99_001)  # R$ 1,000 .. R$ 100,000
    rate = Decimal(8_000 + lane(r, 2) % 37_001).scaleb(-6)  # 0.8 % .. 4.5 % a month
    back = 1 + lane(r, 3) % (term + 6)  # months before as_of's month
    day = 1 + lane(r, 4) % 28
    year, month0 = divmod(rc.as_of.year * 12 + rc.as_of.month - 1 - back, 12)
    disbursed = datetime(
        year, month0 + 1, day, 9 + lane(r, 5) % 9, lane(r, 5) // 16 % 60, tzinfo=UTC
    )
    # Installment n falls due in month (disbursal + n); "due" means strictly before as_of.
    due = min(term, back if day < rc.as_of_date.day else back - 1)
    overdue = min(due, 1 + lane(r, 7) % 5) if due and lane(r, 6) % 100 < 15 else 0
    status = (
        "defaulted"
        if overdue >= 3
        else "delinquent"
        if overdue
        else "paid_off"
        if due == term
        else "active"
    )
    payment, balances = price_schedule(principal, rate, term)
    terms = LoanTerms(principal, rate, disbursed, due, overdue, status, balances, payment)
    if len(rc.memo) > _MEMO_LIMIT:
        rc.memo.clear()
    rc.memo[("loan", loan)] = terms
    return terms


def contract_number(rc: RowContext, i: int) -> str:
    """ "CT" + mode digit + 14 permuted digits: unique per tenant across modes."""
    return f"CT{MODES[rc.mode]}{rc.contract_numbers(i):014d}"


def contract(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    r = rc.draw["contract"](i)
    limit = i % rc.n["credit_limit"]  # credit_limit l belongs to bank_account l
    if i < rc.n["loan"]:  # contract i is loan i's contract
        terms = loan_terms(rc, i)
        kind = LOAN_KINDS[lane(r, 1) % len(LOAN_KINDS)]
        status = {"paid_off": "closed", "defaulted": "defaulted"}.get(terms.status, "active")
        signed = terms.disbursed_at - timedelta(seconds=3_600 + lane(r, 2) % (71 * 3_600))
    else:
        kind = REVOLVING_KINDS[lane(r, 1) % len(REVOLVING_KINDS)]
        roll = lane(r, 3) % 100
        status = "blocked" if roll < 5 else "cancelled" if roll < 8 else "active"
        signed = account_opened(rc, limit) + timedelta(seconds=lane(r, 2) % (60 * DAY))
    if scenario in ("blocked", "cancelled"):
        status = scenario
    return (
        rc.tenant_id,
        rc.ids["contract"](i),
        rc.mode,
        rc.refs["customer"](limit % rc.n["customer"]),
        rc.refs["credit_limit"](limit),
        contract_number(rc, i),
        kind,
        status,
        signed,
    )


def loan(rc: RowContext, i: int, scenario: str | None = None) -> Row:
    terms = loan_terms(rc, i)
    status = scenario if scenario in ("defaulted", "delinquent", "paid_off") else terms.status
    return (
        rc.tenant_id,
        rc.ids["loan"](i),
        rc.mode,
        rc.refs["contract"](i),
        rc.refs["bank_account"](i % rc.n["credit_limit"]),
        cents(terms.principal),
        terms.rate,
        rc.spec.loan_term_months,
        status,
        terms.disbursed_at,
    )


def installment(rc: RowContext, k: int, scenario: str | None = None) -> Row:
    term = rc.spec.loan_term_months
    number = k % term + 1
    terms = loan_terms(rc, k // term)
    before, after = terms.balances[number - 1], terms.balances[number]
    principal_part = before - after
    if number < term:
        amount = terms.payment
    else:  # the last one absorbs the rounding: its interest is on what is left
        with localcontext(_PRICE):
            interest = (Decimal(before) * terms.rate).quantize(Decimal(1), ROUND_HALF_UP)
        amount = principal_part + int(interest)
    paid_up_to = terms.due_count - terms.overdue_count
    status = (
        "paid" if number <= paid_up_to else "overdue" if number <= terms.due_count else "pending"
    )
    if scenario == "overdue":
        status = "overdue"
    return (
        rc.tenant_id,
        rc.ids["installment"](k),
        rc.mode,
        rc.refs["loan"](k // term),
        number,
        _add_months(terms.disbursed_at.date(), number),
        cents(amount),
        cents(principal_part),
        cents(amount - principal_part),
        cents(after),
        status,
    )

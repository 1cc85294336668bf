"""Loan terms of loans [lo, hi) as columns, and loan rows [start, stop) encoded.

The same values as ``credit.loan_terms`` (principal, rate, disbursal, due and overdue
counts, status) from one keyed draw per loan, in exact integer arithmetic: cents,
millionths of a rate, days and microseconds since 1970. The Price schedule is the one
part left to Python, loan by loan, through the row path's own ``price_schedule`` (a
40-digit ``Decimal`` computation): it is only needed by installments, once per loan.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from factories.columnar.fields import (
    Fields,
    copy_text,
)
from factories.columnar.pack import Ints, table
from factories.context import RowContext
from factories.counters import id_matrix, lanes
from factories.keys import entity_key, entity_namespace
from factories.rows.credit import price_schedule

RATE_SCALE = 6  # monthly rates have six decimal places
LOAN_STATUS = ("active", "delinquent", "defaulted", "paid_off")
ACTIVE, DELINQUENT, DEFAULTED, PAID_OFF = range(len(LOAN_STATUS))
_STATUS_COPY = table([copy_text(s) for s in LOAN_STATUS])
_US = 1_000_000


def month_days(months: Ints) -> Ints:
    """Days since 1970-01-01 of the first day of each month (``year * 12 + month - 1``)."""
    first = (months - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    out: Ints = first.astype(np.int64)
    return out


@dataclass(frozen=True)
class LoanTermColumns:
    """``LoanTerms`` of loans [lo, hi) but the schedule, one array per field."""

    principal: Ints
    """Cents."""
    rate: Ints
    """Millionths (the monthly rate is ``rate / 10**6``)."""
    month: Ints
    """The disbursal's month as ``year * 12 + month - 1``."""
    day: Ints
    disbursed_us: Ints
    """Microseconds since 1970-01-01T00:00Z."""
    due: Ints
    overdue: Ints
    status: Ints
    """Index in ``LOAN_STATUS``."""


def loan_term_columns(rc: RowContext, lo: int, hi: int) -> LoanTermColumns:
    spec = rc.spec
    term = spec.loan_term_months
    r = lanes(entity_key(spec.tenant, spec.env, spec.mode, "loan"), lo, hi)
    back = 1 + r[:, 3] % (term + 6)  # months before as_of's month
    day = 1 + r[:, 4] % 28
    month = rc.as_of.year * 12 + rc.as_of.month - 1 - back
    hour, minute = 9 + r[:, 5] % 9, r[:, 5] // 16 % 60
    days = month_days(month) + day - 1
    due = np.minimum(term, np.where(day < rc.as_of_date.day, back, back - 1))
    late = (due > 0) & (r[:, 6] % 100 < 15)
    overdue = np.where(late, np.minimum(due, 1 + r[:, 7] % 5), 0)
    status = np.select(
        [overdue >= 3, overdue > 0, due == term], [DEFAULTED, DELINQUENT, PAID_OFF], ACTIVE
    )
    return LoanTermColumns(
        principal=100 * (1_000 + r[:, 1] % 99_001),
        rate=8_000 + r[:, 2] % 37_001,
        month=month,
        day=day,
        disbursed_us=((days * 24 + hour) * 60 + minute) * 60 * _US,
        due=due,
        overdue=overdue,
        status=status.astype(np.int64),
    )


def schedules(terms: LoanTermColumns, term: int) -> tuple[Ints, Ints]:
    """(payment per loan, balances ``(loans, term + 1)``) in cents, as ``price_schedule``.

    A loop over loans, not rows (an installment batch covers ``rows / term`` loans).
    """
    n = terms.principal.size
    payments = np.empty(n, dtype=np.int64)
    balances = np.empty((n, term + 1), dtype=np.int64)
    for j, (cents, rate) in enumerate(
        zip(terms.principal.tolist(), terms.rate.tolist(), strict=True)
    ):
        payments[j], balances[j] = price_schedule(cents, Decimal(rate).scaleb(-RATE_SCALE), term)
    return payments, balances


def encode(rc: RowContext, start: int, stop: int) -> tuple[bytes, Ints, bytes]:
    """Loan rows [start, stop): (canonical rows back to back, their lengths, binary COPY)."""
    spec = rc.spec
    scope = (spec.tenant, spec.env, spec.mode)
    terms = loan_term_columns(rc, start, stop)
    ids = id_matrix(entity_namespace(*scope, "loan"), range(start, stop))
    contract = id_matrix(entity_namespace(*scope, "contract"), range(start, stop))
    account = id_matrix(  # loan i's account is credit_limit (i % n)'s: account i % n
        entity_namespace(*scope, "bank_account"),
        np.arange(start, stop, dtype=np.int64) % rc.n["credit_limit"],
    )
    tenant, mode, term = rc.tenant_id.bytes, rc.mode, spec.loan_term_months
    f = Fields(stop - start, "loan")
    f.scope(tenant, ids, mode)
    f.uuids(contract)
    f.uuids(account)
    f.numeric(terms.principal)
    f.numeric(terms.rate, RATE_SCALE)
    f.int4(term)
    f.choice(terms.status, _STATUS_COPY)
    f.timestamptz(terms.disbursed_us)
    return f.finish()

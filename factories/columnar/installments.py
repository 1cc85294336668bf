"""installment rows [start, stop) as columns: the same values as ``credit.installment``.

Installment k is number ``k % term + 1`` of loan ``k // term``; a batch covers
``rows / term`` loans, whose terms and schedules are computed once (``loans``) and
spread over their installments by index. The last installment's interest is the
row path's ``Decimal`` rounding done exactly in integers: ``before * rate`` has at most
13 digits, rounded half up to whole cents.
"""

from __future__ import annotations

import numpy as np

from factories.columnar.fields import (
    Fields,
    copy_text,
)
from factories.columnar.loans import RATE_SCALE, loan_term_columns, month_days, schedules
from factories.columnar.pack import Ints, table
from factories.context import RowContext
from factories.counters import id_matrix
from factories.keys import entity_namespace

_STATUS = ("paid", "overdue", "pending")
PAID, OVERDUE, PENDING = range(len(_STATUS))
_STATUS_COPY = table([copy_text(s) for s in _STATUS])


def _round_half_up(numerator: Ints, denominator: int) -> Ints:
    """``Decimal(numerator / denominator).quantize(1, ROUND_HALF_UP)``: ties away from 0."""
    magnitude = (np.abs(numerator) + denominator // 2) // denominator
    out: Ints = np.where(numerator < 0, -magnitude, magnitude)
    return out


def encode(rc: RowContext, start: int, stop: int) -> tuple[bytes, Ints, bytes]:
    """(canonical rows back to back, their lengths, the binary COPY stream)."""
    spec = rc.spec
    scope = (spec.tenant, spec.env, spec.mode)
    term = spec.loan_term_months
    k = np.arange(start, stop, dtype=np.int64)
    lo, hi = start // term, -(-stop // term)  # the loans of installments [start, stop)
    j, number = k // term - lo, k % term + 1
    terms = loan_term_columns(rc, lo, hi)
    payments, balances = schedules(terms, term)
    before, after = balances[j, number - 1], balances[j, number]
    principal_part = before - after
    interest = _round_half_up(before * terms.rate[j], 10**RATE_SCALE)
    amount = np.where(number < term, payments[j], principal_part + interest)
    due, overdue = terms.due[j], terms.overdue[j]
    status = np.where(number <= due - overdue, PAID, np.where(number <= due, OVERDUE, PENDING))
    due_days = month_days(terms.month[j] + number) + terms.day[j] - 1
    loans = id_matrix(entity_namespace(*scope, "loan"), range(lo, hi))[j]
    ids = id_matrix(entity_namespace(*scope, "installment"), range(start, stop))
    tenant, mode = rc.tenant_id.bytes, rc.mode

    f = Fields(stop - start, "installment")
    f.scope(tenant, ids, mode)
    f.uuids(loans)
    f.int4(number)
    f.date(due_days)
    for cents in (amount, principal_part, amount - principal_part, after):
        f.numeric(cents)
    f.choice(status, _STATUS_COPY)
    return f.finish()

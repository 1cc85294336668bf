"""contract rows [start, stop) as columns: the same values as ``credit.contract``.

Contract i < n_loan is loan i's (its status and signing follow the loan's terms, from
``loans``); the others are revolving, signed after their account's opening. The contract
number's keyed permutation stays one hash per row and round (``feistel_column``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from factories.columnar.feistel import feistel_column
from factories.columnar.fields import (
    Fields,
    copy_text,
)
from factories.columnar.loans import DEFAULTED, PAID_OFF, loan_term_columns
from factories.columnar.pack import Ints, digit_matrix, table
from factories.context import CONTRACT_HALF_DIGITS, TX_WINDOW, RowContext
from factories.counters import id_matrix, lanes, lanes_at
from factories.keys import entity_key, entity_namespace
from factories.rows.credit import LOAN_KINDS, REVOLVING_KINDS
from factories.rows.parties import DAY, YEAR
from factories.spec import MODES

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000
_KINDS = (*LOAN_KINDS, *REVOLVING_KINDS)  # revolving kind r is code len(LOAN_KINDS) + r
_STATUS = ("active", "closed", "defaulted", "blocked", "cancelled")
ACTIVE, CLOSED, DEFAULTED_CONTRACT, BLOCKED, CANCELLED = range(len(_STATUS))
_KIND_COPY = table([copy_text(s) for s in _KINDS])
_STATUS_COPY = table([copy_text(s) for s in _STATUS])
_NUMBER_DIGITS = 2 * CONTRACT_HALF_DIGITS


def _numbers(rc: RowContext, start: int, stop: int) -> np.ndarray:
    """``contract_number`` of each row as an ``(n, 17)`` byte matrix ("CT", mode, 14 digits)."""
    spec = rc.spec
    key = entity_key(spec.tenant, spec.env, spec.mode, "contract/number")
    permuted = feistel_column(key, CONTRACT_HALF_DIGITS, np.arange(start, stop, dtype=np.int64))
    # A leading 1 makes every number 15 digits wide; dropping it leaves them zero-padded.
    digits, _, _ = digit_matrix(permuted + 10**_NUMBER_DIGITS)
    head = np.frombuffer(b"CT%d" % MODES[rc.mode], dtype=np.uint8)
    return np.hstack([np.broadcast_to(head, (stop - start, head.size)), digits[:, 1:]])


def _columns(rc: RowContext, start: int, stop: int) -> tuple[Ints, Ints, Ints, Ints]:
    """(limit index, kind code, status code, signed_at in microseconds since 1970)."""
    spec = rc.spec
    scope = (spec.tenant, spec.env, spec.mode)
    i = np.arange(start, stop, dtype=np.int64)
    limit = i % rc.n["credit_limit"]  # credit_limit l belongs to bank_account l
    r = lanes(entity_key(*scope, "contract"), start, stop)
    split = min(max(rc.n["loan"], start), stop)  # rows [start, split) are loans' contracts
    loan, revolving = slice(0, split - start), slice(split - start, stop - start)
    kind = len(LOAN_KINDS) + r[:, 1] % len(REVOLVING_KINDS)
    kind[loan] = r[loan, 1] % len(LOAN_KINDS)
    roll = r[:, 3] % 100
    status = np.where(roll < 5, BLOCKED, np.where(roll < 8, CANCELLED, ACTIVE))
    signed = np.empty(stop - start, dtype=np.int64)
    if split > start:
        terms = loan_term_columns(rc, start, split)
        status[loan] = np.select(
            [terms.status == PAID_OFF, terms.status == DEFAULTED],
            [CLOSED, DEFAULTED_CONTRACT],
            ACTIVE,
        )
        signed[loan] = terms.disbursed_us - (3_600 + r[loan, 2] % (71 * 3_600)) * _US
    if stop > split:
        opened = lanes_at(entity_key(*scope, "bank_account"), limit[revolving].tolist())[:, 0]
        as_of_us = (rc.as_of - _EPOCH) // timedelta(microseconds=1)
        window = int(TX_WINDOW.total_seconds())
        back = window + DAY + opened % (3 * YEAR)  # account_opened = as_of - back seconds
        signed[revolving] = as_of_us + (r[revolving, 2] % (60 * DAY) - back) * _US
    return limit, kind, status.astype(np.int64), signed


def encode(rc: RowContext, start: int, stop: int) -> tuple[bytes, Ints, bytes]:
    """(canonical rows back to back, their lengths, the binary COPY stream)."""
    spec = rc.spec
    scope = (spec.tenant, spec.env, spec.mode)
    limit, kind, status, signed_us = _columns(rc, start, stop)
    ids = id_matrix(entity_namespace(*scope, "contract"), range(start, stop))
    n_customer = rc.n["customer"]
    customers = entity_namespace(*scope, "customer")
    customer = id_matrix(customers, limit % n_customer)
    credit_limit = id_matrix(entity_namespace(*scope, "credit_limit"), limit)
    numbers = _numbers(rc, start, stop)
    tenant, mode = rc.tenant_id.bytes, rc.mode

    f = Fields(stop - start, "contract")
    f.scope(tenant, ids, mode)
    f.uuids(customer)
    f.uuids(credit_limit)
    f.chars(numbers)
    f.choice(kind, _KIND_COPY)
    f.choice(status, _STATUS_COPY)
    f.timestamptz(signed_us)
    return f.finish()

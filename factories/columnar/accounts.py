"""bank_account rows [start, stop) as columns: the same values as ``ledger.bank_account``.

Account a belongs to customer a % n_customer (and to that customer's advisor's branch)
and to category a % n_category; its balance is the signed sum of its own contiguous run
of transactions (``transactions.ledger_balances``: one draw pass and a cumulative sum).
The account number's keyed permutation stays one hash per row and round
(``feistel_column``), as the contract number's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from factories.columnar.feistel import feistel_column
from factories.columnar.fields import (
    Fields,
    copy_text,
)
from factories.columnar.pack import Bytes2D, Ints, digit_matrix, table
from factories.columnar.transactions import ledger_balances
from factories.context import ACCOUNT_HALF_DIGITS, TX_WINDOW, RowContext
from factories.counters import id_matrix, lanes, lanes_at
from factories.keys import entity_key, entity_namespace
from factories.rows.parties import DAY, YEAR
from factories.spec import MODES

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_STATUS = ("active", "blocked", "dormant", "overdrawn")
ACTIVE, BLOCKED, DORMANT, OVERDRAWN = range(len(_STATUS))
_STATUS_COPY = table([copy_text(s) for s in _STATUS])
_CURRENCY = "BRL"


def account_numbers(rc: RowContext, start: int, stop: int) -> Bytes2D:
    """``account_number`` of each row as an ``(n, 14)`` byte matrix: the mode digit, 12
    permuted digits, and their Luhn check digit."""
    spec = rc.spec
    key = entity_key(spec.tenant, spec.env, spec.mode, "bank_account/number")
    permuted = feistel_column(key, ACCOUNT_HALF_DIGITS, np.arange(start, stop, dtype=np.int64))
    # mode * 10**12 + permuted: 13 digits, the mode digit (1..3) leading.
    body, _, _ = digit_matrix(permuted + MODES[rc.mode] * 10 ** (2 * ACCOUNT_HALF_DIGITS))
    d = body.astype(np.int64) - 48
    # Luhn over the body with the check digit to come: the body's last digit is doubled.
    doubled = (np.arange(d.shape[1])[::-1] % 2) == 0
    twice = np.where(d > 4, 2 * d - 9, 2 * d)
    total = np.where(doubled[None, :], twice, d).sum(axis=1)
    check = ((10 - total % 10) % 10 + 48).astype(np.uint8)
    return np.hstack([body, check[:, None]])


def _branches(rc: RowContext, advisors: Ints) -> Bytes2D:
    """``advisor_branch`` of each advisor index: four zero-padded digits."""
    spec = rc.spec
    drawn = lanes_at(entity_key(spec.tenant, spec.env, spec.mode, "advisor"), advisors)[:, 6]
    digits, _, _ = digit_matrix(1 + drawn % 500 + 10_000)  # a leading 1, dropped below
    return digits[:, 1:]


def _status_and_opening(rc: RowContext, start: int, stop: int) -> tuple[Ints, Ints, Ints]:
    """(status code, balance in cents, opened_at in microseconds since 1970)."""
    spec = rc.spec
    r = lanes(entity_key(spec.tenant, spec.env, spec.mode, "bank_account"), start, stop)
    balance = ledger_balances(rc, start, stop)
    roll = r[:, 3] % 100
    status = np.select(
        [balance < 0, roll < 2, roll < 6], [OVERDRAWN, BLOCKED, DORMANT], ACTIVE
    ).astype(np.int64)
    as_of_us = (rc.as_of - _EPOCH) // timedelta(microseconds=1)
    back_s = int(TX_WINDOW.total_seconds()) + DAY + r[:, 0] % (3 * YEAR)
    return status, balance, as_of_us - back_s * 1_000_000


def encode(rc: RowContext, start: int, stop: int) -> tuple[bytes, Ints, bytes]:
    """(canonical rows back to back, their lengths, the binary COPY stream)."""
    spec = rc.spec
    scope = (spec.tenant, spec.env, spec.mode)
    i = np.arange(start, stop, dtype=np.int64)
    customer = i % rc.n["customer"]
    status, balance, opened_us = _status_and_opening(rc, start, stop)
    ids = id_matrix(entity_namespace(*scope, "bank_account"), range(start, stop))
    customers = id_matrix(entity_namespace(*scope, "customer"), customer)
    category = id_matrix(entity_namespace(*scope, "account_category"), i % rc.n["account_category"])
    numbers = account_numbers(rc, start, stop)
    branch = _branches(rc, customer % rc.n["advisor"])
    tenant, mode = rc.tenant_id.bytes, rc.mode

    f = Fields(stop - start, "bank_account")
    f.scope(tenant, ids, mode)
    f.uuids(customers)
    f.uuids(category)
    f.chars(numbers)
    f.chars(branch)
    f.text(_CURRENCY)
    f.choice(status, _STATUS_COPY)
    f.numeric(balance)
    f.timestamptz(opened_us)
    return f.finish()

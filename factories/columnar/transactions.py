"""financial_transaction rows [start, stop) as columns: the same values as
``ledger.financial_transaction``, its canonical bytes and its binary COPY bytes.

Two thirds of a bench dataset are transactions; per row, the row path built ~10
Python objects, encoded them twice (canonical digest, COPY) and spent ~20 us. Here the
only per-row Python left is the row digest's SHA-256 call; the keyed draws and the
ids are one Philox call a batch, everything else one numpy pass per column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from factories.columnar.fields import (
    Fields,
    copy_text,
)
from factories.columnar.pack import Bytes2D, Ints, table
from factories.context import TX_WINDOW, RowContext
from factories.counters import id_matrix
from factories.counters import lanes as lanes_of
from factories.keys import entity_key, entity_namespace
from factories.rows.ledger import _TX_SPAN_S, OPENING, PURPOSES, account_of, first_tx

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ALL = (*PURPOSES, OPENING)  # code 16 = the opening deposit
_OPEN_CODE = len(PURPOSES)
_LOW = np.array([p[2] for p in _ALL], dtype=np.int64)
_SPAN = np.array([p[3] - p[2] for p in _ALL], dtype=np.int64)
_PAYS = np.array([p[4] for p in _ALL], dtype=np.bool_)


_KIND_COPY = table([copy_text(p[0]) for p in _ALL])
_DESC_COPY = table([copy_text(p[1]) for p in _ALL])


@dataclass(frozen=True)
class TxColumns:
    """The stored values of transactions [start, stop), one array per column."""

    tenant: bytes
    mode: str
    ids: Bytes2D
    account: Bytes2D
    supplier: Bytes2D
    has_supplier: np.ndarray
    code: Ints
    cents: Ints
    booked_us: Ints
    """Microseconds since 1970-01-01T00:00Z."""

    def __len__(self) -> int:
        return int(self.code.size)


def tx_columns(rc: RowContext, start: int, stop: int) -> TxColumns:
    spec = rc.spec
    scope = (spec.tenant, spec.env, spec.mode)
    n_supplier = rc.n["supplier"]
    t = np.arange(start, stop, dtype=np.int64)
    lanes = lanes_of(entity_key(*scope, "financial_transaction"), start, stop)
    account, opening = _accounts(rc, t)
    code = np.where(opening, _OPEN_CODE, lanes[:, 1] % len(PURPOSES))
    cents = _LOW[code] + lanes[:, 2] % _SPAN[code]
    window_s = int(TX_WINDOW.total_seconds())
    seconds = np.where(opening, window_s, 1 + lanes[:, 3] % _TX_SPAN_S)
    as_of_us = (rc.as_of - _EPOCH) // timedelta(microseconds=1)
    has_supplier = _PAYS[code] & (n_supplier > 0)
    supplier = np.zeros((t.size, 16), dtype=np.uint8)
    if n_supplier and has_supplier.any():
        picked = t[has_supplier] % n_supplier
        supplier[has_supplier] = id_matrix(entity_namespace(*scope, "supplier"), picked)
    return TxColumns(
        tenant=rc.tenant_id.bytes,
        mode=rc.mode,
        ids=id_matrix(entity_namespace(*scope, "financial_transaction"), range(start, stop)),
        account=id_matrix(entity_namespace(*scope, "bank_account"), account),
        supplier=supplier,
        has_supplier=has_supplier,
        code=code,
        cents=cents,
        booked_us=as_of_us - seconds * 1_000_000,
    )


def pack(c: TxColumns) -> tuple[bytes, Ints, bytes]:
    """(canonical rows back to back, their lengths, the binary COPY stream)."""
    if len(c) and int(c.cents.min()) < 0:
        raise ValueError("columnar transactions take non-negative amounts")
    f = Fields(len(c), "financial_transaction")
    f.scope(c.tenant, c.ids, c.mode)
    f.uuids(c.account)
    f.optional_uuids(c.supplier, c.has_supplier)
    f.choice(c.code, _KIND_COPY)
    f.numeric(c.cents)
    f.choice(c.code, _DESC_COPY)
    f.timestamptz(c.booked_us)
    return f.finish()


def _accounts(rc: RowContext, t: Ints) -> tuple[Ints, np.ndarray]:
    """Each transaction's account and whether it is that account's opening deposit."""
    n_account, n_tx = rc.n["bank_account"], rc.n["financial_transaction"]
    account = account_of(t, n_account, n_tx)
    return account, t == first_tx(account, n_account, n_tx)


def _signed_cents(rc: RowContext, start: int, stop: int) -> Ints:
    """Transactions [start, stop)'s amounts, signed (credit +, debit -), as ``tx_entry``."""
    scope = (rc.spec.tenant, rc.spec.env, rc.spec.mode)
    lanes = lanes_of(entity_key(*scope, "financial_transaction"), start, stop)
    t = np.arange(start, stop, dtype=np.int64)
    code = np.where(_accounts(rc, t)[1], _OPEN_CODE, lanes[:, 1] % len(PURPOSES))
    cents = _LOW[code] + lanes[:, 2] % _SPAN[code]
    return np.where(_CREDIT[code], cents, -cents)


_CREDIT = np.array([p[0] == "credit" for p in _ALL], dtype=np.bool_)


def ledger_balances(rc: RowContext, start: int, stop: int) -> Ints:
    """``ledger_cents`` of accounts [start, stop): one contiguous run of transactions,
    its amounts drawn in one pass and summed per account by a cumulative sum."""
    n_account, n_tx = rc.n["bank_account"], rc.n["financial_transaction"]
    bounds = first_tx(np.arange(start, stop + 1, dtype=np.int64), n_account, n_tx)
    first, last = int(bounds[0]), int(bounds[-1])
    running = np.zeros(last - first + 1, dtype=np.int64)
    if last > first:
        np.cumsum(_signed_cents(rc, first, last), out=running[1:])
    balance: Ints = running[bounds[1:] - first] - running[bounds[:-1] - first]
    return balance


def encode(rc: RowContext, start: int, stop: int) -> tuple[bytes, Ints, bytes]:
    """(canonical rows back to back, their lengths, the binary COPY stream)."""
    return pack(tx_columns(rc, start, stop))

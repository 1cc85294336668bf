"""The columnar path is the row path, byte for byte: canonical bytes, digests, folds and
the binary COPY stream psycopg would send for the same rows (issue 17)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.adapt import PyFormat, Transformer
from psycopg.postgres import types as pg_types
from psycopg.pq import Format

from factories import digest
from factories.columnar import COLUMNAR, ENCODERS, encoded_batch
from factories.columnar import digests as cdigests
from factories.columnar.feistel import feistel_column
from factories.columnar.fields import copy_numeric
from factories.columnar.installments import _round_half_up
from factories.columnar.pack import Packer, RecordPacker, digit_matrix
from factories.columnar.transactions import (
    ledger_balances,
    pack,
    tx_columns,
)
from factories.context import CONTRACT_HALF_DIGITS, RowContext
from factories.keys import Feistel, entity_key
from factories.planner import TEST_ONLY_SALT, BatchSpec, generate_batch, plan
from factories.record import RECORDS, numeric_send, record_send
from factories.rows import masked_rows
from factories.rows.ledger import account_of, first_tx, ledger_cents
from factories.spec import DatasetSpec
from tests.unit.factories.support import GOLDEN_COUNTS, GOLDEN_SALT, golden_spec

TX = "financial_transaction"
PG_TYPES = {
    TX: ("uuid", "uuid", "text", "uuid", "uuid", "text", "numeric", "text", "timestamptz"),
    "bank_account": (
        "uuid", "uuid", "text", "uuid", "uuid", "text", "text", "text", "text", "numeric",
        "timestamptz",
    ),
    "credit_limit": ("uuid", "uuid", "text", "uuid", "numeric", "numeric", "text", "date"),
    "contract": ("uuid", "uuid", "text", "uuid", "uuid", "text", "text", "text", "timestamptz"),
    "loan": (
        "uuid", "uuid", "text", "uuid", "uuid", "numeric", "numeric", "int4", "text", "timestamptz"
    ),
    "installment": (
        "uuid", "uuid", "text", "uuid", "int4", "date",
        "numeric", "numeric", "numeric", "numeric", "text",
    ),
}  # fmt: skip
CREDIT = {"contract": 300, "loan": 200, "installment": 200 * 6}
"""More loans than the golden 8: every status, schedules, contracts past the loans."""


def _big(**counts: int) -> DatasetSpec:
    return golden_spec(counts={**GOLDEN_COUNTS, **counts})


def _psycopg_copy(entity: str, rows: Sequence[Sequence[Any]]) -> bytes:
    """The binary COPY stream psycopg's own dumpers make for these rows (the row path)."""
    tx = Transformer()
    oids = [pg_types.get(n).oid for n in PG_TYPES[entity]]  # type: ignore[union-attr]
    tx.set_dumper_types(oids, Format.BINARY)
    out = [b"PGCOPY\n\xff\r\n\x00" + bytes(8)]
    for row in rows:
        out.append(struct.pack(">h", len(row)))
        for field in tx.dump_sequence(row, [PyFormat.BINARY] * len(row)):
            out.append(b"\xff\xff\xff\xff" if field is None else struct.pack(">i", len(field)))
            out.append(b"" if field is None else bytes(field))
    out.append(b"\xff\xff")
    return b"".join(out)


SPECS = {
    "golden": golden_spec(),
    "bench-shaped": _big(bank_account=700, supplier=30, financial_transaction=9_000, **CREDIT),
    # Every installment is a loan's last (its interest rounded from the balance left).
    "one-month-term": golden_spec(
        counts={**GOLDEN_COUNTS, **CREDIT, "installment": 200}, loan_term_months=1
    ),
    # A year's term, as in the profiles: due dates cross year ends.
    "twelve-month-term": golden_spec(
        counts={**GOLDEN_COUNTS, **CREDIT, "installment": 200 * 12}, loan_term_months=12
    ),
    "no-supplier": _big(supplier=0),
    # Fewer transactions than accounts: some accounts own none, every one is an opening.
    "sparse-ledger": _big(bank_account=700, financial_transaction=300),
    # A local as_of with microseconds near midnight: dates and times must not drift.
    "late-local-clock": golden_spec(
        as_of=datetime(2026, 6, 30, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3)))
    ),
}


def _ranges(spec: DatasetSpec, entity: str) -> list[tuple[int, int]]:
    """The whole, its ends, a middle slice, and where an entity's rows change kind: a
    loan's first and last installments, the last loan contract and the first revolving."""
    total = spec.count(entity)
    edges = [(0, total), (0, 1), (total // 3, total // 3 + 7), (total - 5, total)]
    term, loans = spec.loan_term_months, spec.count("loan")
    if entity == "installment":
        edges += [(term - 1, term + 1), (term, 2 * term), (total - term - 1, total - term + 1)]
    if entity == "contract":
        edges += [(loans - 1, loans + 1), (loans, loans + 3), (loans - 3, loans)]
    return [(max(0, a), min(total, b)) for a, b in edges]


def test_every_columnar_entity_is_covered_here() -> None:
    assert set(PG_TYPES) == COLUMNAR


@pytest.mark.parametrize("entity", sorted(COLUMNAR))
@pytest.mark.parametrize("name", sorted(SPECS))
def test_canonical_and_copy_bytes_equal_the_row_path(name: str, entity: str) -> None:
    spec = SPECS[name]
    rc = RowContext(spec, GOLDEN_SALT)
    total = spec.count(entity)
    for start, stop in _ranges(spec, entity):
        rows = masked_rows(rc, entity, start, stop)
        buf, lengths, copy = ENCODERS[entity](rc, start, stop)
        records = [record_send(RECORDS[entity], r) for r in rows]
        assert buf == b"".join(records)
        assert lengths.tolist() == [len(r) for r in records]
        assert copy == _psycopg_copy(entity, rows)
    if entity == TX:  # the columns packed are the encoder's output
        got, want = pack(tx_columns(rc, 0, total)), ENCODERS[TX](rc, 0, total)
        assert (got[0], got[1].tolist(), got[2]) == (want[0], want[1].tolist(), want[2])


@pytest.mark.parametrize("entity", sorted(COLUMNAR))
@pytest.mark.parametrize("size", [7, 1_000, 50_000])
def test_batches_of_any_size_give_the_row_path_digests(size: int, entity: str) -> None:
    spec = SPECS["bench-shaped"]
    folds = []
    for b in (b for b in plan(spec, size) if b.entity == entity):
        rows = generate_batch(spec, b, GOLDEN_SALT)
        cols = encoded_batch(spec, b, GOLDEN_SALT)
        assert (cols.digest, cols.fold, len(cols.rows)) == (rows.digest, rows.fold, len(rows.rows))
        folds.append(cols.fold)
    whole = generate_batch(spec, BatchSpec(entity, 0, spec.count(entity)), GOLDEN_SALT)
    assert digest.combine_folds(folds) == whole.fold


def test_the_fold_carries_across_words_like_the_integer_sum() -> None:
    edge = [b"\xff" * 32, b"\xff" * 32, b"\x00" * 31 + b"\x01", bytes(range(32))]
    rows = edge + [hashlib.sha256(b"%d" % i).digest() for i in range(1_000)]
    assert cdigests.fold(b"".join(rows)) == digest.fold(rows)
    assert cdigests.fold(b"") == 0
    assert cdigests.batch_digest(b"".join(rows)) == digest.batch_digest(rows)


def test_digit_matrix_is_the_decimal_text() -> None:
    values = [0, 1, 9, 10, 99, 100, 123_456_789, 2**62]
    mat, mask, lengths = digit_matrix(np.array(values, dtype=np.int64))
    assert [bytes(mat[k][mask[k]]) for k in range(len(values))] == [b"%d" % v for v in values]
    assert lengths.tolist() == [len(str(v)) for v in values]
    with pytest.raises(ValueError, match="non-negative"):
        digit_matrix(np.array([-1], dtype=np.int64))


def test_numeric_is_postgres_binary_numeric_as_psycopg_sends_it() -> None:
    cents = [0, 1, 5, 50, 99, 100, 10_000, 1_000_000, 123_456_789, 10**17 + 1, 10**18 - 1]
    p = Packer(len(cents))
    copy_numeric(p, np.array(cents, dtype=np.int64))
    got, _ = p.pack()
    dumper = Transformer().get_dumper(Decimal("1.00"), PyFormat.BINARY)
    expected = b""
    for c in cents:
        payload = bytes(dumper.dump(Decimal(c).scaleb(-2)) or b"")
        expected += struct.pack(">i", len(payload)) + payload
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-(10**17) + 1, 10**17 - 1), min_size=1, max_size=40))
def test_signed_cents_are_what_psycopg_sends_and_the_record_form(cents: list[int]) -> None:
    """A balance may be negative (an overdrawn account): sign and magnitude, both forms."""
    column = np.array(cents, dtype=np.int64)
    copy = Packer(len(cents))
    copy_numeric(copy, column)
    dumper = Transformer().get_dumper(Decimal("1.00"), PyFormat.BINARY)
    expected = b""
    for c in cents:
        payload = bytes(dumper.dump(Decimal(c).scaleb(-2)) or b"")
        assert numeric_send(Decimal(c).scaleb(-2), 2) == payload
        expected += struct.pack(">i", len(payload)) + payload
    assert copy.pack()[0] == expected


def test_numeric_of_six_places_is_what_psycopg_sends_for_a_rate() -> None:
    units = [0, 1, 80, 8_000, 10_000, 12_345, 45_000, 999_999, 1_000_000, 123_456_789]
    p = Packer(len(units))
    copy_numeric(p, np.array(units, dtype=np.int64), 6)
    got, _ = p.pack()
    dumper = Transformer().get_dumper(Decimal("0.000001"), PyFormat.BINARY)
    expected = b""
    for u in units:
        payload = bytes(dumper.dump(Decimal(u).scaleb(-6)) or b"")
        expected += struct.pack(">i", len(payload)) + payload
    assert got == expected


def test_a_record_packer_refuses_too_few_or_too_many_columns() -> None:
    p = RecordPacker(2, (2950, 25))
    p.column()
    p.const(b"\x00\x00\x00\x00")
    with pytest.raises(ValueError, match="1 of the record's 2 columns"):
        p.pack_both()
    p.column()
    p.const(b"\x00\x00\x00\x01x")
    with pytest.raises(ValueError, match="no more"):
        p.column()
    canonical, lengths, copy = p.pack_both()
    row = (
        b"\x00\x00\x00\x02"
        + b"\x00\x00\x0b\x86\x00\x00\x00\x00"
        + b"\x00\x00\x00\x19\x00\x00\x00\x01x"
    )
    assert (canonical, lengths.tolist()) == (row * 2, [len(row)] * 2)
    assert copy == (b"\x00\x02" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x01x") * 2


def test_feistel_column_is_the_feistel_permutation() -> None:
    key = entity_key("acme-bank", "ci", "baseline", "contract/number")
    values = [0, 1, 9_999_999, 10_000_000, 123_456_789_012, 10**14 - 1]
    feistel = Feistel(key, CONTRACT_HALF_DIGITS)
    got = feistel_column(key, CONTRACT_HALF_DIGITS, np.array(values, dtype=np.int64))
    assert got.tolist() == [feistel(v) for v in values]
    with pytest.raises(ValueError, match="domain"):
        feistel_column(key, CONTRACT_HALF_DIGITS, np.array([10**14], dtype=np.int64))


def test_interest_rounds_half_up_like_the_decimal_quantize() -> None:
    # Ties (…500_000) away from zero, on both sides of it, and either side of a tie.
    nums = [0, 499_999, 500_000, 500_001, 1_500_000, 2_500_000, -500_000, -1_499_999, 10**12]
    got = _round_half_up(np.array(nums, dtype=np.int64), 10**6).tolist()
    rounded = [(Decimal(n) / 10**6).quantize(Decimal(1), ROUND_HALF_UP) for n in nums]
    assert got == [int(d) for d in rounded]


def test_the_columnar_path_refuses_what_the_row_path_refuses() -> None:
    spec = golden_spec()
    assert {TX, "credit_limit"} <= COLUMNAR
    with pytest.raises(ValueError, match="test-only salt"):
        encoded_batch(spec, BatchSpec(TX, 0, 5), TEST_ONLY_SALT)
    with pytest.raises(ValueError, match="exceeds"):
        encoded_batch(spec, BatchSpec(TX, 0, spec.count(TX) + 1), GOLDEN_SALT)
    with pytest.raises(ValueError, match="no columnar generator"):
        encoded_batch(spec, BatchSpec("customer", 0, 5), GOLDEN_SALT)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_ledger_balances_are_the_row_by_row_sums(name: str) -> None:
    spec = SPECS[name]
    rc = RowContext(spec, GOLDEN_SALT)
    n = spec.count("bank_account")
    for start, stop in ((0, n), (n // 2, n // 2 + 3), (n - 1, n)):
        expected = [ledger_cents(rc, a) for a in range(start, stop)]
        assert ledger_balances(rc, start, stop).tolist() == expected


# 10x the hard caps (bank_account 100,000; financial_transaction 1,000,000).
@settings(max_examples=300, deadline=None)
@given(
    n_account=st.integers(1, 1_000_000),
    n_tx=st.integers(1, 10_000_000),
    where=st.floats(0, 1, exclude_max=True),
)
def test_account_major_layout_is_a_partition(n_account: int, n_tx: int, where: float) -> None:
    """Account a owns exactly [first_tx(a), first_tx(a + 1)); columns equal the scalars."""
    t = int(where * n_tx)
    a = account_of(t, n_account, n_tx)
    assert 0 <= a < n_account
    assert first_tx(a, n_account, n_tx) <= t < first_tx(a + 1, n_account, n_tx)
    assert first_tx(0, n_account, n_tx) == 0
    assert first_tx(n_account, n_account, n_tx) == n_tx
    if n_tx >= n_account:  # every account has its opening deposit
        assert first_tx(a + 1, n_account, n_tx) - first_tx(a, n_account, n_tx) >= 1
    ts = np.array([0, t, n_tx - 1], dtype=np.int64)
    accounts = account_of(ts, n_account, n_tx)
    assert accounts.tolist() == [account_of(int(x), n_account, n_tx) for x in ts]
    assert first_tx(accounts, n_account, n_tx).tolist() == [
        first_tx(int(x), n_account, n_tx) for x in accounts
    ]


def test_a_transaction_batch_references_a_contiguous_run_of_accounts() -> None:
    """What the layout is for: the write path locks each parent of a batch, so a batch
    of 10,000 bench transactions must reference ~750 accounts, not 10,000."""
    bench = {"bank_account": 75_000, "financial_transaction": 1_000_000}
    spec = golden_spec(counts={**GOLDEN_COUNTS, **bench})
    rc = RowContext(spec, GOLDEN_SALT)
    cols = tx_columns(rc, 500_000, 510_000)
    distinct = np.unique(cols.account, axis=0).shape[0]
    assert distinct <= 10_000 * 75_000 // 1_000_000 + 2

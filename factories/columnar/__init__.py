"""The columnar hot path: a batch of a bulk, PII-free entity as arrays, not rows.

Same rows, same digests as ``factories.planner.generate_batch`` (tests hold them
byte-equal), so checkpoints, the dataset digest and the read-back fold are untouched:
this is a faster way to the same output, not a new dataset format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from factories.batch import TEST_ONLY_SALT, BatchSpec
from factories.columnar import (
    accounts,
    contracts,
    digests,
    installments,
    limits,
    loans,
    transactions,
)
from factories.columnar.pack import Ints
from factories.context import RowContext
from factories.rows import COLUMNS
from factories.spec import DatasetSpec

Encoder = Callable[[RowContext, int, int], tuple[bytes, Ints, bytes]]
ENCODERS: Mapping[str, Encoder] = MappingProxyType(
    {
        "bank_account": accounts.encode,
        "financial_transaction": transactions.encode,
        "credit_limit": limits.encode,
        "contract": contracts.encode,
        "loan": loans.encode,
        "installment": installments.encode,
    }
)
COLUMNAR = frozenset(ENCODERS)
"""Entities this path generates; every other one takes the row path."""


@dataclass(frozen=True)
class CopyPayload:
    """A complete binary COPY stream of ``count`` rows (what the sink streams as is)."""

    data: bytes
    count: int

    def __len__(self) -> int:
        return self.count


@dataclass(frozen=True)
class EncodedBatch:
    batch: BatchSpec
    columns: tuple[str, ...]
    rows: CopyPayload
    digest: str
    fold: int


def encoded_batch(spec: DatasetSpec, batch: BatchSpec, salt: bytes) -> EncodedBatch:
    """``generate_batch``'s digest and fold, with the rows as binary COPY bytes."""
    if batch.entity not in COLUMNAR:
        raise ValueError(f"{batch.entity} has no columnar generator")
    if salt == TEST_ONLY_SALT:
        raise ValueError("the test-only salt cannot seed a dataset; use the run's salt")
    if batch.stop > spec.count(batch.entity):
        raise ValueError(f"{batch} exceeds the {spec.count(batch.entity)} rows of {batch.entity}")
    encode = ENCODERS[batch.entity]
    canonical, lengths, copy = encode(RowContext(spec, salt), batch.start, batch.stop)
    row_digests = digests.row_digests(canonical, lengths)
    return EncodedBatch(
        batch,
        COLUMNS[batch.entity],
        CopyPayload(copy, batch.stop - batch.start),
        digests.batch_digest(row_digests),
        digests.fold(row_digests),
    )

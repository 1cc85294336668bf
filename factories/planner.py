"""Batch plan and batch generation: the bulk path used by the Celery jobs.

A ``BatchSpec`` is what travels in a message (entity and index range: no PII, no
salt); the worker rebuilds the rows from the ``DatasetSpec`` the flow validated and
the salt it reads itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from factories import digest
from factories.batch import TEST_ONLY_SALT, BatchSpec
from factories.columnar.transactions import ledger_balances
from factories.context import RowContext
from factories.record import RECORDS
from factories.rows import COLUMNS, masked_rows
from factories.spec import ENTITIES, DatasetSpec

# BatchSpec and TEST_ONLY_SALT moved to factories.batch (below the columnar generators);
# importers of the planner keep finding them here.
__all__ = [
    "TEST_ONLY_SALT",
    "BatchSpec",
    "GeneratedBatch",
    "dataset_digest_of",
    "generate_batch",
    "plan",
]


@dataclass(frozen=True)
class GeneratedBatch:
    batch: BatchSpec
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    digest: str
    """SHA-256 hex of the batch's row digests in index order (see ``factories.digest``)."""
    fold: int
    """Sum of row digests mod 2**256: combine over batches for ``dataset_digest``."""


def plan(spec: DatasetSpec, batch_size: int | Mapping[str, int]) -> list[BatchSpec]:
    """Contiguous batches of every entity, entities in FK order."""
    batches: list[BatchSpec] = []
    for entity in ENTITIES:
        size = batch_size if isinstance(batch_size, int) else batch_size.get(entity, 0)
        if size < 1:
            raise ValueError(f"batch size of {entity} must be >= 1, got {size}")
        total = spec.count(entity)
        batches += [BatchSpec(entity, s, min(s + size, total)) for s in range(0, total, size)]
    return batches


def generate_batch(spec: DatasetSpec, batch: BatchSpec, salt: bytes) -> GeneratedBatch:
    """The masked rows ``[start, stop)`` of one entity, in ``column_names`` order."""
    if salt == TEST_ONLY_SALT:
        raise ValueError("the test-only salt cannot seed a dataset; use the run's salt")
    if batch.stop > spec.count(batch.entity):
        raise ValueError(f"{batch} exceeds the {spec.count(batch.entity)} rows of {batch.entity}")
    rc = RowContext(spec, salt)
    if batch.entity == "bank_account":  # balances column-wise: ~13 numpy passes, same sums
        balances = ledger_balances(rc, batch.start, batch.stop).tolist()
        rc.memo.update({("ledger", batch.start + k): b for k, b in enumerate(balances)})
    rows = masked_rows(rc, batch.entity, batch.start, batch.stop)
    columns = RECORDS[batch.entity]
    digests = [digest.row_digest(columns, r) for r in rows]
    return GeneratedBatch(
        batch, COLUMNS[batch.entity], rows, digest.batch_digest(digests), digest.fold(digests)
    )


def dataset_digest_of(spec: DatasetSpec, batches: Iterable[GeneratedBatch]) -> str:
    """Dataset digest from generated batches of any size, in any order."""
    folds: dict[str, int] = {}
    for b in batches:
        folds[b.batch.entity] = digest.combine_folds((folds.get(b.batch.entity, 0), b.fold))
    return digest.dataset_digest(folds, {e: spec.count(e) for e in ENTITIES})

"""The digests built on a row's canonical bytes (``factories.record``), stable across processes.

- row digest: SHA-256 of the row's canonical bytes (PostgreSQL's ``record_send`` of it).
- batch digest: SHA-256 of its row digests in index order (what a checkpoint stores).
- entity fold: sum of row digests (as 256-bit integers) mod 2**256. Order- and
  batching-independent, so a dataset digest can be built from batches of any size,
  finished in any order, or from rows read back from PostgreSQL in any order.
- dataset digest: SHA-256 over (entity, row count, fold) in FK order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from factories.record import RECORDS, Record
from factories.spec import ENTITIES

_MOD = 1 << 256


def row_digest(record: Record, row: Sequence[Any]) -> bytes:
    return hashlib.sha256(record.send(row)).digest()


def batch_digest(row_digests: Iterable[bytes]) -> str:
    return hashlib.sha256(b"".join(row_digests)).hexdigest()


def fold(row_digests: Iterable[bytes]) -> int:
    return sum(int.from_bytes(d, "big") for d in row_digests) % _MOD


def fold_rows(entity: str, rows: Iterable[Sequence[Any]]) -> int:
    """Fold of rows of ``entity`` in any order (e.g. read back from the database)."""
    columns = RECORDS[entity]
    return fold(row_digest(columns, r) for r in rows)


def combine_folds(folds: Iterable[int]) -> int:
    return sum(folds) % _MOD


def dataset_digest(folds: Mapping[str, int], counts: Mapping[str, int]) -> str:
    """Digest of a whole dataset from per-entity folds and row counts (FK order)."""
    h = hashlib.sha256(b"seedbank-dataset-v1")
    for entity in ENTITIES:
        h.update(f"\x00{entity}\x00{counts.get(entity, 0)}\x00".encode())
        h.update(folds.get(entity, 0).to_bytes(32, "big"))
    return h.hexdigest()

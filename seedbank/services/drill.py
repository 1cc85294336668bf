"""DR drill helpers: the digest a restore must reproduce, computed from the generator."""

from __future__ import annotations

from factories.digest import combine_folds, dataset_digest
from factories.planner import generate_batch, plan
from factories.spec import ENTITIES, DatasetSpec


def expected_dataset_digest(spec: DatasetSpec, salt: bytes, batch_size: int) -> str:
    """The dataset digest a faithful restore must produce (rows streamed, none kept)."""
    folds: dict[str, int] = {}
    for batch in plan(spec, batch_size):
        generated = generate_batch(spec, batch, salt)
        folds[batch.entity] = combine_folds((folds.get(batch.entity, 0), generated.fold))
    return dataset_digest(folds, {e: spec.count(e) for e in ENTITIES})

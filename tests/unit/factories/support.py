"""Shared fixed inputs of the factories tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from factories.planner import GeneratedBatch, generate_batch, plan
from factories.spec import DatasetSpec

GOLDEN_SALT = b"golden-digest-salt-for-unit-tests-only"
OTHER_SALT = b"another-salt-used-to-show-rotation"
GOLDEN_COUNTS = {
    "app_user": 4, "advisor": 3, "account_category": 5, "supplier": 4, "customer": 20,
    "address": 25, "bank_account": 24, "credit_limit": 16, "contract": 18, "loan": 8,
    "installment": 8 * 6, "financial_transaction": 120,
}  # fmt: skip


def golden_spec(**changes: Any) -> DatasetSpec:
    fields: dict[str, Any] = {
        "tenant": "acme-bank", "env": "ci", "mode": "baseline",
        "as_of": datetime(2025, 3, 15, 12, 0, tzinfo=UTC), "counts": GOLDEN_COUNTS,
        "loan_term_months": 6, "manifest_digest": "ab" * 32,
    }  # fmt: skip
    fields.update(changes)
    return DatasetSpec(**fields)


def generate_all(
    spec: DatasetSpec, batch_size: int, salt: bytes = GOLDEN_SALT
) -> list[GeneratedBatch]:
    return [generate_batch(spec, b, salt) for b in plan(spec, batch_size)]


def rows_by_entity(batches: list[GeneratedBatch]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for b in batches:
        out.setdefault(b.batch.entity, []).extend(b.rows)
    return out

"""Rows/s of ``generate_batch`` (not a test): ``.venv/bin/python -m tests.unit.factories.bench``."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from factories.planner import BatchSpec, generate_batch
from factories.spec import DatasetSpec

COUNTS = {
    "app_user": 100, "advisor": 100, "account_category": 20, "supplier": 500,
    "customer": 20_000, "address": 25_000, "bank_account": 25_000, "credit_limit": 20_000,
    "contract": 20_000, "loan": 10_000, "installment": 120_000,
    "financial_transaction": 500_000,
}  # fmt: skip
SALT = b"benchmark-salt-not-a-secret-0001"


def main(rows: int = 5_000, repeats: int = 3) -> None:
    spec = DatasetSpec(
        "bench-bank", "bench", "load", datetime(2025, 3, 15, 12, tzinfo=UTC), COUNTS, 12, "0" * 64
    )
    for entity in ("customer", "financial_transaction", "bank_account", "installment", "address"):
        generate_batch(spec, BatchSpec(entity, 0, 10), SALT)  # warm the pools
        best = float("inf")
        for r in range(repeats):
            start = rows * (r + 1)
            t0 = time.perf_counter()
            generate_batch(spec, BatchSpec(entity, start, start + rows), SALT)
            best = min(best, time.perf_counter() - t0)
        print(f"{entity:>22}: {rows / best:>9,.0f} rows/s (best of {repeats}, {rows} rows)")


if __name__ == "__main__":
    main()

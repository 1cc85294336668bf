"""The parent spans the schedule waits for cover every reference the rows really make."""

from __future__ import annotations

import uuid
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factories.context import RowContext
from factories.references import modulo, parent_spans
from factories.rows import masked_rows
from seedbank.domain.models import ENTITY_PARENTS
from tests.unit.factories.support import GOLDEN_COUNTS, GOLDEN_SALT, golden_spec

SPECS = {
    "golden": golden_spec(),
    # More limits than customers, fewer loans than contracts, a year's term.
    "wide": golden_spec(
        counts={**GOLDEN_COUNTS, "customer": 7, "address": 30, "bank_account": 40,
                "credit_limit": 33, "contract": 50, "loan": 11, "installment": 11 * 12,
                "financial_transaction": 400, "supplier": 9},
        loan_term_months=12,
    ),
    # Fewer transactions than accounts.
    "sparse": golden_spec(counts={**GOLDEN_COUNTS, "financial_transaction": 10}),
}  # fmt: skip
CHILDREN = sorted(e for e, ps in ENTITY_PARENTS.items() if ps)


@cache
def _context(name: str) -> RowContext:
    return RowContext(SPECS[name], GOLDEN_SALT)


@cache
def _index_of(name: str, parent: str) -> dict[uuid.UUID, int]:
    rc = _context(name)
    return {rc.ids[parent](j): j for j in range(rc.n[parent])}


def _inside(index: int, spans: list[tuple[int, int]]) -> bool:
    return any(lo <= index < hi for lo, hi in spans)


def _references_outside(name: str, child: str, start: int, stop: int) -> dict[str, int]:
    """Per parent, how many referenced parent rows lie outside the spans, and checks that
    the uuids were found at all (-1 for a parent none of the rows references)."""
    spec = SPECS[name]
    rows = masked_rows(_context(name), child, start, stop)
    out: dict[str, int] = {}
    for parent in ENTITY_PARENTS[child]:
        spans = parent_spans(spec, child, parent, start, stop)
        assert all(0 <= lo < hi <= spec.count(parent) for lo, hi in spans), spans
        if parent == "tenant":  # one row, its id the tenant's own: the whole of it
            assert spans == [(0, 1)]
            continue
        index = _index_of(name, parent)
        referenced = {
            index[v] for row in rows for v in row if isinstance(v, uuid.UUID) and v in index
        }
        out[parent] = sum(1 for i in referenced if not _inside(i, spans)) if referenced else -1
    return out


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("child", CHILDREN)
def test_a_whole_entity_references_only_rows_inside_its_spans(name: str, child: str) -> None:
    outside = _references_outside(name, child, 0, SPECS[name].count(child))
    if (name, child) == ("sparse", "financial_transaction"):  # opening deposits only
        assert outside.pop("supplier") == -1
    assert all(v == 0 for v in outside.values()), outside  # -1: the uuids were not found


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("child", CHILDREN)
@settings(max_examples=8, deadline=None)
@given(a=st.floats(0, 1, exclude_max=True), b=st.floats(0, 1))
def test_any_batch_references_only_rows_inside_its_spans(
    name: str, child: str, a: float, b: float
) -> None:
    total = SPECS[name].count(child)
    start = int(a * total)
    stop = max(start + 1, min(total, start + 1 + int(b * total)))
    outside = _references_outside(name, child, start, stop)
    assert all(v <= 0 for v in outside.values()), (start, stop, outside)


def test_a_transaction_batch_waits_for_its_accounts_only() -> None:
    spec = golden_spec(
        counts={**GOLDEN_COUNTS, "bank_account": 75_000, "financial_transaction": 1_000_000}
    )
    assert parent_spans(spec, "financial_transaction", "bank_account", 500_000, 510_000) == [
        (37_500, 38_250)
    ]
    assert parent_spans(spec, "address", "customer", 0, 10) == [(0, 10)]
    assert parent_spans(spec, "installment", "loan", 6, 18) == [(1, 3)]


@given(start=st.integers(0, 10**7), length=st.integers(1, 10**6), n=st.integers(1, 10**6))
def test_modulo_spans_are_exactly_the_residues(start: int, length: int, n: int) -> None:
    spans = modulo([(start, start + length)], n)
    covered = sum(hi - lo for lo, hi in spans)
    assert covered == min(length, n)
    for i in (start, start + length - 1, start + length // 2):
        assert _inside(i % n, spans)
